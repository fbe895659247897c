"""People (panellists, speakers, organizers) and their participation in proposals.

A guild knows each person once: the same name and affiliation, ignoring case
and accents, is the same person (``Person.key``, computed by the services and
unique per guild). A ``Participation`` puts a person on a proposal in one
role; a nomination is a participation created by a nominator.

Contact and gender are personal data: only the secretariat sees them, and
``delete_person`` erases the person with every participation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint, delete, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.proposals import Proposal
from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for


class Person(SQLModel, table=True):
    """A panellist, speaker or organizer, known once per guild."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("guild_id", "key", name="uq_person_guild_key"),
        Index("ix_person_guild_affiliation", "guild_id", "affiliation_key"),
        Index("ix_person_guild_user", "guild_id", "user_id"),
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
    user_id: int | None = Field(default=None, sa_type=DiscordId)
    contact: str | None = Field(default=None, sa_type=Text)
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
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    role: str = Field(max_length=32)
    attendance: str = Field(max_length=10)
    status: str = Field(default="nominated", max_length=12)
    nominated_by: int | None = Field(default=None, sa_type=DiscordId)
    rationale: str | None = Field(default=None, sa_type=Text)
    agreed_in_principle: bool = Field(default=False)
    # The person's own answer (the DM buttons): "given" or "refused", and when.
    consent: str | None = Field(default=None, max_length=10)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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
        query = query.where(func.lower(Person.name).contains(text.lower()))
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

    ``visible_to`` (a user id) keeps only those on that user's proposals or
    about that user themselves.
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
        query = query.where((Proposal.proposer_id == visible_to) | (Person.user_id == visible_to))
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
    """Erase a person and their participations; return each participation's proposal id."""
    proposals = (
        await session.exec(
            select(Participation.proposal_id).where(
                Participation.guild_id == guild_id, Participation.person_id == person_id
            )
        )
    ).all()
    await session.exec(
        delete(Participation).where(
            col(Participation.guild_id) == guild_id, col(Participation.person_id) == person_id
        )
    )
    await session.exec(
        delete(Person).where(col(Person.guild_id) == guild_id, col(Person.id) == person_id)
    )
    return sorted(proposals)
