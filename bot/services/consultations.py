"""Open consultations: the secretariat's call, everyone's inputs, and who has been heard.

A consultation has 1–3 questions, an opening and a closing time, an audience
(anyone on the server, or one role) and a visibility for its inputs' texts
(public, anonymised, secretariat only); the counts are everyone's to see,
because who has been heard is the point. Its closing time is a deadline of
kind ``consultation``, created with it in one transaction, so its reminders
are the usual exactly-once ones, and those reminders name the stakeholder
groups and regions not heard yet (``chase_consultation``). The close itself
happens once, by the clock: ``tick`` sets ``closed_at`` and queues the
closing post in the outbox in one transaction, also after downtime.

The summary is the balance module's report over the inputs (an input is a
"seat", a submitter a "person"), so the same evenness, warnings and chart
apply ("No input from the Private Sector").
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, _, formats, ngettext, pgettext, speaking
from bot.services.auth import Actor, require_secretariat
from bot.services.balance import BalanceReport, Scope, make_report
from bot.services.balance.reports import redact
from bot.services.config import ConfigService, GuildSettings, check_timezone
from bot.services.deadlines import DeadlineService, parse_due
from bot.services.outbox import Chase
from bot.services.recurrence import to_utc
from bot.services.reminders import ChaseContext
from bot.services.sending import NOTICE, OutboxService
from bot.services.taxonomy import (
    GENDERS,
    REGIONS,
    UN_REGIONS,
    fold,
    match,
    stakeholder_groups,
    tidy,
    tidy_block,
)
from bot.services.text import Line, Typed, clean_line, parted, quoted, slot
from bot.services.visibility import hides_small_counts, min_count
from storage import consultations as store
from storage.audit import record_event
from storage.consultations import (
    ANONYMISED,
    PUBLIC,
    SECRETARIAT,
    VISIBILITIES,
    Consultation,
    ConsultationInput,
)
from storage.database import Database
from storage.outbox import NewItem, channel_lane, enqueue

log = logging.getLogger(__name__)

MAX_TITLE: Final = 200
MAX_QUESTION: Final = 100  # a form shows 100 characters of it (its placeholder)
MAX_QUESTIONS: Final = 3
MAX_ANSWER: Final = 4000
MAX_ORGANISATION: Final = 200
LISTED: Final = 10  # inputs shown in a summary (the export has them all)
CLOSE: Final = "consultation-close"
VISIBILITY_LABELS: Final = {
    PUBLIC: N_("public: the texts and who wrote them"),
    ANONYMISED: N_("anonymised: the texts, without who wrote them"),
    SECRETARIAT: N_("secretariat only: the texts; everyone sees the counts"),
}


@dataclass(frozen=True)
class ConsultationView:
    """A consultation as anyone may see it, with its counts."""

    number: int
    title: str
    questions: tuple[str, ...]
    opens_at: datetime
    closes_at: datetime
    zone: str
    audience_role_id: int | None
    visibility: str
    several: bool
    channel_id: int | None
    deadline_number: int | None
    closed: bool
    inputs: int = 0

    def is_open(self, now: datetime) -> bool:
        return not self.closed and self.opens_at <= now < self.closes_at


@dataclass(frozen=True)
class InputView:
    """One input as the reader may see it (``who`` None: not shown to them)."""

    number: int
    who: str | None  # "<@id>" or the name given for someone outside Discord
    on_behalf: bool
    organisation: str | None
    stakeholder_group: str
    region: str
    gender: str | None
    developing_country: bool | None
    youth: bool | None
    answers: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    mine: bool = False


@dataclass(frozen=True)
class Summary:
    """Who has been heard, in numbers, and the inputs the reader may read."""

    consultation: ConsultationView
    report: BalanceReport
    submitters: int
    unheard_groups: tuple[str, ...]
    unheard_regions: tuple[str, ...]
    inputs: tuple[InputView, ...]  # the latest LISTED the reader may read
    texts_shown: bool  # False: the texts are the secretariat's only


@dataclass(frozen=True)
class Attributes:
    """What a submitter says of themselves, checked against the server's vocabularies."""

    stakeholder_group: str
    region: str
    gender: str | None
    organisation: str | None


