"""Panellist nominations: people put on proposals, their answers, and forgetting them.

The same name and affiliation within a guild, ignoring case and accents, is
the same person: a second nomination reuses the stored person and says so.
Gender and contact are personal data, shown to the secretariat only, and
never written into the audit trail; ``forget`` erases them for good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.proposals import (
    PARTICIPATION_DECISIONS,
    Decision,
    DecisionHook,
    label_of,
    load_proposal,
    target_of,
)
from bot.services.taxonomy import (
    ATTENDANCE,
    GENDERS,
    PARTICIPATION_STATUSES,
    REGIONS,
    ROLES,
    affiliation_key,
    match,
    match_key,
    person_key,
    stakeholder_groups,
    tidy,
    tidy_block,
)
from storage.audit import record_event
from storage.database import Database
from storage.panellists import (
    Participation,
    Person,
    add_participation,
    delete_person,
    find_people,
    get_or_create_person,
    get_participation,
    get_person,
    list_participations,
)
from storage.proposals import Proposal, proposals_by_ids

# Where a participation may go next.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "nominated": frozenset({"invited", "confirmed", "declined", "withdrawn"}),
    "invited": frozenset({"confirmed", "declined", "withdrawn"}),
    "confirmed": frozenset({"declined", "withdrawn"}),
    "declined": frozenset({"invited", "confirmed"}),
    "withdrawn": frozenset({"invited"}),
}
# People can be added to proposals in these statuses only.
OPEN_PROPOSALS: Final = frozenset({"submitted", "screened_out", "under_review", "accepted"})
# What the nominee may answer for themselves.
OWN_ANSWERS: Final = frozenset({"confirmed", "declined", "withdrawn"})
LIST_LIMIT: Final = 50

MAX_NAME = 100
MAX_AFFILIATION = 150
MAX_COUNTRY = 60
MAX_CONTACT = 200
MAX_RATIONALE = 1000


@dataclass(frozen=True)
class PanellistEntry:
    """A participation with its person and proposal, and whether personal data may show."""

    participation: Participation
    person: Person
    proposal: Proposal
    private: bool = False

    @property
    def label(self) -> str:
        """Return the proposal's display number."""
        return label_of(self.proposal)


@dataclass(frozen=True)
class Nomination:
    """A new nomination: who, where, whether the person was already known, whom to ask."""

    entry: PanellistEntry
    reused: bool
    ask_user_id: int | None  # the nominee's Discord account, to ask for confirmation


