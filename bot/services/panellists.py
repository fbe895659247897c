"""Panellist nominations: people put on proposals, their own answers, and forgetting them.

A nomination is a claim: what the nominator typed about someone else (their
Discord account, a contact, their details) is kept as such and never becomes
a fact by itself. The same name and affiliation within a guild, ignoring
case and accents, is the same person record; a second nomination reuses it
and anything it claims differently is flagged to the secretariat
(``IdentityFlag``) instead of overwriting or being dropped.

The nominee's answer is theirs alone. The invitation goes to the account the
nominator named for *this* nomination (or, when none is named, to the account
confirmed as the person through someone else's invitation or by the
secretariat); only that account can answer it, and its Confirm is what binds
a person record to an account. Organisers (the proposer, the secretariat)
invite, remove and restore; they never answer for the nominee. The
secretariat may record an answer given outside Discord, marked as such.

A nomination's ``status`` follows from those facts (``status_of``): removed
by the organisers -> withdrawn; the nominee agreed -> confirmed, refused ->
declined; an invitation went out -> invited; else nominated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, _, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.proposals import (
    PARTICIPATION_DECISIONS,
    Decision,
    DecisionHook,
    ProposalRef,
    label_of,
    load_proposal,
    proposer_to_tell,
    ref_of,
    status_label,
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
    participation_label,
    person_key,
    stakeholder_groups,
    tidy,
    tidy_block,
)
from bot.services.text import quoted
from bot.services.visibility import (
    BLIND,
    LINK_INVITATION,
    LINK_OWN,
    Nominee,
    nominee,
    nominee_account,
    reviews_blind,
    sees_entry,
    sees_personal,
)
from storage import outbox as outbox_store
from storage.audit import record_event
from storage.database import Database
from storage.panellists import (
    IdentityFlag,
    Participation,
    Person,
    add_flag,
    add_participation,
    delete_person,
    find_people,
    get_or_create_person,
    get_participation,
    get_person,
    invitations_since,
    is_blocked,
    list_participations,
    participations_of,
    set_blocked,
)
from storage.profiles import get_member
from storage.proposals import Proposal, proposals_by_ids

# People can be added to proposals in these statuses only.
OPEN_PROPOSALS: Final = frozenset(
    {
        "submitted",
        "screened_out",
        "under_review",
        "accepted",
        "conditional",
        "waitlisted",
    }
)
# A nominee can answer while the proposal is in one of these.
ANSWERABLE: Final = OPEN_PROPOSALS
LIST_LIMIT: Final = 50
# The details a nomination states about a person, compared with the record.
DETAILS: Final = ("stakeholder_group", "region", "gender", "country")

MAX_NAME = 100
MAX_AFFILIATION = 150
MAX_COUNTRY = 60
MAX_CONTACT = 200
MAX_RATIONALE = 1000
MAX_NOTE = 300


def status_of(participation: Participation) -> str:
    """Return the status that follows from a nomination's facts (see the module doc)."""
    if participation.removed_at is not None:
        return "withdrawn"
    if participation.consent == "given":
        return "confirmed"
    if participation.consent == "refused":
        return "declined"
    if participation.invited_at is not None:
        return "invited"
    return "nominated"


def settle(participation: Participation, now: datetime) -> None:
    """Set a nomination's status (and agreement) from its facts."""
    participation.status = status_of(participation)
    participation.agreed_in_principle = participation.status == "confirmed"
    participation.updated_at = now


@dataclass(frozen=True)
class PanellistEntry:
    """A nomination as the reader may see it, with its proposal."""

    nominee: Nominee
    proposal: ProposalRef

    @property
    def label(self) -> str:
        """Return the proposal's display number."""
        return self.proposal.label


def _too_soon(hours: int) -> str:
    return ngettext(
        "their invitation was sent less than {n} hours ago",
        "their invitation was sent less than {n} hours ago",
        hours,
    )