def on_behalf_key(name: str) -> str:
    """Return the submitter key of someone outside Discord: their name, folded and hashed."""
    return "p:" + hashlib.sha256(fold(name).encode()).hexdigest()[:32]


def view_of(row: Consultation, inputs: int = 0) -> ConsultationView:
    assert row.id is not None
    return ConsultationView(
        number=row.number,
        title=row.title,
        questions=tuple(row.questions),
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        zone=row.timezone,
        audience_role_id=row.audience_role_id,
        visibility=row.visibility,
        several=row.several,
        channel_id=row.channel_id,
        deadline_number=row.deadline_number,
        closed=row.closed_at is not None,
        inputs=inputs,
    )


def consultation_scope(number: int) -> Scope:
    """Return the balance scope of a consultation's inputs, in the current language."""
    return Scope(
        kind="consultation",
        title=_("Consultation #{number}: who has been heard", number=number),
        seats_phrase=_("inputs"),
        who=pgettext("nobody from", "input"),
        where="",
    )


def check_questions(questions: Sequence[str | None]) -> tuple[str, ...]:
    found = tuple(clean_line(q) for q in questions if q and clean_line(q))
    if not found:
        raise InvalidInput(_("Give the consultation at least one question."))
    if len(found) > MAX_QUESTIONS:
        raise InvalidInput(_("A consultation asks at most three questions."))
    for question in found:
        if len(question) > MAX_QUESTION:
            raise InvalidInput(
                _(
                    "Questions can be at most {limit} characters (one has {length}).",
                    limit=MAX_QUESTION,
                    length=len(question),
                )
            )
    return found


def check_visibility(text: str | None) -> str:
    value = (text or PUBLIC).strip().lower()
    if value not in VISIBILITIES:
        raise InvalidInput(
            _("Visibility must be one of {choices}.", choices=", ".join(VISIBILITIES))
        )
    return value