@dataclass(frozen=True)
class ParticipationChange:
    """A participation whose status changed, and who should hear of it."""

    entry: PanellistEntry
    before: str
    after: str
    ask_user_id: int | None  # invited: ask the nominee to confirm
    notify_user_id: int | None  # the proposer, unless they made the change
    effect: object | None = None  # what the decision hook said (balance before -> after)


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` erased."""

    person_id: int
    participations: int
    proposals: list[str]


def _text(value: str | None, limit: int, what: str, *, block: bool = False) -> str | None:
    cleaned = (tidy_block if block else tidy)(value)
    if len(cleaned) > limit:
        raise InvalidInput(
            f"The {what} can be at most {limit} characters (yours has {len(cleaned)})."
        )
    return cleaned or None


def check_participation_status(status: str) -> str:
    """Return ``status`` if it is a participation status, or raise InvalidInput."""
    key = status.strip().lower()
    if key not in PARTICIPATION_STATUSES:
        raise InvalidInput(
            f"`{tidy(status)[:30]}` is not a nomination status. "
            f"Use one of: {', '.join(PARTICIPATION_STATUSES)}."
        )
    return key


def _check_move(participation: Participation, status: str) -> None:
    if participation.status == status:
        raise Conflict(f"Nomination #{participation.id} is already {status}.")
    if status not in TRANSITIONS[participation.status]:
        options = ", ".join(sorted(TRANSITIONS[participation.status]))
        raise Conflict(
            f"Nomination #{participation.id} is {participation.status}: it can only become "
            f"{options}."
        )


def _apply(participation: Participation, status: str, now: datetime) -> None:
    participation.status = status
    # Confirmed implies agreed in principle; a refusal takes the agreement back.
    if status == "confirmed":
        participation.agreed_in_principle = True
    elif status in ("declined", "withdrawn"):
        participation.agreed_in_principle = False
    participation.updated_at = now


def _event(participation: Participation, person: Person) -> dict[str, Any]:
    """Return what the audit keeps of a participation: ids and roles, no personal data."""
    return {
        "participation": participation.id,
        "person": person.id,
        "role": participation.role,
        "attendance": participation.attendance,
        "status": participation.status,
    }


class PanellistService:
    """Nominate people, record their answers, list, show and forget them."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        on_decision: DecisionHook | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self.on_decision = on_decision

    async def _decided(
        self,
        session: Any,
        participation: Participation,
        proposal: Proposal,
        before: str,
        actor_id: int,
        now: datetime,
    ) -> object | None:
        """Ask the decision hook about a confirmation or a decline (None: no hook, no decision)."""
        if self.on_decision is None or participation.status not in PARTICIPATION_DECISIONS:
            return None
        assert participation.id is not None
        decision = Decision(
            "participation",
            participation.id,
            before,
            participation.status,
            participation.guild_id,
            actor_id,
            target_of(proposal),
            now,
        )
        return await self.on_decision(session, decision)

    async def nominate(
        self,
        actor: Actor,
        *,
        proposal_number: int,
        name: str,
        stakeholder_group: str,
        region: str,
        gender: str,
        role: str = "speaker",
        attendance: str = "onsite",
        affiliation: str | None = None,
        country: str | None = None,
        member_id: int | None = None,
        rationale: str | None = None,
        contact: str | None = None,
        developing_country: bool | None = None,
        first_time: bool | None = None,
        youth: bool | None = None,
    ) -> Nomination:
        """Put a person (new or known) on a proposal with status nominated.

        The three flags the IGF gives preference to are stored when given and
        left unknown otherwise: balance counts them as "not stated", never guessed.
        """
        settings = await self._config.get(actor.guild_id)
        clean_name = _text(name, MAX_NAME, "name")
        if clean_name is None:
            raise InvalidInput("Give the person's name.")
        values: dict[str, Any] = {
            "name": clean_name,
            "affiliation": _text(affiliation, MAX_AFFILIATION, "affiliation"),
            "stakeholder_group": match(
                stakeholder_group, stakeholder_groups(settings.rules), "stakeholder group"
            ),
            "region": match(region, REGIONS, "region"),
            "gender": match(gender, GENDERS, "gender"),
            "country": _text(country, MAX_COUNTRY, "country"),
            "user_id": member_id,
            "contact": _text(contact, MAX_CONTACT, "contact"),
            "developing_country": developing_country,
            "first_time": first_time,
            "youth": youth,
        }
        values["affiliation_key"] = affiliation_key(values["affiliation"])
        role = match_key(role, ROLES, "role")
        attendance = match_key(attendance, ATTENDANCE, "way of attending")
        rationale = _text(rationale, MAX_RATIONALE, "rationale", block=True)
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, proposal_number)
            if not (
                actor.is_mag
                or actor.can_act_as_secretariat
                or proposal.proposer_id == actor.user_id
            ):
                raise PermissionDenied(
                    f"Only MAG members, the secretariat and the proposer of {label_of(proposal)} "
                    "can nominate panellists for it."
                )
            if proposal.status not in OPEN_PROPOSALS:
                raise Conflict(
                    f"{label_of(proposal)} is {proposal.status.replace('_', ' ')}: "
                    "nobody can be added to it."
                )
            values["created_at"] = values["updated_at"] = now
            person, created = await get_or_create_person(
                session,
                guild_id=actor.guild_id,
                key=person_key(clean_name, values["affiliation"]),
                values=values,
            )
            if not created:
                # A known person keeps their stored details; only gaps are filled.
                # Only the secretariat may tie a known person to an account or a
                # contact: anyone else could take over that person's identity.
                gaps = ["country", "developing_country", "first_time", "youth"]
                if actor.can_act_as_secretariat:
                    gaps += ["contact", "user_id"]
                for name_ in gaps:
                    if getattr(person, name_) is None and values[name_] is not None:
                        setattr(person, name_, values[name_])
                        person.updated_at = now
            assert proposal.id is not None and person.id is not None
            participation = await add_participation(
                session,
                values={
                    "guild_id": actor.guild_id,
                    "proposal_id": proposal.id,
                    "person_id": person.id,
                    "role": role,
                    "attendance": attendance,
                    "status": "nominated",
                    "nominated_by": actor.user_id,
                    "rationale": rationale,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if participation is None:
                raise Conflict(
                    f"{tidy(person.name)} is already on {label_of(proposal)} as "
                    f"{ROLES[role].lower()}."
                )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="panellist.nominate",
                target=target_of(proposal),
                after={**_event(participation, person), "new_person": created},
                at=now,
            )
        entry = PanellistEntry(participation, person, proposal, actor.can_act_as_secretariat)
        return Nomination(entry=entry, reused=not created, ask_user_id=person.user_id)

    async def _entry(
        self, guild_id: int, participation_id: int, *, for_update: bool = False, session: Any = None
    ) -> tuple[Participation, Person, Proposal]:
        row = await get_participation(
            session, guild_id=guild_id, participation_id=participation_id, for_update=for_update
        )
        if row is None:
            raise NotFound(
                f"There is no nomination #{participation_id} here. `/panellist list` shows them."
            )
        return row

    async def set_status(
        self, actor: Actor, participation_id: int, status: str
    ) -> ParticipationChange:
        """Change a nomination's status (proposer, secretariat, or the nominee for themselves)."""
        status = check_participation_status(status)
        if status == "nominated":
            raise InvalidInput("A nomination cannot go back to nominated.")
        now = self._clock()
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(
                actor.guild_id, participation_id, for_update=True, session=session
            )
            own = pe.user_id == actor.user_id and status in OWN_ANSWERS
            if not (actor.can_act_as_secretariat or pr.proposer_id == actor.user_id or own):
                raise PermissionDenied(
                    f"Only the proposer of {label_of(pr)} or the secretariat can change this "
                    "nomination."
                )
            _check_move(pa, status)
            before = pa.status
            _apply(pa, status, now)
            if own:
                pa.consent = "given" if status == "confirmed" else "refused"
                pa.responded_at = now
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="panellist.status",
                target=target_of(pr),
                before={"status": before},
                after=_event(pa, pe),
                at=now,
            )
            effect = await self._decided(session, pa, pr, before, actor.user_id, now)
        if not (actor.is_mag or actor.can_act_as_secretariat):
            effect = None  # the balance effect can tell a nominee's gender
        entry = PanellistEntry(pa, pe, pr, actor.can_act_as_secretariat)
        ask = pe.user_id if status == "invited" and pe.user_id != actor.user_id else None
        notify = None if pr.proposer_id == actor.user_id else pr.proposer_id
        return ParticipationChange(entry, before, status, ask, notify, effect)

    async def respond(
        self, *, guild_id: int, user_id: int, participation_id: int, accept: bool
    ) -> ParticipationChange:
        """Record the nominee's own answer (the Confirm and Decline buttons) and their consent."""
        status = "confirmed" if accept else "declined"
        now = self._clock()
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(
                guild_id, participation_id, for_update=True, session=session
            )
            if pe.user_id != user_id:
                raise PermissionDenied("This invitation is addressed to someone else.")
            if pa.status == status:
                raise Conflict(f"You already {'confirmed' if accept else 'declined'} this one.")
            if status not in TRANSITIONS[pa.status]:
                raise Conflict(
                    f"This nomination is {pa.status} now, so it cannot be "
                    f"{'confirmed' if accept else 'declined'}. Ask the proposer."
                )
            before = pa.status
            _apply(pa, status, now)
            pa.consent = "given" if accept else "refused"
            pa.responded_at = now
            await record_event(
                session,
                guild_id=guild_id,
                actor_id=user_id,
                action="panellist.respond",
                target=target_of(pr),
                before={"status": before},
                after={**_event(pa, pe), "consent": pa.consent},
                at=now,
            )
            # The guardrail still runs and audits; the nominee is not shown the
            # programme's balance (it would reveal others' gender and groups).
            await self._decided(session, pa, pr, before, user_id, now)
        notify = None if pr.proposer_id == user_id else pr.proposer_id
        return ParticipationChange(PanellistEntry(pa, pe, pr), before, status, None, notify, None)

    async def list_entries(
        self, actor: Actor, *, proposal_number: int | None = None, status: str | None = None
    ) -> list[PanellistEntry]:
        """Return nominations, newest first: all for MAG and secretariat, else one's own."""
        status = check_participation_status(status) if status else None
        sees_all = actor.is_mag or actor.can_act_as_secretariat
        async with self._db.read() as session:
            proposal_id = None
            if proposal_number is not None:
                proposal = await load_proposal(session, actor.guild_id, proposal_number)
                proposal_id = proposal.id
            rows = await list_participations(
                session,
                guild_id=actor.guild_id,
                proposal_id=proposal_id,
                status=status,
                visible_to=None if sees_all else actor.user_id,
                limit=LIST_LIMIT,
            )
        private = actor.can_act_as_secretariat
        return [PanellistEntry(pa, pe, pr, private) for pa, pe, pr in rows]

    async def view(self, actor: Actor, participation_id: int) -> PanellistEntry:
        """Return one nomination, if this actor may see it."""
        async with self._db.read() as session:
            pa, pe, pr = await self._entry(actor.guild_id, participation_id, session=session)
        if not (
            actor.is_mag
            or actor.can_act_as_secretariat
            or pr.proposer_id == actor.user_id
            or pe.user_id == actor.user_id
        ):
            raise PermissionDenied(
                "Only MAG members, the secretariat, the proposer and the nominee can see this."
            )
        return PanellistEntry(pa, pe, pr, actor.can_act_as_secretariat)

    async def search_people(self, actor: Actor, text: str) -> list[Person]:
        """Return people whose name contains ``text`` (secretariat only; empty for others)."""
        if not actor.can_act_as_secretariat:
            return []
        async with self._db.read() as session:
            return await find_people(session, guild_id=actor.guild_id, text=tidy(text)[:100])

    async def forget(self, actor: Actor, person_id: int) -> Forgotten:
        """Erase a person's personal data and participations; the audit keeps only the fact."""
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            person = await get_person(session, guild_id=actor.guild_id, person_id=person_id)
            if person is None:
                raise NotFound(f"There is no person #{person_id} here (already forgotten?).")
            proposal_ids = await delete_person(
                session, guild_id=actor.guild_id, person_id=person_id
            )
            proposals = await proposals_by_ids(
                session, guild_id=actor.guild_id, ids=sorted(set(proposal_ids))
            )
            labels = [label_of(p) for p in sorted(proposals.values(), key=lambda p: p.number)]
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.forget",
                target=f"person:{person_id}",
                note=f"Personal data and {len(proposal_ids)} participation(s) erased.",
                at=now,
            )
        return Forgotten(person_id=person_id, participations=len(proposal_ids), proposals=labels)