@dataclass(frozen=True)
class Invitation:
    """Whom to send a nomination's invitation to, or why it is not sent."""

    user_id: int | None
    reason: str | None = None  # when user_id is None: why nobody is asked
    # The invited account has a MAG profile: confirming makes a conflict that counts.
    mag_member: bool = False
    # No account, but an email invitation was queued (bot.services.email).
    emailed: bool = False

    @property
    def sent(self) -> bool:
        """Return whether there is someone to ask."""
        return self.user_id is not None


@dataclass(frozen=True)
class Nomination:
    """A new nomination: who, where, whether the person was already known, whom to ask."""

    entry: PanellistEntry
    reused: bool
    invitation: Invitation
    flagged: int = 0  # claims that differ from the record, sent to the secretariat


@dataclass(frozen=True)
class ParticipationChange:
    """A nomination whose status changed, and who should hear of it."""

    entry: PanellistEntry
    before: str
    after: str
    invitation: Invitation | None  # an invitation to send (organisers inviting)
    notify_user_id: int | None  # the proposer, unless they made the change
    effect: object | None = None  # what the decision hook said (balance before -> after)
    conflict_note: bool = False  # the nominee is a MAG member: agreeing is a conflict of interest


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` erased."""

    person_id: int
    participations: int
    proposals: list[str]


def _text(value: str | None, limit: int, too_long: str, *, block: bool = False) -> str | None:
    """Return typed text cleaned (None if empty); ``too_long`` (``N_``) refuses it if too long.

    ``too_long`` has the placeholders ``{limit}`` and ``{count}``.
    """
    cleaned = (tidy_block if block else tidy)(value)
    if len(cleaned) > limit:
        raise InvalidInput(_(too_long, limit=limit, count=len(cleaned)))
    return cleaned or None


def check_participation_status(status: str) -> str:
    """Return ``status`` if it is a participation status, or raise InvalidInput."""
    key = status.strip().lower()
    if key not in PARTICIPATION_STATUSES:
        raise InvalidInput(
            _(
                "{status} is not a nomination status. Use one of: {statuses}.",
                status=quoted(status, 30),
                statuses=", ".join(PARTICIPATION_STATUSES),
            )
        )
    return key


def _event(participation: Participation, person: Person) -> dict[str, Any]:
    """Return what the audit keeps of a participation: ids and roles, no personal data."""
    return {
        "participation": participation.id,
        "person": person.id,
        "role": participation.role,
        "attendance": participation.attendance,
        "status": participation.status,
    }


def _differences(person: Person, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the stated details that differ from the record (gaps are not differences)."""
    return {
        name: values[name]
        for name in DETAILS
        if values.get(name) is not None
        and getattr(person, name) is not None
        and values[name] != getattr(person, name)
    }


class PanellistService:
    """Nominate people, invite them, record their answers, list, show and forget them."""

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
        # Queues an email invitation in the caller's transaction; returns the address
        # (None: no address). Set by ``EmailService.use`` when email is configured.
        self.email_invite: (
            Callable[[AsyncSession, Participation, Person, datetime], Awaitable[str | None]] | None
        ) = None

    # -- helpers ---------------------------------------------------------------

    async def _decided(
        self,
        session: AsyncSession,
        participation: Participation,
        proposal: Proposal,
        before: str,
        actor_id: int | None,
        now: datetime,
    ) -> object | None:
        """Ask the decision hook about a confirmation or a decline (None: no hook, no decision)."""
        if self.on_decision is None or participation.status not in PARTICIPATION_DECISIONS:
            return None
        if participation.status == before:
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

    async def _entry(
        self, session: AsyncSession, guild_id: int, participation_id: int, *, for_update: bool
    ) -> tuple[Participation, Person, Proposal]:
        row = await get_participation(
            session, guild_id=guild_id, participation_id=participation_id, for_update=for_update
        )
        if row is None:
            raise NotFound(
                _(
                    "There is no nomination #{id} here. `/panellist list` shows them.",
                    id=participation_id,
                )
            )
        return row

    async def _invite(
        self,
        session: AsyncSession,
        participation: Participation,
        person: Person,
        now: datetime,
        *,
        resend: bool,
    ) -> Invitation:
        """Decide whom to invite for a nomination, within the limits; record it if anyone."""
        pa = participation
        user_id = nominee_account(pa, person)
        if user_id is None and self.email_invite is not None and pa.consent is None:
            settings = await self._config.get(pa.guild_id)
            hours = int(settings.rule("invitations.resend_hours"))
            if (
                resend
                and pa.invited_at is not None
                and now - pa.invited_at < timedelta(hours=hours)
            ):
                return Invitation(None, _too_soon(hours))
            address = await self.email_invite(session, pa, person, now)
            if address is not None:
                pa.invited_at = now
                pa.invitations += 1
                return Invitation(None, _("they were invited by email"), emailed=True)
        if user_id is None:
            return Invitation(
                None,
                _(
                    "no Discord account is known for them: nominate with `member:`, "
                    "or ask the secretariat to record their answer"
                ),
            )
        if pa.consent is not None:
            return Invitation(None, _("they have already answered"))
        if await is_blocked(session, guild_id=pa.guild_id, user_id=user_id):
            return Invitation(None, _("they asked this server not to send them invitations"))
        settings = await self._config.get(pa.guild_id)
        hours = int(settings.rule("invitations.resend_hours"))
        spacing = timedelta(hours=hours)
        if resend and pa.invited_at is not None and now - pa.invited_at < spacing:
            return Invitation(None, _too_soon(hours))
        per_day = int(settings.rule("invitations.per_day"))
        recent = await invitations_since(
            session, guild_id=pa.guild_id, user_id=user_id, since=now - timedelta(days=1)
        )
        if per_day and recent >= per_day:
            return Invitation(
                None,
                ngettext(
                    "they already got {n} invitations from this server today (the limit)",
                    "they already got {n} invitations from this server today (the limit)",
                    recent,
                ),
            )
        pa.invited_user_id = user_id  # not ``invitee_id``: that stays the nominator's claim
        pa.invited_at = now
        pa.invitations += 1
        profile = await get_member(session, guild_id=pa.guild_id, user_id=user_id)
        return Invitation(user_id, mag_member=profile is not None)

    # -- nominating --------------------------------------------------------------

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
        attendance: str | None = None,
        affiliation: str | None = None,
        country: str | None = None,
        member_id: int | None = None,
        rationale: str | None = None,
        contact: str | None = None,
        developing_country: bool | None = None,
        first_time: bool | None = None,
        youth: bool | None = None,
    ) -> Nomination:
        """Put a person (new or known) on a proposal and invite them if an account is known.

        What is typed about the person is a claim: a new person record takes
        the stated details; a known one keeps its own, and what differs is
        flagged to the secretariat. The named account (``member_id``) and the
        contact stay on this nomination until the person or the secretariat
        confirms them. The three flags the IGF gives preference to are stored
        when given and left unknown otherwise ("not stated", never guessed).
        """
        settings = await self._config.get(actor.guild_id)
        clean_name = _text(
            name, MAX_NAME, N_("The name can be at most {limit} characters (yours has {count}).")
        )
        if clean_name is None:
            raise InvalidInput(_("Give the person's name."))
        values: dict[str, Any] = {
            "name": clean_name,
            "affiliation": _text(
                affiliation,
                MAX_AFFILIATION,
                N_("The affiliation can be at most {limit} characters (yours has {count})."),
            ),
            "stakeholder_group": match(
                stakeholder_group, stakeholder_groups(settings.rules), N_("stakeholder group")
            ),
            "region": match(region, REGIONS, N_("region")),
            "gender": match(gender, GENDERS, N_("gender")),
            "country": _text(
                country,
                MAX_COUNTRY,
                N_("The country can be at most {limit} characters (yours has {count})."),
            ),
            "developing_country": developing_country,
            "first_time": first_time,
            "youth": youth,
        }
        values["affiliation_key"] = affiliation_key(values["affiliation"])
        claimed_contact = _text(
            contact,
            MAX_CONTACT,
            N_("The contact can be at most {limit} characters (yours has {count})."),
        )
        role = match_key(role, ROLES, N_("role"))
        way = match_key(attendance, ATTENDANCE, N_("way of attending")) if attendance else None
        rationale = _text(
            rationale,
            MAX_RATIONALE,
            N_("The rationale can be at most {limit} characters (yours has {count})."),
            block=True,
        )
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, proposal_number)
            if not (
                actor.is_mag
                or actor.can_act_as_secretariat
                or proposal.proposer_id == actor.user_id
            ):
                raise PermissionDenied(
                    _(
                        "Only MAG members, the secretariat and the proposer of {label} "
                        "can nominate panellists for it.",
                        label=label_of(proposal),
                    )
                )
            if proposal.status not in OPEN_PROPOSALS:
                raise Conflict(
                    _(
                        "{label} is {status}: nobody can be added to it.",
                        label=label_of(proposal),
                        status=status_label(proposal.status),
                    )
                )
            person, created = await get_or_create_person(
                session,
                guild_id=actor.guild_id,
                key=person_key(clean_name, values["affiliation"]),
                values={**values, "created_at": now, "updated_at": now},
            )
            assert proposal.id is not None and person.id is not None
            participation = await add_participation(
                session,
                values={
                    "guild_id": actor.guild_id,
                    "proposal_id": proposal.id,
                    "person_id": person.id,
                    "role": role,
                    "attendance": way,
                    "status": "nominated",
                    "nominated_by": actor.user_id,
                    "rationale": rationale,
                    "invitee_id": member_id,
                    "contact": claimed_contact,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if participation is None:
                raise Conflict(
                    _(
                        "{name} is already on {label} as {role}.",
                        name=quoted(person.name, 100),
                        label=label_of(proposal),
                        role=_(ROLES[role]).lower(),
                    )
                )
            flagged = 0
            if not created:
                # A known person keeps their record; unknown facts are filled in.
                for name_ in ("country", "developing_country", "first_time", "youth"):
                    if getattr(person, name_) is None and values[name_] is not None:
                        setattr(person, name_, values[name_])
                        person.updated_at = now
                flagged = await self._flag_claims(
                    session, actor, person, participation, values, member_id, now
                )
            invitation = await self._invite(session, participation, person, now, resend=False)
            settle(participation, now)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="panellist.nominate",
                target=target_of(proposal),
                after={
                    **_event(participation, person),
                    "new_person": created,
                    "invited": invitation.sent,
                    "flags": flagged,
                },
                at=now,
            )
        entry = PanellistEntry(nominee(actor, participation, person), ref_of(proposal))
        return Nomination(entry=entry, reused=not created, invitation=invitation, flagged=flagged)

    async def _flag_claims(
        self,
        session: AsyncSession,
        actor: Actor,
        person: Person,
        participation: Participation,
        values: Mapping[str, Any],
        member_id: int | None,
        now: datetime,
    ) -> int:
        """Flag what a nomination claims differently from the person's record; return how many."""
        assert person.id is not None
        flags = []
        differences = _differences(person, values)
        if differences:
            flags.append(("details", differences))
        if member_id is not None and person.user_id is not None and member_id != person.user_id:
            flags.append(("account", {"user_id": member_id}))
        for kind, claimed in flags:
            await add_flag(
                session,
                flag=IdentityFlag(
                    guild_id=person.guild_id,
                    person_id=person.id,
                    participation_id=participation.id,
                    kind=kind,
                    claimed=claimed,
                    raised_by=actor.user_id,
                    created_at=now,
                ),
            )
        return len(flags)

    # -- organisers: invite, remove, restore ----------------------------------------

    async def set_status(
        self, actor: Actor, participation_id: int, status: str
    ) -> ParticipationChange:
        """Move a nomination as its organisers, or answer it as its nominee.

        Organisers (the proposer, the secretariat): ``invited`` sends (or
        sends again) the invitation, or puts back a removed nomination;
        ``withdrawn`` takes it off the session. The nominee: ``confirmed`` or
        ``declined`` (``withdrawn`` from them is a decline). Nobody else, and
        never an organiser answering for the nominee.
        """
        status = check_participation_status(status)
        if status == "nominated":
            raise InvalidInput(_("A nomination cannot go back to nominated."))
        async with self._db.read() as session:
            pa, pe, pr = await self._entry(
                session, actor.guild_id, participation_id, for_update=False
            )
        organiser = actor.can_act_as_secretariat or pr.proposer_id == actor.user_id
        own = actor.user_id in _answering_accounts(pa, pe)
        if status in ("confirmed", "declined") or (status == "withdrawn" and own and not organiser):
            if own:
                return await self.respond(
                    guild_id=actor.guild_id,
                    user_id=actor.user_id,
                    participation_id=participation_id,
                    accept=status == "confirmed",
                )
            if organiser:
                raise PermissionDenied(
                    _(
                        "Only the nominee answers for themselves. If they answered outside "
                        "Discord, the secretariat can record it with `/panellist answer`."
                    )
                )
        if not organiser:
            raise PermissionDenied(
                _(
                    "Only the proposer of {label} or the secretariat can change this nomination.",
                    label=label_of(pr),
                )
            )
        now = self._clock()
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(
                session, actor.guild_id, participation_id, for_update=True
            )
            before = pa.status
            invitation: Invitation | None = None
            if status == "withdrawn":
                if pa.removed_at is not None:
                    raise Conflict(_("Nomination #{id} is already withdrawn.", id=pa.id))
                pa.removed_at, pa.removed_by = now, actor.user_id
            else:  # invited: put back, and invite when they have not answered
                if pr.status not in OPEN_PROPOSALS:
                    raise Conflict(
                        _(
                            "{label} is {status}: nobody can be invited to it.",
                            label=label_of(pr),
                            status=status_label(pr.status),
                        )
                    )
                restored = pa.removed_at is not None
                if pa.consent == "refused":
                    raise Conflict(
                        _(
                            "Nomination #{id} was declined by the nominee: only they can change "
                            "their answer.",
                            id=pa.id,
                        )
                    )
                pa.removed_at = pa.removed_by = None
                if pa.consent is None:
                    invitation = await self._invite(session, pa, pe, now, resend=True)
                    if not (invitation.sent or invitation.emailed or restored):
                        raise Conflict(
                            _("The invitation is not sent: {reason}.", reason=invitation.reason)
                        )
            settle(pa, now)
            if pa.status == before and invitation is None:
                raise Conflict(
                    _(
                        "Nomination #{id} is already {status}.",
                        id=pa.id,
                        status=participation_label(before),
                    )
                )
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
            effect = None  # the balance effect is for those who weigh the programme
        elif not sees_personal(actor) and hasattr(effect, "without_sensitive"):
            # The hook's effect (balance's BalanceEffect) would tell the nominee's gender.
            effect = effect.without_sensitive()
        entry = PanellistEntry(nominee(actor, pa, pe), ref_of(pr))
        notify = proposer_to_tell(pr, actor.user_id)
        return ParticipationChange(entry, before, pa.status, invitation, notify, effect)

    # -- nominees: their own answer ------------------------------------------------

    async def respond(
        self, *, guild_id: int, user_id: int, participation_id: int, accept: bool
    ) -> ParticipationChange:
        """Record the nominee's own answer (their buttons or command); it binds their account.

        Only the account the invitation went to (or the one confirmed as the
        person) may answer. A Confirm links the person record to that account
        when it has none; when it is linked to another account, the answer
        still counts for this nomination and the clash is flagged.
        """
        now = self._clock()
        conflict_note = False
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(session, guild_id, participation_id, for_update=True)
            if user_id not in _answering_accounts(pa, pe):
                raise PermissionDenied(_("This invitation is addressed to someone else."))
            if pr.status not in ANSWERABLE:
                raise Conflict(
                    _(
                        "{label} is {status}: there is nothing to answer any more.",
                        label=label_of(pr),
                        status=status_label(pr.status),
                    )
                )
            if pa.removed_at is not None:
                raise Conflict(
                    _(
                        "The organisers took this nomination off the session: there is nothing "
                        "to answer."
                    )
                )
            wanted = "given" if accept else "refused"
            if pa.consent == wanted and pa.answered_by == user_id:
                raise Conflict(
                    _("You already confirmed this one.")
                    if accept
                    else _("You already declined this one.")
                )
            before = pa.status
            pa.consent = wanted
            pa.answered_by = user_id
            pa.answer_source = "discord"
            pa.answer_note = None
            pa.responded_at = now
            if accept:
                await self._bind(session, pe, pa, user_id, now)
            settle(pa, now)
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
            if accept:
                profile = await get_member(session, guild_id=guild_id, user_id=user_id)
                conflict_note = profile is not None
        reader = Actor(guild_id=guild_id, user_id=user_id)
        notify = proposer_to_tell(pr, user_id)
        return ParticipationChange(
            PanellistEntry(nominee(reader, pa, pe), ref_of(pr)),
            before,
            pa.status,
            None,
            notify,
            None,
            conflict_note,
        )

    async def _bind(
        self, session: AsyncSession, person: Person, pa: Participation, user_id: int, now: datetime
    ) -> None:
        """Link the person to the confirming account, or flag a second account."""
        assert person.id is not None
        if person.user_id is None:
            person.user_id = user_id
            own = pa.nominated_by == user_id
            person.link_source = LINK_OWN if own else LINK_INVITATION
            if person.details_source == "nominator" and not own:
                # Confirming agrees to what the invitation showed (name,
                # affiliation, group, region), nothing more; and someone who
                # nominated "themselves" confirms only what they typed.
                person.details_source = "invitee"
            person.updated_at = now
        elif person.user_id != user_id:
            await add_flag(
                session,
                flag=IdentityFlag(
                    guild_id=person.guild_id,
                    person_id=person.id,
                    participation_id=pa.id,
                    kind="account",
                    claimed={"user_id": user_id, "confirmed": True},
                    raised_by=user_id,
                    created_at=now,
                ),
            )

    async def dispute(
        self, *, guild_id: int, user_id: int, participation_id: int
    ) -> PanellistEntry:
        """Flag to the secretariat that the details about the nominee are wrong (their button)."""
        now = self._clock()
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(session, guild_id, participation_id, for_update=True)
            if user_id not in _answering_accounts(pa, pe):
                raise PermissionDenied(_("This invitation is addressed to someone else."))
            assert pe.id is not None
            await add_flag(
                session,
                flag=IdentityFlag(
                    guild_id=guild_id,
                    person_id=pe.id,
                    participation_id=pa.id,
                    kind="disputed",
                    claimed={"user_id": user_id},
                    raised_by=user_id,
                    created_at=now,
                ),
            )
            await record_event(
                session,
                guild_id=guild_id,
                actor_id=user_id,
                action="panellist.dispute",
                target=target_of(pr),
                after={"participation": pa.id, "person": pe.id},
                at=now,
            )
        reader = Actor(guild_id=guild_id, user_id=user_id)
        return PanellistEntry(nominee(reader, pa, pe), ref_of(pr))

    async def set_invitations(self, *, guild_id: int, user_id: int, allowed: bool) -> bool:
        """Stop (or allow again) invitations to one's own account; return whether it changed."""
        now = self._clock()
        async with self._db.write() as session:
            changed = await set_blocked(
                session, guild_id=guild_id, user_id=user_id, blocked=not allowed, at=now
            )
            if changed:
                await record_event(
                    session,
                    guild_id=guild_id,
                    actor_id=user_id,
                    action="panellist.invitations",
                    target=f"user:{user_id}",
                    after={"allowed": allowed},
                    at=now,
                )
        return changed

    async def record_answer(
        self, actor: Actor, participation_id: int, *, accept: bool, note: str
    ) -> ParticipationChange:
        """Record an answer the nominee gave outside Discord (secretariat), marked as such."""
        require_secretariat(actor)
        text = _text(
            note, MAX_NOTE, N_("The note can be at most {limit} characters (yours has {count}).")
        )
        if text is None:
            raise InvalidInput(
                _("Say how and when they answered in `note:` (for example: by email, 3 May).")
            )
        now = self._clock()
        async with self._db.write() as session:
            pa, pe, pr = await self._entry(
                session, actor.guild_id, participation_id, for_update=True
            )
            if pr.status not in ANSWERABLE:
                raise Conflict(
                    _(
                        "{label} is {status}: there is nothing to answer any more.",
                        label=label_of(pr),
                        status=status_label(pr.status),
                    )
                )
            if pa.removed_at is not None:
                raise Conflict(_("Nomination #{id} is withdrawn: put it back first.", id=pa.id))
            if pa.answer_source == "email" and pa.consent is not None:
                # Their own answer on the consent page (bot.services.email) stands too.
                raise Conflict(
                    _(
                        "The nominee answered nomination #{id} themselves on the consent page "
                        "of their email: their answer stands.",
                        id=pa.id,
                    )
                )
            if pa.answer_source == "discord" and pa.consent is not None:
                if pa.consent == "given":
                    stands = _(
                        "The nominee answered nomination #{id} themselves on Discord "
                        "(confirmed): their answer stands, and only they can change it. If that "
                        "account is not the person, correct the link with `/person link`: that "
                        "voids its answers.",
                        id=pa.id,
                    )
                else:
                    stands = _(
                        "The nominee answered nomination #{id} themselves on Discord "
                        "(declined): their answer stands, and only they can change it. If that "
                        "account is not the person, correct the link with `/person link`: that "
                        "voids its answers.",
                        id=pa.id,
                    )
                raise Conflict(stands)
            before = pa.status
            pa.consent = "given" if accept else "refused"
            pa.answered_by = None
            pa.answer_source = "secretariat"
            pa.answer_note = text
            pa.responded_at = now
            settle(pa, now)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="panellist.answer",
                target=target_of(pr),
                before={"status": before},
                after={**_event(pa, pe), "consent": pa.consent, "source": "secretariat"},
                note=text,
                at=now,
            )
            effect = await self._decided(session, pa, pr, before, actor.user_id, now)
        notify = proposer_to_tell(pr, actor.user_id)
        entry = PanellistEntry(nominee(actor, pa, pe), ref_of(pr))
        return ParticipationChange(entry, before, pa.status, None, notify, effect)

    # -- reading -----------------------------------------------------------------

    async def list_entries(
        self, actor: Actor, *, proposal_number: int | None = None, status: str | None = None
    ) -> list[PanellistEntry]:
        """Return nominations, newest first: all for MAG and secretariat, else one's own."""
        status = check_participation_status(status) if status else None
        rules = (await self._config.get(actor.guild_id)).rules
        # Blind review: a MAG member lists what is about them or theirs, as anyone does
        # (the filter is in SQL, so a page is full).
        blind_mag = bool(rules.get(BLIND)) and not actor.can_act_as_secretariat
        sees_all = (actor.is_mag and not blind_mag) or actor.can_act_as_secretariat
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
        return [
            PanellistEntry(nominee(actor, pa, pe), ref_of(pr))
            for pa, pe, pr in rows
            if sees_entry(
                actor,
                pa,
                pe,
                pr.proposer_id,
                blind=reviews_blind(actor, rules, proposer_id=pr.proposer_id),
            )
        ]

    async def view(self, actor: Actor, participation_id: int) -> PanellistEntry:
        """Return one nomination, if this actor may see it."""
        rules = (await self._config.get(actor.guild_id)).rules
        async with self._db.read() as session:
            pa, pe, pr = await self._entry(
                session, actor.guild_id, participation_id, for_update=False
            )
        blind = reviews_blind(actor, rules, proposer_id=pr.proposer_id)
        if not sees_entry(actor, pa, pe, pr.proposer_id, blind=blind):
            raise PermissionDenied(
                _("Only MAG members, the secretariat, the proposer and the nominee can see this.")
            )
        return PanellistEntry(nominee(actor, pa, pe), ref_of(pr))

    async def search_people(self, actor: Actor, text: str) -> list[Person]:
        """Return people whose name contains ``text`` (secretariat only; empty for others)."""
        if not sees_personal(actor):
            return []
        async with self._db.read() as session:
            return await find_people(session, guild_id=actor.guild_id, text=tidy(text)[:100])

    async def forget(self, actor: Actor, person_id: int, *, confirmed: bool = False) -> Forgotten:
        """Erase a person's personal data and participations; the audit keeps only the fact.

        It cannot be undone, so unless ``confirmed`` it raises
        ``ConfirmationNeeded`` saying what will go.

        After the transaction the database is asked to overwrite what it
        freed (``Database.scrub``), so the erased text does not linger in the
        SQLite file or its write-ahead log.
        """
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            person = await get_person(session, guild_id=actor.guild_id, person_id=person_id)
            if person is None:
                raise NotFound(
                    _("There is no person #{id} here (already forgotten?).", id=person_id)
                )
            if not confirmed:
                seats = await participations_of(
                    session, guild_id=actor.guild_id, person_id=person_id
                )
                raise ConfirmationNeeded(
                    ngettext(
                        "Person #{id} ({name}) will be erased for good: their details, contact "
                        "and {n} nomination(s). This cannot be undone. Messages Discord already "
                        "delivered (invitations, answers) stay where they were posted.",
                        "Person #{id} ({name}) will be erased for good: their details, contact "
                        "and {n} nomination(s). This cannot be undone. Messages Discord already "
                        "delivered (invitations, answers) stay where they were posted.",
                        len(seats),
                        id=person_id,
                        name=quoted(person.name, 80),
                    )
                )
            forgotten = await erase_person(
                session,
                guild_id=actor.guild_id,
                person_id=person_id,
                actor_id=actor.user_id,
                now=now,
            )
        await self._db.scrub(tables=("person", "participation", "identity_flag", "outbox"))
        return forgotten


async def erase_person(
    session: AsyncSession, *, guild_id: int, person_id: int, actor_id: int | None, now: datetime
) -> Forgotten:
    """Erase a person and their participations in the caller's transaction; audit the fact.

    The one rule of forgetting, for ``/panellist forget`` and the consent
    page's "erase my data" alike; the caller scrubs the database after commit.
    What the outbox keeps of their emails (the servers' refusals) goes too.
    """
    seats = await participations_of(session, guild_id=guild_id, person_id=person_id)
    await outbox_store.forget_emails(
        session, guild_id=guild_id, participation_ids=[p.id for p in seats if p.id is not None]
    )
    proposal_ids = await delete_person(session, guild_id=guild_id, person_id=person_id)
    proposals = await proposals_by_ids(session, guild_id=guild_id, ids=sorted(set(proposal_ids)))
    labels = [label_of(p) for p in sorted(proposals.values(), key=lambda p: p.number)]
    await record_event(
        session,
        guild_id=guild_id,
        actor_id=actor_id,
        action="person.forget",
        target=f"person:{person_id}",
        # Stored in the audit: in the language of whoever erased them.
        note=ngettext(
            "Personal data and {n} participation(s) erased.",
            "Personal data and {n} participation(s) erased.",
            len(proposal_ids),
        ),
        at=now,
    )
    return Forgotten(person_id=person_id, participations=len(proposal_ids), proposals=labels)


def _answering_accounts(participation: Participation, person: Person) -> set[int]:
    """Return the accounts that may answer a nomination (``nominee_account``, as a set)."""
    account = nominee_account(participation, person)
    return set() if account is None else {account}
