"""People (panellists, speakers, organizers) and their participation in proposals.

A guild knows each person once: the same name and affiliation, ignoring case
and accents, is the same person (``Person.key``, computed by the services and
unique per guild; a record the secretariat split off gets a key of its own).
A ``Participation`` puts a person on a proposal in one role; a nomination is
a participation created by a nominator.

What a nominator types about someone else is a *claim*, kept on the
participation (``invitee_id``, ``contact``); the person record holds only
what the person or the secretariat confirmed (``user_id``, ``contact``) and
the details as first stated, with where they came from (``details_source``).
Differing claims become ``IdentityFlag`` rows for the secretariat.

Contact and gender are personal data: only the secretariat sees them, and
``delete_person`` erases the person with every participation and flag.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    not_,
    or_,
    update,
)
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.proposals import Proposal
from storage.types import DiscordId, UTCDateTime, lower_text, utcnow
from storage.upsert import insert_for


class Person(SQLModel, table=True):
    """A panellist, speaker or organizer, known once per guild."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("guild_id", "key", name="uq_person_guild_key"),
        Index("ix_person_guild_affiliation", "guild_id", "affiliation_key"),
        Index("ix_person_guild_user", "guild_id", "user_id"),
        UniqueConstraint("guild_id", "source", "source_id", name="uq_person_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    affiliation: str | None = Field(default=None, max_length=300)
    affiliation_key: str | None = Field(default=None, max_length=64)
    stakeholder_group: str = Field(max_length=100)
    region: str = Field(max_length=100)
    gender: str = Field(max_length=32)
    country: str | None = Field(default=None, max_length=100)
    developing_country: bool | None = Field(default=None)
    first_time: bool | None = Field(default=None)
    youth: bool | None = Field(default=None)
    # The Discord account confirmed as this person: by the account holder's own
    # Confirm (link_source "invitation", or "own" when they had nominated
    # themselves) or by the secretariat ("secretariat"). Never what someone typed.
    user_id: int | None = Field(default=None, sa_type=DiscordId)
    link_source: str | None = Field(default=None, max_length=12)
    # A contact confirmed by the person or the secretariat (claims stay on participations).
    contact: str | None = Field(default=None, sa_type=Text)
    # Who the details (group, region, gender...) come from: nominator, person, secretariat.
    details_source: str = Field(default="nominator", max_length=12)
    # An imported speaker: the call's system ("pretalx", ...) and its id there. Never a
    # Discord link: an imported person is linked only as any other (``user_id`` above).
    source: str | None = Field(default=None, max_length=16)
    source_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Participation(SQLModel, table=True):
    """A person on a proposal, in one role."""

    __tablename__ = "participation"
    __table_args__ = (
        UniqueConstraint("proposal_id", "person_id", "role", name="uq_participation_role"),
        Index("ix_participation_guild_proposal", "guild_id", "proposal_id"),
        Index("ix_participation_guild_person", "guild_id", "person_id"),
        Index("ix_participation_guild_status", "guild_id", "status"),
        Index("ix_participation_guild_invitee", "guild_id", "invitee_id"),
        Index("ix_participation_guild_invited", "guild_id", "invited_user_id"),
        Index("ix_participation_guild_answered", "guild_id", "answered_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    role: str = Field(max_length=32)
    # onsite or online; None: not stated.
    attendance: str | None = Field(default=None, max_length=10)
    # Derived from the fields below (see ``bot.services.panellists.status_of``) and
    # stored so that counts and filters read one column.
    status: str = Field(default="nominated", max_length=12)
    nominated_by: int | None = Field(default=None, sa_type=DiscordId)
    rationale: str | None = Field(default=None, sa_type=Text)
    agreed_in_principle: bool = Field(default=False)
    # The nominator's claims about this person: the account to invite, a contact.
    invitee_id: int | None = Field(default=None, sa_type=DiscordId)
    contact: str | None = Field(default=None, sa_type=Text)
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invitations: int = Field(default=0)
    # The account the last invitation went to (the nominee at that time; for
    # the rate limit). Never read as a claim: ``invitee_id`` is the claim.
    invited_user_id: int | None = Field(default=None, sa_type=DiscordId)
    # The person's own answer: "given" or "refused", who gave it and how
    # ("discord": the invitee's own buttons or command; "secretariat": an answer
    # given outside Discord, recorded by the secretariat with a note).
    consent: str | None = Field(default=None, max_length=10)
    answered_by: int | None = Field(default=None, sa_type=DiscordId)
    answer_source: str | None = Field(default=None, max_length=12)
    answer_note: str | None = Field(default=None, sa_type=Text)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Taken off the session by its organisers (proposer or secretariat).
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdentityFlag(SQLModel, table=True):
    """A claim about a person that disagrees with their record, for the secretariat to settle.

    ``kind`` is ``account`` (another Discord account named or confirmed),
    ``details`` (other stakeholder group, region, gender or country stated),
    or ``disputed`` (the person said the details about them are wrong).
    ``claimed`` holds what was claimed; it is personal data, erased with the person.
    """

    __tablename__ = "identity_flag"
    __table_args__ = (Index("ix_identity_flag_guild_open", "guild_id", "resolved_at"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    participation_id: int | None = Field(
        default=None, foreign_key="participation.id", ondelete="CASCADE"
    )
    kind: str = Field(max_length=12)
    claimed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raised_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, sa_type=DiscordId)
    resolution: str | None = Field(default=None, max_length=200)


class InviteBlock(SQLModel, table=True):
    """A Discord account that asked this server not to send it invitations any more."""

    __tablename__ = "invite_block"
    __table_args__ = (UniqueConstraint("guild_id", "user_id", name="uq_invite_block"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    user_id: int = Field(sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def get_or_create_person(
    session: AsyncSession, *, guild_id: int, key: str, values: dict[str, Any]
) -> tuple[Person, bool]:
    """Return the guild's person with ``key`` and whether this call created it.

    Two nominations of the same new person at once cannot both create it: the
    insert is ignored on a key conflict and the existing row is read instead.
    """
    inserted = (
        await session.exec(
            insert_for(session, Person)
            .values(guild_id=guild_id, key=key, **values)
            .on_conflict_do_nothing(index_elements=["guild_id", "key"])
            .returning(col(Person.id))
        )
    ).scalar_one_or_none()
    query = (
        select(Person)
        .where(Person.guild_id == guild_id, Person.key == key)
        .execution_options(populate_existing=True)
    )
    person = (await session.exec(query)).one()
    return person, inserted is not None


async def get_person(session: AsyncSession, *, guild_id: int, person_id: int) -> Person | None:
    """Return the guild's person with this id."""
    query = select(Person).where(Person.guild_id == guild_id, Person.id == person_id)
    return (await session.exec(query)).first()


async def find_people(
    session: AsyncSession, *, guild_id: int, text: str, limit: int = 25
) -> list[Person]:
    """Return people whose name contains ``text`` (for autocomplete), by name."""
    query = select(Person).where(Person.guild_id == guild_id)
    if text:
        query = query.where(lower_text(Person.name).contains(text.lower()))
    query = query.order_by(col(Person.name), col(Person.id)).limit(limit)
    return list((await session.exec(query)).all())


async def add_participation(
    session: AsyncSession, *, values: dict[str, Any]
) -> Participation | None:
    """Add a participation, or return None when the person already has that role there."""
    new_id = (
        await session.exec(
            insert_for(session, Participation)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["proposal_id", "person_id", "role"])
            .returning(col(Participation.id))
        )
    ).scalar_one_or_none()
    if new_id is None:
        return None
    return await session.get(Participation, new_id)


async def get_participation(
    session: AsyncSession, *, guild_id: int, participation_id: int, for_update: bool = False
) -> tuple[Participation, Person, Proposal] | None:
    """Return a participation with its person and proposal, optionally locked."""
    query = (
        select(Participation, Person, Proposal)
        .join(Person, col(Person.id) == Participation.person_id)
        .join(Proposal, col(Proposal.id) == Participation.proposal_id)
        .where(Participation.guild_id == guild_id, Participation.id == participation_id)
    )
    if for_update:
        query = query.with_for_update(of=Participation).execution_options(populate_existing=True)
    row = (await session.exec(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def people_on(
    session: AsyncSession, *, guild_id: int, proposal_ids: Sequence[int] | None
) -> list[tuple[Participation, Person]]:
    """Return the participations on these proposals (None: all) with their people.

    Ordered by proposal, then participation id.
    """
    if proposal_ids is not None and not proposal_ids:
        return []
    query = (
        select(Participation, Person)
        .join(Person, col(Person.id) == Participation.person_id)
        .where(Participation.guild_id == guild_id)
        .order_by(col(Participation.proposal_id), col(Participation.id))
    )
    if proposal_ids is not None:
        query = query.where(col(Participation.proposal_id).in_(list(proposal_ids)))
    return [(pa, pe) for pa, pe in (await session.exec(query)).all()]


async def list_participations(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_id: int | None = None,
    status: str | None = None,
    visible_to: int | None = None,
    limit: int = 50,
) -> list[tuple[Participation, Person, Proposal]]:
    """Return participations with person and proposal, newest first.

    ``visible_to`` (a user id) keeps only those on that user's proposals and
    those whose nominee they are, by the rule of
    ``bot.services.visibility.nominee_account`` (the secretariat's link wins,
    then the account the nominator named, then a link for one's own
    nominations), and those they answered on Discord.
    """
    query = (
        select(Participation, Person, Proposal)
        .join(Person, col(Person.id) == Participation.person_id)
        .join(Proposal, col(Proposal.id) == Participation.proposal_id)
        .where(Participation.guild_id == guild_id)
    )
    if proposal_id is not None:
        query = query.where(Participation.proposal_id == proposal_id)
    if status is not None:
        query = query.where(Participation.status == status)
    if visible_to is not None:
        # COALESCE: with NULL the NOT below would be NULL, not true.
        by_secretariat = and_(
            col(Person.user_id).is_not(None),
            func.coalesce(col(Person.link_source), "") == "secretariat",
        )
        query = query.where(
            or_(
                col(Proposal.proposer_id) == visible_to,
                and_(by_secretariat, col(Person.user_id) == visible_to),
                and_(
                    not_(by_secretariat),
                    or_(
                        col(Participation.invitee_id) == visible_to,
                        and_(
                            col(Participation.invitee_id).is_(None),
                            col(Person.user_id) == visible_to,
                            col(Participation.nominated_by) == visible_to,
                        ),
                    ),
                ),
                and_(
                    col(Participation.answered_by) == visible_to,
                    col(Participation.answer_source) == "discord",
                ),
            )
        )
    query = query.order_by(col(Participation.id).desc()).limit(limit)
    return [(pa, pe, pr) for pa, pe, pr in (await session.exec(query)).all()]


async def sessions_per_person(
    session: AsyncSession,
    *,
    guild_id: int,
    person_ids: Collection[int],
    roles: Collection[str],
    active: Collection[str],
    proposal_statuses: Collection[str],
) -> dict[int, int]:
    """Return, per person, how many proposals they are on in ``roles`` (active ones only)."""
    if not person_ids:
        return {}
    query = (
        select(
            Participation.person_id,
            func.count(func.distinct(Participation.proposal_id)),
        )
        .join(Proposal, col(Proposal.id) == Participation.proposal_id)
        .where(
            Participation.guild_id == guild_id,
            col(Participation.person_id).in_(list(person_ids)),
            col(Participation.role).in_(list(roles)),
            col(Participation.status).in_(list(active)),
            col(Proposal.status).in_(list(proposal_statuses)),
        )
        .group_by(col(Participation.person_id))
    )
    return {int(pid): int(n) for pid, n in (await session.exec(query)).all()}


async def delete_person(session: AsyncSession, *, guild_id: int, person_id: int) -> list[int]:
    """Erase a person, their participations and flags; return each participation's proposal id."""
    proposals = (
        await session.exec(
            select(Participation.proposal_id).where(
                Participation.guild_id == guild_id, Participation.person_id == person_id
            )
        )
    ).all()
    await session.exec(
        delete(IdentityFlag).where(
            col(IdentityFlag.guild_id) == guild_id, col(IdentityFlag.person_id) == person_id
        )
    )
    await session.exec(
        delete(Participation).where(
            col(Participation.guild_id) == guild_id, col(Participation.person_id) == person_id
        )
    )
    await session.exec(
        delete(Person).where(col(Person.guild_id) == guild_id, col(Person.id) == person_id)
    )
    return sorted(proposals)


async def count_participations(session: AsyncSession, *, guild_id: int, person_id: int) -> int:
    """Return how many participations a person has (withdrawn ones too)."""
    query = (
        select(func.count())
        .select_from(Participation)
        .where(Participation.guild_id == guild_id, Participation.person_id == person_id)
    )
    return int((await session.exec(query)).one())


async def delete_participation(
    session: AsyncSession, *, guild_id: int, participation_id: int
) -> None:
    """Erase one participation and the flags raised on it (the person stays)."""
    await session.exec(
        delete(IdentityFlag).where(
            col(IdentityFlag.guild_id) == guild_id,
            col(IdentityFlag.participation_id) == participation_id,
        )
    )
    await session.exec(
        delete(Participation).where(
            col(Participation.guild_id) == guild_id, col(Participation.id) == participation_id
        )
    )


async def person_key_free(session: AsyncSession, *, guild_id: int, key: str) -> bool:
    """Return whether no person of the guild has this key."""
    query = (
        select(func.count())
        .select_from(Person)
        .where(Person.guild_id == guild_id, Person.key == key)
    )
    return int((await session.exec(query)).one()) == 0


async def add_person(session: AsyncSession, *, person: Person) -> Person:
    """Add ``person`` to the caller's transaction and give it its id."""
    session.add(person)
    await session.flush()
    return person


async def get_person_for_update(
    session: AsyncSession, *, guild_id: int, person_id: int
) -> Person | None:
    """Return the guild's person with this id, locked for this transaction."""
    query = (
        select(Person)
        .where(Person.guild_id == guild_id, Person.id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def participations_of(
    session: AsyncSession, *, guild_id: int, person_id: int
) -> list[Participation]:
    """Return every participation of one person, oldest first."""
    query = (
        select(Participation)
        .where(Participation.guild_id == guild_id, Participation.person_id == person_id)
        .order_by(col(Participation.id))
    )
    return list((await session.exec(query)).all())


async def invitations_since(
    session: AsyncSession, *, guild_id: int, user_id: int, since: datetime
) -> int:
    """Return how many nominations sent an invitation to this account since ``since``."""
    query = (
        select(func.count())
        .select_from(Participation)
        .where(
            Participation.guild_id == guild_id,
            Participation.invited_user_id == user_id,
            col(Participation.invited_at) >= since,
        )
    )
    return int((await session.exec(query)).one())


async def is_blocked(session: AsyncSession, *, guild_id: int, user_id: int) -> bool:
    """Return whether this account asked not to be sent invitations here."""
    query = (
        select(func.count())
        .select_from(InviteBlock)
        .where(InviteBlock.guild_id == guild_id, InviteBlock.user_id == user_id)
    )
    return int((await session.exec(query)).one()) > 0


async def set_blocked(
    session: AsyncSession, *, guild_id: int, user_id: int, blocked: bool, at: datetime
) -> bool:
    """Block or allow invitations to an account; return whether anything changed."""
    if blocked:
        new_id = (
            await session.exec(
                insert_for(session, InviteBlock)
                .values(guild_id=guild_id, user_id=user_id, created_at=at)
                .on_conflict_do_nothing(index_elements=["guild_id", "user_id"])
                .returning(col(InviteBlock.id))
            )
        ).scalar_one_or_none()
        return new_id is not None
    result = await session.exec(
        delete(InviteBlock).where(
            col(InviteBlock.guild_id) == guild_id, col(InviteBlock.user_id) == user_id
        )
    )
    return bool(result.rowcount)


async def add_flag(session: AsyncSession, *, flag: IdentityFlag) -> IdentityFlag:
    """Add an identity flag to the caller's transaction and give it its id."""
    session.add(flag)
    await session.flush()
    return flag


async def open_flags(
    session: AsyncSession, *, guild_id: int, person_id: int | None = None, limit: int = 50
) -> list[tuple[IdentityFlag, Person]]:
    """Return unresolved flags with their person, oldest first."""
    query = (
        select(IdentityFlag, Person)
        .join(Person, col(Person.id) == IdentityFlag.person_id)
        .where(IdentityFlag.guild_id == guild_id, col(IdentityFlag.resolved_at).is_(None))
    )
    if person_id is not None:
        query = query.where(IdentityFlag.person_id == person_id)
    query = query.order_by(col(IdentityFlag.id)).limit(limit)
    return [(f, p) for f, p in (await session.exec(query)).all()]


async def count_open_flags(session: AsyncSession, *, guild_id: int) -> int:
    """Return how many identity flags wait for the secretariat."""
    query = (
        select(func.count())
        .select_from(IdentityFlag)
        .where(IdentityFlag.guild_id == guild_id, col(IdentityFlag.resolved_at).is_(None))
    )
    return int((await session.exec(query)).one())


async def resolve_flags(
    session: AsyncSession,
    *,
    guild_id: int,
    person_id: int,
    by: int,
    at: datetime,
    resolution: str,
    kinds: Collection[str] | None = None,
    flag_id: int | None = None,
) -> int:
    """Mark a person's open flags (of ``kinds``, or one flag) resolved; return how many."""
    statement = update(IdentityFlag).where(
        col(IdentityFlag.guild_id) == guild_id,
        col(IdentityFlag.person_id) == person_id,
        col(IdentityFlag.resolved_at).is_(None),
    )
    if kinds is not None:
        statement = statement.where(col(IdentityFlag.kind).in_(sorted(kinds)))
    if flag_id is not None:
        statement = statement.where(col(IdentityFlag.id) == flag_id)
    result = await session.exec(
        statement.values(resolved_at=at, resolved_by=by, resolution=resolution[:200])
    )
    return int(result.rowcount or 0)


def _progress(pa: Participation) -> tuple[int, int]:
    """Rank how far a nomination went (``move_participations`` keeps the further one)."""
    if pa.removed_at is not None:
        return (0, 0)
    if pa.consent is not None:
        return (3, 1 if pa.answer_source == "discord" else 0)
    return (2 if pa.invited_at is not None else 1, 0)


async def move_participations(
    session: AsyncSession, *, guild_id: int, source_id: int, target_id: int
) -> tuple[int, int]:
    """Move every participation of person ``source_id`` to ``target_id``.

    When both hold the same seat (same proposal and role), the merged person
    keeps it once: the one that went furthest (an answer of the nominee's own
    over one the secretariat recorded, over an invitation, over a bare
    nomination; a removed seat last) is kept and the other deleted, so an
    answer is never lost to a merge. Returns (moved, dropped). Flags follow
    the participations.
    """
    seats = {
        (pa.proposal_id, pa.role): pa
        for pa in await participations_of(session, guild_id=guild_id, person_id=target_id)
    }
    moved = dropped = 0
    for pa in await participations_of(session, guild_id=guild_id, person_id=source_id):
        kept = seats.get((pa.proposal_id, pa.role))
        if kept is None:
            pa.person_id = target_id
            moved += 1
            continue
        dropped += 1
        if _progress(pa) > _progress(kept):
            await session.delete(kept)
            await session.flush()
            pa.person_id = target_id
            seats[(pa.proposal_id, pa.role)] = pa
        else:
            await session.delete(pa)
    await session.flush()
    await session.exec(
        update(IdentityFlag)
        .where(col(IdentityFlag.guild_id) == guild_id, col(IdentityFlag.person_id) == source_id)
        .values(person_id=target_id)
    )
    return moved, dropped