class ConsultationService:
    """Open consultations, take inputs, summarise who has been heard, close by the clock."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        deadlines: DeadlineService,
        outbox: OutboxService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._deadlines = deadlines
        self.outbox = outbox

    # -- the secretariat --------------------------------------------------------

    async def open(
        self,
        actor: Actor,
        *,
        title: str,
        questions: Sequence[str | None],
        closes: str,
        opens: str | None = None,
        timezone: str | None = None,
        audience_role_id: int | None = None,
        visibility: str | None = None,
        several: bool = False,
        channel_id: int | None = None,
        offsets: str | None = None,
    ) -> ConsultationView:
        """Open a consultation and its closing deadline (with reminders) in one transaction."""
        require_secretariat(actor)
        title = clean_line(title)
        if not title:
            raise InvalidInput(_("Give the consultation a title."))
        if len(title) > MAX_TITLE:
            raise InvalidInput(_("Titles can be at most {limit} characters.", limit=MAX_TITLE))
        asked = check_questions(questions)
        shown = check_visibility(visibility)
        settings = await self._config.get(actor.guild_id)
        zone_name = check_timezone(timezone) if timezone else settings.timezone
        zone = ZoneInfo(zone_name)
        now = self._clock()
        closes_at = to_utc(parse_due(closes), zone)
        opens_at = to_utc(parse_due(opens), zone) if opens else now
        if closes_at <= now:
            raise InvalidInput(_("The closing time has passed already: give a later one."))
        if opens_at >= closes_at:
            raise InvalidInput(_("The consultation must open before it closes."))
        # Its closing deadline: the reminders, and the check that they have a channel.
        new = await self._deadlines.prepare(
            actor,
            title=title,
            due=closes,
            timezone=zone_name,
            kind="consultation",
            offsets=offsets,
            channel_id=channel_id,
        )
        async with self._db.write() as session:
            number = await store.allocate_consultation_number(session, guild_id=actor.guild_id)
            # The deadline says which consultation closes: "Call for issues (consultation #3)".
            named = _("{title} (consultation #{number})", title=title, number=number)
            deadline = await self._deadlines.create_in(
                session, actor, dataclasses.replace(new, title=named[:MAX_TITLE])
            )
            row = Consultation(
                guild_id=actor.guild_id,
                number=number,
                title=title,
                questions=list(asked),
                opens_at=opens_at,
                closes_at=closes_at,
                timezone=zone_name,
                audience_role_id=audience_role_id,
                visibility=shown,
                several=several,
                channel_id=channel_id,
                deadline_number=deadline.number,
                created_by=actor.user_id,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="consultation.open",
                target=f"consultation:{number}",
                after={
                    "title": title,
                    "questions": list(asked),
                    "closes_at": closes_at.isoformat(),
                    "visibility": shown,
                },
                at=now,
            )
            view = view_of(row)
        self._deadlines.planned(deadline)
        return view

    async def listed(self, actor: Actor) -> list[ConsultationView]:
        async with self._db.read() as session:
            rows = await store.list_consultations(session, guild_id=actor.guild_id)
        return [view_of(row, count) for row, count in rows]

    async def get(self, actor: Actor, number: int) -> ConsultationView:
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            inputs = await store.count_inputs(session, consultation_id=row.id or 0)
        return view_of(row, inputs)

    @staticmethod
    async def _find(
        session: AsyncSession, guild_id: int, number: int, *, lock: bool = False
    ) -> Consultation:
        row = await store.get_consultation(session, guild_id=guild_id, number=number, lock=lock)
        if row is None:
            raise NotFound(
                _(
                    "There is no consultation #{number} on this server. "
                    "`/consultation list` shows them.",
                    number=number,
                )
            )
        return row

    # -- inputs -----------------------------------------------------------------

    def _check_can_answer(
        self, actor: Actor, row: Consultation, roles: Collection[int], now: datetime
    ) -> None:
        if row.closed_at is not None or now >= row.closes_at:
            raise Conflict(
                _(
                    "Consultation #{number} is closed: inputs are no longer taken.",
                    number=row.number,
                )
            )
        if now < row.opens_at:
            raise Conflict(
                _(
                    "Consultation #{number} opens <t:{when}:R>: come back then.",
                    number=row.number,
                    when=int(row.opens_at.timestamp()),
                )
            )
        if (
            row.audience_role_id is not None
            and row.audience_role_id not in roles
            and not actor.can_act_as_secretariat
        ):
            raise PermissionDenied(
                _(
                    "Consultation #{number} takes inputs from <@&{role}> only.",
                    number=row.number,
                    role=row.audience_role_id,
                )
            )

    def now(self) -> datetime:
        """Return the service's clock's time (what "open" is measured against)."""
        return self._clock()

    async def check_open(
        self, actor: Actor, number: int, roles: Collection[int] = (), *, on_behalf: bool = False
    ) -> ConsultationView:
        """Refuse before a form opens if the actor may not answer now; return the consultation."""
        if on_behalf:
            require_secretariat(actor)
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            self._check_can_answer(actor, row, roles, self._clock())
            if not row.several and not on_behalf:
                mine = await store.inputs_of(
                    session, consultation_id=row.id or 0, submitter_key=f"u:{actor.user_id}"
                )
                if mine:
                    raise Conflict(self._already(row.number, mine[0].number))
        return view_of(row)

    @staticmethod
    def _already(number: int, input_number: int) -> str:
        return _(
            "You gave an input to consultation #{number} already (input {input}). "
            "Change it with `/consultation edit`, or withdraw it with `/consultation withdraw`.",
            number=number,
            input=input_number,
        )

    def check_attributes(
        self,
        settings: GuildSettings,
        *,
        stakeholder_group: str,
        region: str,
        gender: str | None,
        organisation: str | None,
    ) -> Attributes:
        """Return what a submitter said of themselves, checked; raise InvalidInput."""
        group, where, said, org = self._attributes(
            settings,
            stakeholder_group=stakeholder_group,
            region=region,
            gender=gender,
            organisation=organisation,
        )
        return Attributes(group, where, said, org)

    @classmethod
    def _already_theirs(cls, number: int, input_number: int, name: str | None) -> str:
        if name is None:
            return cls._already(number, input_number)
        return _(
            "{name} has an input in consultation #{number} already (input {input}): "
            "change it with `/consultation edit`.",
            name=quoted(name, 100),
            number=number,
            input=input_number,
        )

    def _attributes(
        self,
        settings: GuildSettings,
        *,
        stakeholder_group: str,
        region: str,
        gender: str | None,
        organisation: str | None,
    ) -> tuple[str, str, str | None, str | None]:
        group = match(
            stakeholder_group, stakeholder_groups(settings.rules), N_("stakeholder group")
        )
        where = match(region, REGIONS, N_("region"))
        said = match(gender, GENDERS, N_("gender")) if gender else None
        org = tidy(organisation) or None
        if org is not None and len(org) > MAX_ORGANISATION:
            raise InvalidInput(
                _("Organisations can be at most {limit} characters.", limit=MAX_ORGANISATION)
            )
        return group, where, said, org

    @staticmethod
    def _answers(row: Consultation, answers: Sequence[str | None]) -> list[str]:
        given = [tidy_block(a) for a in answers][: len(row.questions)]
        given += [""] * (len(row.questions) - len(given))
        if not any(given):
            raise InvalidInput(_("Answer at least one question."))
        for text in given:
            if len(text) > MAX_ANSWER:
                raise InvalidInput(
                    _("Answers can be at most {limit} characters.", limit=MAX_ANSWER)
                )
        return given

    async def submit(
        self,
        actor: Actor,
        number: int,
        *,
        answers: Sequence[str | None],
        stakeholder_group: str,
        region: str,
        organisation: str | None = None,
        gender: str | None = None,
        developing_country: bool | None = None,
        youth: bool | None = None,
        roles: Collection[int] = (),
        submission_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> InputView:
        """Take an input; refuse (storing nothing) when it may not be taken.

        ``on_behalf_of``: the name of someone outside Discord, entered by the
        secretariat (marked so). The same form submitted twice is one input.
        """
        if on_behalf_of is not None:
            require_secretariat(actor)
            on_behalf_of = clean_line(on_behalf_of)
            if not on_behalf_of:
                raise InvalidInput(_("Give the name of the person the input is from."))
        settings = await self._config.get(actor.guild_id)
        group, where, said, org = self._attributes(
            settings,
            stakeholder_group=stakeholder_group,
            region=region,
            gender=gender,
            organisation=organisation,
        )
        now = self._clock()
        # Someone outside Discord is known by the name given: entered twice, one submitter.
        key = on_behalf_key(on_behalf_of) if on_behalf_of else f"u:{actor.user_id}"
        try:
            async with self._db.write() as session:
                row = await self._find(session, actor.guild_id, number, lock=True)
                assert row.id is not None
                if submission_key is not None:
                    same = await self._submitted(session, row.id, submission_key)
                    if same is not None:
                        return self._input_view(actor, row, same)
                self._check_can_answer(actor, row, roles, now)
                given = self._answers(row, answers)
                if not row.several:
                    mine = await store.inputs_of(session, consultation_id=row.id, submitter_key=key)
                    if mine:
                        raise Conflict(
                            self._already_theirs(
                                row.number, mine[0].number, mine[0].on_behalf_of or on_behalf_of
                            )
                        )
                entry = ConsultationInput(
                    guild_id=actor.guild_id,
                    consultation_id=row.id,
                    number=await store.next_input_number(session, consultation_id=row.id),
                    submitter_key=key,
                    single_key=None if row.several else key,
                    submission_key=submission_key,
                    user_id=None if on_behalf_of else actor.user_id,
                    on_behalf_of=on_behalf_of,
                    entered_by=actor.user_id if on_behalf_of else None,
                    organisation=org,
                    stakeholder_group=group,
                    region=where,
                    gender=said,
                    developing_country=developing_country,
                    youth=youth,
                    answers=given,
                    created_at=now,
                    updated_at=now,
                )
                session.add(entry)
                await session.flush()
                await record_event(
                    session,
                    guild_id=actor.guild_id,
                    actor_id=actor.user_id,
                    action="consultation.input",
                    target=f"consultation:{row.number}:input:{entry.number}",
                    after={
                        "stakeholder_group": group,
                        "region": where,
                        "on_behalf": bool(on_behalf_of),
                    },
                    at=now,
                )
                return self._input_view(actor, row, entry)
        except IntegrityError:
            # Two forms of the same person at the same moment: the other one was taken.
            async with self._db.read() as session:
                row = await self._find(session, actor.guild_id, number)
                if submission_key is not None:
                    same = await self._submitted(session, row.id or 0, submission_key)
                    if same is not None:
                        return self._input_view(actor, row, same)
                mine = await store.inputs_of(
                    session, consultation_id=row.id or 0, submitter_key=key
                )
            first = mine[0].number if mine else 0
            raise Conflict(self._already_theirs(number, first, on_behalf_of)) from None

    @staticmethod
    async def _submitted(
        session: AsyncSession, consultation_id: int, submission_key: str
    ) -> ConsultationInput | None:
        return await store.input_by_submission(
            session, consultation_id=consultation_id, submission_key=submission_key
        )

    async def _own(
        self, session: AsyncSession, actor: Actor, row: Consultation, input_number: int | None
    ) -> ConsultationInput:
        """Return the input ``actor`` may change: theirs, or one the secretariat entered."""
        assert row.id is not None
        if input_number is None:
            mine = await store.inputs_of(
                session, consultation_id=row.id, submitter_key=f"u:{actor.user_id}"
            )
            if not mine:
                raise NotFound(_("You have no input in consultation #{number}.", number=row.number))
            if len(mine) > 1:
                raise InvalidInput(
                    _(
                        "You gave several inputs: say which one with `input` ({numbers}).",
                        numbers=", ".join(str(m.number) for m in mine),
                    )
                )
            return mine[0]
        entry = await store.get_input(session, consultation_id=row.id, number=input_number)
        if entry is None or entry.withdrawn_at is not None:
            raise NotFound(
                _(
                    "Consultation #{number} has no input {input}.",
                    number=row.number,
                    input=input_number,
                )
            )
        if entry.user_id != actor.user_id and not (
            entry.on_behalf_of and actor.can_act_as_secretariat
        ):
            raise PermissionDenied(_("Only the person who gave an input can change it."))
        return entry

    async def current(
        self,
        actor: Actor,
        number: int,
        input_number: int | None = None,
        roles: Collection[int] = (),
    ) -> tuple[ConsultationView, InputView]:
        """Return the actor's own input (to fill the edit form), refusing if it can't change."""
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            entry = await self._own(session, actor, row, input_number)
            # Refused before the form opens, so that nobody types a change for nothing.
            self._check_can_answer(
                actor, row, roles if entry.on_behalf_of is None else (), self._clock()
            )
        return view_of(row), self._input_view(actor, row, entry)

    async def edit(
        self,
        actor: Actor,
        number: int,
        *,
        answers: Sequence[str | None],
        input_number: int | None = None,
        stakeholder_group: str | None = None,
        region: str | None = None,
        organisation: str | None = None,
        roles: Collection[int] = (),
    ) -> InputView:
        """Change one's input while the consultation is open."""
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            entry = await self._own(session, actor, row, input_number)
            self._check_can_answer(actor, row, roles if entry.on_behalf_of is None else (), now)
            group, where, _said, org = self._attributes(
                settings,
                stakeholder_group=stakeholder_group or entry.stakeholder_group,
                region=region or entry.region,
                gender=None,
                organisation=organisation if organisation is not None else entry.organisation,
            )
            before = {"answers": list(entry.answers), "organisation": entry.organisation}
            entry.answers = self._answers(row, answers)
            entry.stakeholder_group, entry.region, entry.organisation = group, where, org
            entry.updated_at = now
            session.add(entry)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="consultation.edit",
                target=f"consultation:{row.number}:input:{entry.number}",
                before=before,
                after={"answers": list(entry.answers), "organisation": entry.organisation},
                at=now,
            )
            return self._input_view(actor, row, entry)

    async def withdraw(
        self, actor: Actor, number: int, input_number: int | None = None
    ) -> InputView:
        """Withdraw one's input while the consultation is open (it no longer counts)."""
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            entry = await self._own(session, actor, row, input_number)
            if row.closed_at is not None or now >= row.closes_at:
                raise Conflict(
                    _(
                        "Consultation #{number} is closed: its inputs stay as they are.",
                        number=number,
                    )
                )
            entry.withdrawn_at = now
            entry.single_key = None  # they may give a new one
            session.add(entry)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="consultation.withdraw",
                target=f"consultation:{row.number}:input:{entry.number}",
                at=now,
            )
            return self._input_view(actor, row, entry)

    # -- reading ----------------------------------------------------------------

    @staticmethod
    def _texts_shown(actor: Actor, row: Consultation) -> bool:
        return actor.can_act_as_secretariat or row.visibility != SECRETARIAT

    @staticmethod
    def _input_view(actor: Actor, row: Consultation, entry: ConsultationInput) -> InputView:
        mine = entry.user_id == actor.user_id
        named = actor.can_act_as_secretariat or row.visibility == PUBLIC or mine
        who: str | None = None
        if named:
            who = entry.on_behalf_of if entry.on_behalf_of else f"<@{entry.user_id}>"
        personal = actor.can_act_as_secretariat or mine
        return InputView(
            number=entry.number,
            who=who,
            on_behalf=entry.on_behalf_of is not None,
            organisation=entry.organisation if named else None,
            stakeholder_group=entry.stakeholder_group,
            region=entry.region,
            gender=entry.gender if personal else None,
            developing_country=entry.developing_country if personal else None,
            youth=entry.youth if personal else None,
            answers=tuple(entry.answers),
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            mine=mine,
        )

    async def summary(self, actor: Actor, number: int) -> Summary:
        """Return who has been heard: counts, shares, warnings, and the inputs one may read."""
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            assert row.id is not None
            counts = await store.input_counts(session, consultation_id=row.id)
            texts = self._texts_shown(actor, row)
            latest: Sequence[ConsultationInput] = []
            if texts:
                latest = await store.inputs_of(
                    session, consultation_id=row.id, limit=LISTED, latest=True
                )
        report = make_report(
            counts,
            consultation_scope(row.number),
            settings.rules,
            dimensions=store.INPUT_DIMENSIONS,
        )
        if hides_small_counts(actor):
            report = redact(report, min_count(settings.rules))
        heard = counts.by_dimension
        groups = stakeholder_groups(settings.rules)
        unheard_groups = tuple(g for g in groups if g not in heard.get("stakeholder_group", {}))
        unheard_regions = tuple(r for r in UN_REGIONS if r not in heard.get("region", {}))
        shown = tuple(self._input_view(actor, row, e) for e in latest)
        return Summary(
            consultation=view_of(row, counts.total.seats),
            report=report,
            submitters=counts.total.people,
            unheard_groups=unheard_groups,
            unheard_regions=unheard_regions,
            inputs=shown,
            texts_shown=texts,
        )

    async def export(self, actor: Actor, number: int, fmt: str) -> tuple[str, bytes]:
        """Return every active input as CSV or JSON (secretariat): a file name and its bytes."""
        require_secretariat(actor)
        if fmt not in ("csv", "json"):
            raise InvalidInput(_("The format must be csv or json."))
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            entries = await store.inputs_of(session, consultation_id=row.id or 0)
        records = [export_record(row, entry) for entry in entries]
        name = f"consultation-{row.number}-inputs.{fmt}"
        if fmt == "json":
            body = {
                "consultation": {
                    "number": row.number,
                    "title": row.title,
                    "questions": list(row.questions),
                    "opens_at": row.opens_at.isoformat(),
                    "closes_at": row.closes_at.isoformat(),
                    "visibility": row.visibility,
                },
                "inputs": records,
            }
            return name, json.dumps(body, ensure_ascii=False, indent=2).encode()
        out = io.StringIO()
        columns = list(export_record(row, None))
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({k: _csv_cell(v) for k, v in record.items()})
        return name, out.getvalue().encode("utf-8-sig")

    # -- the clock ----------------------------------------------------------------

    async def tick(self, now: datetime) -> int:
        """Close the consultations whose time has come, once each; return how many."""
        closed = 0
        try:
            while True:
                async with self._db.write() as session:
                    due = await store.due_closes(session, now=now)
                    for row in due:
                        await self._close(session, row, now)
                    closed += len(due)
                if due:
                    self.outbox.queued(now)
                if len(due) < 100:
                    return closed
        except Exception:
            log.exception("closing consultations failed; the next tick tries again")
            return closed

    async def _close(self, session: AsyncSession, row: Consultation, now: datetime) -> None:
        assert row.id is not None
        row.closed_at = now
        session.add(row)
        settings = await self._config.get_in(session, row.guild_id)
        channel = row.channel_id or settings.channels["reminders"]
        if channel is None:
            log.warning(
                "consultation %s closed; guild %s has no channel to say so", row.id, row.guild_id
            )
            return
        counts = await store.input_counts(session, consultation_id=row.id)
        language = self._config.public_language(settings)
        with speaking(language):
            text = ngettext(
                "Consultation #{number} ({title}) is closed: {n} input from {submitters}. "
                "`/consultation summary number:{number}` shows who was heard.",
                "Consultation #{number} ({title}) is closed: {n} inputs from {submitters}. "
                "`/consultation summary number:{number}` shows who was heard.",
                counts.total.seats,
                number=row.number,
                title=quoted(row.title, 100),  # typed text, in a public post: no markup
                submitters=ngettext("{n} submitter", "{n} submitters", counts.total.people),
            )
        await enqueue(
            session,
            items=[
                NewItem(
                    guild_id=row.guild_id,
                    key=f"{CLOSE}:{row.id}",
                    kind=NOTICE,
                    lane=channel_lane(channel),
                    due_at=now,
                    payload={"text": text, "language": language, "plain": True},
                )
            ],
            now=now,
        )
        await record_event(
            session,
            guild_id=row.guild_id,
            actor_id=None,
            action="consultation.close",
            target=f"consultation:{row.number}",
            after={"inputs": counts.total.seats, "submitters": counts.total.people},
            at=now,
        )

    async def next_due(self) -> datetime | None:
        async with self._db.read() as session:
            return await store.next_close(session)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_record(row: Consultation, entry: ConsultationInput | None) -> dict[str, Any]:
    """Return one input as an export row (``entry`` None: the columns, empty)."""
    record: dict[str, Any] = {
        "input": entry.number if entry else None,
        "discord_user_id": entry.user_id if entry else None,
        "on_behalf_of": entry.on_behalf_of if entry else None,
        "entered_by": entry.entered_by if entry else None,
        "organisation": entry.organisation if entry else None,
        "stakeholder_group": entry.stakeholder_group if entry else None,
        "region": entry.region if entry else None,
        "gender": entry.gender if entry else None,
        "developing_country": entry.developing_country if entry else None,
        "youth": entry.youth if entry else None,
        "created_at": entry.created_at.isoformat() if entry else None,
        "updated_at": entry.updated_at.isoformat() if entry else None,
    }
    for index, _question in enumerate(row.questions, 1):
        record[f"answer_{index}"] = entry.answers[index - 1] if entry else None
    return record


