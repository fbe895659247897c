"""Session proposals (workshops first), numbered per guild.

A proposal's display number ("WS #12") comes from a per-guild counter row
that is incremented with ``UPDATE ... RETURNING``: on PostgreSQL the update
locks the row until the transaction ends, so two submissions at once get
consecutive numbers; on SQLite the IMMEDIATE write transaction already
serialises them. A unique (guild_id, number) index is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Column, Index, String, Text, UniqueConstraint, cast, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, NullableJSON, UTCDateTime, lower_text, utcnow
from storage.upsert import insert_for

#: The ``proposer_id`` of an imported proposal: no Discord account, never messaged.
IMPORTED_PROPOSER: Final = 0


class ProposalCounter(SQLModel, table=True):
    """The last proposal number handed out in one guild."""

    __tablename__ = "proposal_counter"

    guild_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    last_number: int = Field(default=0)


class Proposal(SQLModel, table=True):
    """One session proposal with the fields of the IGF form."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("guild_id", "number", name="uq_proposal_guild_number"),
        # One form, one proposal: a form submitted twice carries the same key.
        UniqueConstraint("guild_id", "submission_key", name="uq_proposal_submission_key"),
        # One imported submission, one proposal: a re-import finds it by its source id.
        UniqueConstraint("guild_id", "source", "source_id", name="uq_proposal_source"),
        Index("ix_proposal_guild_status_number", "guild_id", "status", "number"),
        Index("ix_proposal_guild_proposer", "guild_id", "proposer_id"),
        # Covers rankings and long lists: they never read the long texts.
        Index(
            "ix_proposal_brief", "guild_id", "number", "id", "kind", "status", "subtheme", "title"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    number: int
    kind: str = Field(default="workshop", max_length=32)
    status: str = Field(default="submitted", max_length=20)
    title: str = Field(sa_type=Text)
    description: str = Field(sa_type=Text)
    policy_questions: str = Field(sa_type=Text)
    expected_outcomes: str = Field(sa_type=Text)
    hybrid_plan: str = Field(sa_type=Text)
    format: str = Field(max_length=64)
    duration: int
    subtheme: str = Field(max_length=100)
    proposer_id: int = Field(sa_type=DiscordId)
    proposer_name: str = Field(default="", max_length=100)
    # The proposer held the MAG role when submitting (a screening rule reads it).
    proposer_is_mag: bool = Field(default=False)
    status_reason: str | None = Field(default=None, sa_type=Text)
    merged_into: int | None = Field(default=None)
    # {"passed": bool, "failures": [{"rule": str, "reason": str}]}; None: never screened.
    screening: dict[str, Any] | None = Field(default=None, sa_column=Column(NullableJSON))
    screened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The key of the form that submitted it (None: not from a form).
    submission_key: str | None = Field(default=None, max_length=40)
    # Where an imported proposal came from ("pretalx", "sessionize", "csv") and its id
    # there; None: submitted in Discord. An imported proposal has no Discord proposer
    # (``proposer_id`` 0, ``IMPORTED_PROPOSER``): nobody is messaged about it.
    source: str | None = Field(default=None, max_length=16)
    source_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def allocate_number(session: AsyncSession, *, guild_id: int) -> int:
    """Return the guild's next proposal number, holding its counter until the transaction ends."""
    bump = (
        update(ProposalCounter)
        .where(col(ProposalCounter.guild_id) == guild_id)
        .values(last_number=col(ProposalCounter.last_number) + 1)
        .returning(col(ProposalCounter.last_number))
    )
    number = (await session.exec(bump)).scalar_one_or_none()
    if number is None:
        await session.exec(
            insert_for(session, ProposalCounter)
            .values(guild_id=guild_id, last_number=0)
            .on_conflict_do_nothing(index_elements=["guild_id"])
        )
        number = (await session.exec(bump)).scalar_one()
    return int(number)


async def add_proposal(session: AsyncSession, *, proposal: Proposal) -> Proposal:
    """Add ``proposal`` to the caller's transaction and give it its id."""
    session.add(proposal)
    await session.flush()
    return proposal


async def get_proposal(
    session: AsyncSession, *, guild_id: int, number: int, for_update: bool = False
) -> Proposal | None:
    """Return the guild's proposal with this display number, optionally locked."""
    query = select(Proposal).where(Proposal.guild_id == guild_id, Proposal.number == number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def count_by_proposer(
    session: AsyncSession, *, guild_id: int, proposer_id: int, excluding: Collection[str] = ()
) -> int:
    """Return how many proposals the user submitted, not counting those in ``excluding``."""
    query = (
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.guild_id == guild_id, Proposal.proposer_id == proposer_id)
    )
    if excluding:
        query = query.where(col(Proposal.status).not_in(list(excluding)))
    return int((await session.exec(query)).one())


def _filtered(
    query: Any,
    *,
    guild_id: int,
    statuses: Collection[str] | None,
    subtheme: str | None,
    proposer_id: int | None,
    kinds: Collection[str] | None = None,
) -> Any:
    query = query.where(Proposal.guild_id == guild_id)
    if statuses:
        query = query.where(col(Proposal.status).in_(list(statuses)))
    if subtheme is not None:
        query = query.where(Proposal.subtheme == subtheme)
    if proposer_id is not None:
        query = query.where(Proposal.proposer_id == proposer_id)
    if kinds:
        query = query.where(col(Proposal.kind).in_(list(kinds)))
    return query


async def list_proposals(
    session: AsyncSession,
    *,
    guild_id: int,
    statuses: Collection[str] | None = None,
    subtheme: str | None = None,
    proposer_id: int | None = None,
    kinds: Collection[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Proposal]:
    """Return the guild's proposals matching the filters, by number."""
    query = _filtered(
        select(Proposal),
        guild_id=guild_id,
        statuses=statuses,
        subtheme=subtheme,
        proposer_id=proposer_id,
        kinds=kinds,
    ).order_by(col(Proposal.number))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.exec(query)).all())


