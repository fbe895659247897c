"""Person records for the secretariat: see the claims, settle them, merge and split records.

Nominators make claims about people (their Discord account, contact, gender,
group, region); when a claim disagrees with a person's record it becomes an
``IdentityFlag``. Here the secretariat reads a person with every claim made
about them and settles each: link the right account, correct the details
(the person's own statement wins over any nominator's), merge two records of
one person, split off a record wrongly shared by two people, or dismiss a
flag. Every change is audited; personal values (gender, contact) never go
into the audit, only that they changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound
from bot.i18n import N_, _, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.panellists import (
    MAX_AFFILIATION,
    MAX_CONTACT,
    MAX_NAME,
    settle,
)
from bot.services.proposals import label_of
from bot.services.taxonomy import (
    GENDERS,
    REGIONS,
    affiliation_key,
    digest,
    fold,
    match,
    person_key,
    stakeholder_groups,
    tidy,
)
from bot.services.text import quoted
from bot.services.visibility import LINK_SECRETARIAT
from storage.audit import record_event
from storage.database import Database
from storage.panellists import (
    Person,
    add_person,
    get_participation,
    get_person_for_update,
    move_participations,
    open_flags,
    participations_of,
    person_key_free,
    resolve_flags,
)
from storage.proposals import proposals_by_ids

MAX_FLAGS: Final = 50
PERSONAL: Final = frozenset({"gender", "contact"})


@dataclass(frozen=True, slots=True)
class FlagView:
    """One claim waiting for the secretariat."""

    id: int
    person_id: int
    person_name: str
    kind: str  # account | details | disputed
    claimed: dict[str, Any]
    raised_by: int | None
    participation_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SeatView:
    """One of a person's participations, with the claims its nominator made."""

    participation_id: int
    proposal_label: str
    role: str
    status: str
    nominated_by: int | None
    invitee_id: int | None
    answered_by: int | None
    answer_source: str | None
    contact_claim: str | None


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person record in full, with every claim about them (secretariat only)."""

    id: int
    name: str
    affiliation: str | None
    stakeholder_group: str
    region: str
    gender: str
    country: str | None
    user_id: int | None
    link_source: str | None
    contact: str | None
    details_source: str
    seats: tuple[SeatView, ...]
    flags: tuple[FlagView, ...]


@dataclass(frozen=True, slots=True)
class PersonChange:
    """What a change to a person record did."""

    person: PersonView
    changed: tuple[str, ...]
    resolved_flags: int
    # Answers given on Discord by an account that is not the person (after a link).
    voided_answers: int = 0


@dataclass(frozen=True, slots=True)
class Merged:
    """What merging two person records did."""

    person: PersonView
    source_id: int
    moved: int
    dropped: int


def _flag_view(flag: Any, person: Person) -> FlagView:
    return FlagView(
        id=flag.id,
        person_id=person.id or 0,
        person_name=person.name,
        kind=flag.kind,
        claimed=dict(flag.claimed or {}),
        raised_by=flag.raised_by,
        participation_id=flag.participation_id,
        at=flag.created_at,
    )


class PeopleService:
    """The secretariat's tools for person records and the claims about them."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    async def _view(self, session: Any, guild_id: int, person: Person) -> PersonView:
        assert person.id is not None
        seats = await participations_of(session, guild_id=guild_id, person_id=person.id)
        proposals = await proposals_by_ids(
            session, guild_id=guild_id, ids=sorted({s.proposal_id for s in seats})
        )
        flags = await open_flags(session, guild_id=guild_id, person_id=person.id)
        return PersonView(
            id=person.id,
            name=person.name,
            affiliation=person.affiliation,
            stakeholder_group=person.stakeholder_group,
            region=person.region,
            gender=person.gender,
            country=person.country,
            user_id=person.user_id,
            link_source=person.link_source,
            contact=person.contact,
            details_source=person.details_source,
            seats=tuple(
                SeatView(
                    participation_id=s.id or 0,
                    proposal_label=label_of(proposals[s.proposal_id])
                    if s.proposal_id in proposals
                    else "?",
                    role=s.role,
                    status=s.status,
                    nominated_by=s.nominated_by,
                    invitee_id=s.invitee_id,
                    answered_by=s.answered_by,
                    answer_source=s.answer_source,
                    contact_claim=s.contact,
                )
                for s in seats
            ),
            flags=tuple(_flag_view(f, p) for f, p in flags),
        )

    async def _load(self, session: Any, guild_id: int, person_id: int) -> Person:
        person = await get_person_for_update(session, guild_id=guild_id, person_id=person_id)
        if person is None:
            raise NotFound(
                _("There is no person #{id} here. `/person flags` lists them.", id=person_id)
            )
        return person

    async def view(self, actor: Actor, person_id: int) -> PersonView:
        """Return a person record with every claim made about them."""
        require_secretariat(actor)
        async with self._db.read() as session:
            person = await self._load(session, actor.guild_id, person_id)
            return await self._view(session, actor.guild_id, person)

    async def flags(self, actor: Actor) -> list[FlagView]:
        """Return the claims waiting for the secretariat, oldest first."""
        require_secretariat(actor)
        async with self._db.read() as session:
            found = await open_flags(session, guild_id=actor.guild_id, limit=MAX_FLAGS)
        return [_flag_view(f, p) for f, p in found]

    async def link(self, actor: Actor, person_id: int, user_id: int | None) -> PersonChange:
        """Set (or clear) the Discord account confirmed as this person.

        From then on every nomination of the person invites and hears that
        account alone. An answer another account gave on Discord for one of
        them was not the person's: it is voided (audited), and the nomination
        goes back to unanswered, to be invited again.
        """
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            person = await self._load(session, actor.guild_id, person_id)
            before = person.user_id
            person.user_id = user_id
            person.link_source = LINK_SECRETARIAT if user_id is not None else None
            person.updated_at = now
            voided: list[int] = []
            if user_id is not None:
                for seat in await participations_of(
                    session, guild_id=actor.guild_id, person_id=person_id
                ):
                    if seat.answer_source == "discord" and seat.answered_by not in (None, user_id):
                        seat.consent = seat.answered_by = seat.answer_source = None
                        seat.answer_note = seat.responded_at = None
                        seat.invited_at = seat.invited_user_id = None
                        settle(seat, now)
                        voided.append(seat.id or 0)
            resolved = await resolve_flags(
                session,
                guild_id=actor.guild_id,
                person_id=person_id,
                by=actor.user_id,
                at=now,
                resolution="account set by the secretariat",
                kinds=("account",),
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.link",
                target=f"person:{person_id}",
                before={"user_id": before},
                after={"user_id": user_id, "flags_resolved": resolved, "answers_voided": voided},
                at=now,
            )
            view = await self._view(session, actor.guild_id, person)
        return PersonChange(view, ("account",), resolved, len(voided))

    async def correct(
        self,
        actor: Actor,
        person_id: int,
        *,
        name: str | None = None,
        affiliation: str | None = None,
        stakeholder_group: str | None = None,
        region: str | None = None,
        gender: str | None = None,
        country: str | None = None,
        contact: str | None = None,
    ) -> PersonChange:
        """Correct a person's details; they become the secretariat's (``-`` clears a text)."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        changes: dict[str, Any] = {}

        def text(value: str, limit: int, too_long: str) -> str | None:
            """Return the typed value cleaned (None: cleared); ``too_long`` has ``{limit}``."""
            if value.strip() == "-":
                return None
            cleaned = tidy(value)
            if len(cleaned) > limit:
                raise InvalidInput(_(too_long, limit=limit))
            return cleaned or None

        if name is not None:
            changes["name"] = text(
                name, MAX_NAME, N_("The name can be at most {limit} characters.")
            )
            if not changes["name"]:
                raise InvalidInput(_("A person needs a name."))
        if affiliation is not None:
            changes["affiliation"] = text(
                affiliation,
                MAX_AFFILIATION,
                N_("The affiliation can be at most {limit} characters."),
            )
        if stakeholder_group is not None:
            changes["stakeholder_group"] = match(
                stakeholder_group, stakeholder_groups(settings.rules), N_("stakeholder group")
            )
        if region is not None:
            changes["region"] = match(region, REGIONS, N_("region"))
        if gender is not None:
            changes["gender"] = match(gender, GENDERS, N_("gender"))
        if country is not None:
            changes["country"] = text(
                country, 60, N_("The country can be at most {limit} characters.")
            )
        if contact is not None:
            changes["contact"] = text(
                contact, MAX_CONTACT, N_("The contact can be at most {limit} characters.")
            )
        if not changes:
            raise InvalidInput(_("Give at least one detail to correct."))
        now = self._clock()
        async with self._db.write() as session:
            person = await self._load(session, actor.guild_id, person_id)
            changed = tuple(k for k, v in changes.items() if getattr(person, k) != v)
            if not changed:
                raise Conflict(_("Those are already the person's details: nothing changed."))
            for key in changed:
                setattr(person, key, changes[key])
            if {"name", "affiliation"} & set(changed):
                key = person_key(person.name, person.affiliation)
                if key != person.key and not await person_key_free(
                    session, guild_id=actor.guild_id, key=key
                ):
                    raise Conflict(
                        _(
                            "Another person record has that name and affiliation: if they are "
                            "the same person, use `/person merge`."
                        )
                    )
                person.key = key
                person.affiliation_key = affiliation_key(person.affiliation)
            person.details_source = "secretariat"
            person.updated_at = now
            resolved = await resolve_flags(
                session,
                guild_id=actor.guild_id,
                person_id=person_id,
                by=actor.user_id,
                at=now,
                resolution="details corrected by the secretariat",
                kinds=("details", "disputed"),
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.correct",
                target=f"person:{person_id}",
                # Gender and contact are personal data: only that they changed.
                after={
                    **{k: changes[k] for k in changed if k not in PERSONAL},
                    "changed": list(changed),
                    "flags_resolved": resolved,
                },
                at=now,
            )
            view = await self._view(session, actor.guild_id, person)
        return PersonChange(view, changed, resolved)

    async def merge(
        self, actor: Actor, source_id: int, target_id: int, *, confirmed: bool = False
    ) -> Merged:
        """Merge person ``source_id`` into ``target_id``: one person, their seats together."""
        require_secretariat(actor)
        if source_id == target_id:
            raise InvalidInput(_("Choose two different people."))
        now = self._clock()
        async with self._db.write() as session:
            source = await self._load(session, actor.guild_id, source_id)
            target = await self._load(session, actor.guild_id, target_id)
            if (
                source.user_id is not None
                and target.user_id is not None
                and source.user_id != target.user_id
            ):
                raise Conflict(
                    _(
                        "#{source} and #{target} are confirmed as two different Discord "
                        "accounts. Link the right account first (`/person link`).",
                        source=source_id,
                        target=target_id,
                    )
                )
            if not confirmed:
                seats = await participations_of(
                    session, guild_id=actor.guild_id, person_id=source_id
                )
                raise ConfirmationNeeded(
                    ngettext(
                        "#{source} ({source_name}) will be merged into #{target} "
                        "({target_name}): its {n} nomination(s) move over, and record "
                        "#{source} is deleted. #{target} keeps its own details.",
                        "#{source} ({source_name}) will be merged into #{target} "
                        "({target_name}): its {n} nomination(s) move over, and record "
                        "#{source} is deleted. #{target} keeps its own details.",
                        len(seats),
                        source=source_id,
                        source_name=quoted(source.name, 100),
                        target=target_id,
                        target_name=quoted(target.name, 100),
                    )
                )
            moved, dropped = await move_participations(
                session, guild_id=actor.guild_id, source_id=source_id, target_id=target_id
            )
            if target.user_id is None and source.user_id is not None:
                target.user_id, target.link_source = source.user_id, source.link_source
            if target.contact is None:
                target.contact = source.contact
            target.updated_at = now
            await session.delete(source)
            await session.flush()
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.merge",
                target=f"person:{target_id}",
                after={"merged": source_id, "moved": moved, "dropped": dropped},
                at=now,
            )
            view = await self._view(session, actor.guild_id, target)
        return Merged(view, source_id, moved, dropped)

    async def split(self, actor: Actor, participation_id: int) -> PersonChange:
        """Give one nomination a person record of its own (two people shared one record).

        The new record starts with the same stated details, no account and no
        contact; the account the nomination named stays its invitee.
        """
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            row = await get_participation(
                session, guild_id=actor.guild_id, participation_id=participation_id, for_update=True
            )
            if row is None:
                raise NotFound(_("There is no nomination #{id} here.", id=participation_id))
            pa, old, _proposal = row
            others = await participations_of(
                session, guild_id=actor.guild_id, person_id=old.id or 0
            )
            if len(others) < 2 and old.user_id is None:
                raise Conflict(
                    _(
                        "Nomination #{id} is the only one of person #{person}: "
                        "there is nothing to split from.",
                        id=participation_id,
                        person=old.id,
                    )
                )
            base = f"{fold(old.name)}\x1f{fold(old.affiliation or '')}"
            person = await add_person(
                session,
                person=Person(
                    guild_id=actor.guild_id,
                    key=digest(f"{base}\x1esplit-{secrets.token_hex(6)}"),
                    name=old.name,
                    affiliation=old.affiliation,
                    affiliation_key=old.affiliation_key,
                    stakeholder_group=old.stakeholder_group,
                    region=old.region,
                    gender=old.gender,
                    country=old.country,
                    developing_country=old.developing_country,
                    first_time=old.first_time,
                    youth=old.youth,
                    details_source="nominator",
                    created_at=now,
                    updated_at=now,
                ),
            )
            assert person.id is not None
            pa.person_id = person.id
            pa.updated_at = now
            await session.flush()
            resolved = await resolve_flags(
                session,
                guild_id=actor.guild_id,
                person_id=old.id or 0,
                by=actor.user_id,
                at=now,
                resolution=f"nomination #{participation_id} split off as person #{person.id}",
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.split",
                target=f"person:{old.id}",
                after={"participation": participation_id, "new_person": person.id},
                at=now,
            )
            view = await self._view(session, actor.guild_id, person)
        return PersonChange(view, ("split",), resolved)

    async def dismiss(self, actor: Actor, person_id: int, flag_id: int, note: str) -> int:
        """Mark one flag settled without changing the record; return how many were."""
        require_secretariat(actor)
        text = tidy(note)[:200]
        if not text:
            raise InvalidInput(_("Say why in `note:`: the decision is kept in the audit."))
        now = self._clock()
        async with self._db.write() as session:
            await self._load(session, actor.guild_id, person_id)
            resolved = await resolve_flags(
                session,
                guild_id=actor.guild_id,
                person_id=person_id,
                by=actor.user_id,
                at=now,
                resolution=text,
                flag_id=flag_id,
            )
            if not resolved:
                raise NotFound(
                    _("Person #{id} has no open flag #{flag}.", id=person_id, flag=flag_id)
                )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="person.dismiss",
                target=f"person:{person_id}",
                after={"flag": flag_id},
                note=text,
                at=now,
            )
        return resolved