async def chase_consultation(session: AsyncSession, context: ChaseContext) -> Chase | None:
    """Name the stakeholder groups and regions a consultation has not heard yet."""
    row = await store.consultation_of_deadline(
        session, guild_id=context.guild_id, deadline_number=context.deadline_number
    )
    if row is None or row.id is None:
        return None
    counts = await store.input_counts(session, consultation_id=row.id)
    heard = counts.by_dimension
    groups = [
        _(g)
        for g in stakeholder_groups(context.settings.rules)
        if g not in heard.get("stakeholder_group", {})
    ]
    regions = [_(r) for r in UN_REGIONS if r not in heard.get("region", {})]
    if not groups and not regions:
        return Chase(
            summary=ngettext(
                "{n} input so far, from every stakeholder group and region.",
                "{n} inputs so far, from every stakeholder group and region.",
                counts.total.seats,
            )
        )
    lines: list[Line] = []
    # A server may add stakeholder groups of its own: typed names, shown safely.
    if groups:
        text = _("Stakeholder groups not heard yet: {names}", names=slot("names"))
        lines.append(parted(text, names=Typed(formats.joined(groups), 500)))
    if regions:
        lines.append(_("Regions not heard yet: {names}", names=formats.joined(regions)))
    return Chase(
        summary=ngettext(
            "{n} input so far to consultation #{number}. Not heard yet:",
            "{n} inputs so far to consultation #{number}. Not heard yet:",
            counts.total.seats,
            number=row.number,
        ),
        lines=tuple(lines),
    )