async def count_proposals(
    session: AsyncSession,
    *,
    guild_id: int,
    statuses: Collection[str] | None = None,
    subtheme: str | None = None,
    proposer_id: int | None = None,
) -> int:
    """Return how many of the guild's proposals match the filters."""
    query = _filtered(
        select(func.count()).select_from(Proposal),
        guild_id=guild_id,
        statuses=statuses,
        subtheme=subtheme,
        proposer_id=proposer_id,
    )
    return int((await session.exec(query)).one())


#: What a reference to a proposal needs (``bot.services.proposals.ref_of``): no long texts.
BRIEF_COLUMNS: Final = (
    "id", "guild_id", "number", "kind", "title", "status", "proposer_id", "subtheme",
)  # fmt: skip


@dataclass(frozen=True)
class ProposalBrief:
    """The few columns a ranking or a long list shows (no long texts loaded)."""

    id: int
    number: int
    kind: str
    title: str
    status: str
    subtheme: str


async def proposals_by_ids(
    session: AsyncSession, *, guild_id: int, ids: Sequence[int]
) -> dict[int, Proposal]:
    """Return the guild's proposals with these ids, by id."""
    if not ids:
        return {}
    query = select(Proposal).where(Proposal.guild_id == guild_id, col(Proposal.id).in_(ids))
    return {p.id: p for p in (await session.exec(query)).all() if p.id is not None}


async def search_proposals(
    session: AsyncSession, *, guild_id: int, text: str, limit: int = 25
) -> list[Proposal]:
    """Return proposals whose number starts with ``text`` or whose title contains it."""
    query = select(Proposal).where(Proposal.guild_id == guild_id)
    needle = text.strip().lstrip("#").strip()
    if needle.isdigit():
        query = query.where(cast(Proposal.number, String).startswith(needle))
    elif needle:
        query = query.where(lower_text(Proposal.title).contains(needle.lower()))
    query = query.order_by(col(Proposal.number).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def get_by_submission_key(
    session: AsyncSession, *, guild_id: int, key: str
) -> Proposal | None:
    """Return the proposal a form with this key already submitted, if any."""
    query = select(Proposal).where(Proposal.guild_id == guild_id, Proposal.submission_key == key)
    return (await session.exec(query)).first()
