"""Decisions on proposals: drafted as a batch, published together, then confirmed.

A decision row is a draft until it is published. ``draft_of`` holds the
proposal's id while the row is a draft and NULL once it is published: the
unique (guild_id, draft_of) index keeps one draft per proposal, while NULLs
(published decisions) never collide, on SQLite and PostgreSQL alike. A
published row is never a draft again; a later decision on the same proposal
is a new row, so each decision is told to its proposer once (the outbox key
is the row's id).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.proposals import Proposal
from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow


class ProposalDecision(SQLModel, table=True):
    """One decision on a proposal: its outcome, why, released feedback, and what followed."""

    __tablename__ = "proposal_decision"
    __table_args__ = (
        Index("uq_decision_draft", "guild_id", "draft_of", unique=True),
        Index("ix_decision_guild_published", "guild_id", "published_at"),
        Index("ix_decision_proposal", "proposal_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(
        sa_column=Column(Integer, ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False)
    )
    # The proposal's id while this is a draft; None once published.
    draft_of: int | None = Field(default=None)
    outcome: str = Field(max_length=24)
    reason: str | None = Field(default=None, sa_type=Text)
    conditions: str | None = Field(default=None, sa_type=Text)
    conditions_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Reviewers (member ids) whose comments the proposer is shown.
    released: list[int] = Field(default_factory=list, sa_column=Column(NullableJSON))
    # The released comments as the secretariat chose them: [{letter, member_id, comment}]
    # (a score changed afterwards does not change what the proposer reads).
    feedback: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(NullableJSON))
    anonymise: bool = Field(default=True)
    drafted_by: int = Field(sa_type=DiscordId)
    drafted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_by: int | None = Field(default=None, sa_type=DiscordId)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Accepted (on conditions or not): the proposer confirms the slot by then.
    confirm_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    conditions_met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How telling the proposer went: None while queued, else "sent" or "failed: why".
    notice: str | None = Field(default=None, max_length=300)
    # The deadline whose reminders chase this acceptance (``chase_confirmations``).
    confirm_deadline: int | None = Field(default=None)


async def draft_for(
    session: AsyncSession, *, guild_id: int, proposal_id: int
) -> ProposalDecision | None:
    """Return the proposal's draft decision (None: there is none)."""
    query = select(ProposalDecision).where(
        ProposalDecision.guild_id == guild_id, ProposalDecision.draft_of == proposal_id
    )
    return (await session.exec(query)).first()


async def drafts(
    session: AsyncSession, *, guild_id: int, for_update: bool = False
) -> list[tuple[ProposalDecision, Proposal]]:
    """Return the guild's drafts with their proposals, by proposal number (optionally locked)."""
    query = (
        select(ProposalDecision, Proposal)
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .where(ProposalDecision.guild_id == guild_id, col(ProposalDecision.draft_of).is_not(None))
        .order_by(col(Proposal.number))
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return [(d, p) for d, p in (await session.exec(query)).all()]


# What a list of drafts and publishing read: no long texts, no ORM objects (2,000 at once).
DRAFT_COLUMNS: Final[tuple[Any, ...]] = (
    col(ProposalDecision.id).label("decision_id"),
    col(ProposalDecision.outcome),
    col(ProposalDecision.reason),
    col(ProposalDecision.conditions),
    col(ProposalDecision.conditions_due),
    col(ProposalDecision.released),
    col(ProposalDecision.anonymise),
    col(Proposal.id).label("proposal_id"),
    col(Proposal.guild_id),
    col(Proposal.number),
    col(Proposal.kind),
    col(Proposal.title),
    col(Proposal.status),
    col(Proposal.proposer_id),
    col(Proposal.subtheme),
)


async def draft_rows(
    session: AsyncSession, *, guild_id: int, for_update: bool = False
) -> Sequence[Any]:
    """Return the guild's drafts as rows of ``DRAFT_COLUMNS``, by number (optionally locked)."""
    query = (
        sa_select(*DRAFT_COLUMNS)
        .select_from(ProposalDecision)
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .where(
            col(ProposalDecision.guild_id) == guild_id, col(ProposalDecision.draft_of).is_not(None)
        )
        .order_by(col(Proposal.number))
    )
    if for_update:
        query = query.with_for_update()
    # A Core select of columns: run on the session's connection (no ORM objects).
    connection = await session.connection()
    return (await connection.execute(query)).all()


async def draft_transitions(session: AsyncSession, *, guild_id: int) -> dict[tuple[str, str], int]:
    """Return how many drafts would move a proposal from each status to each outcome."""
    query = (
        select(Proposal.status, ProposalDecision.outcome, func.count())
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .where(ProposalDecision.guild_id == guild_id, col(ProposalDecision.draft_of).is_not(None))
        .group_by(col(Proposal.status), col(ProposalDecision.outcome))
    )
    return {(str(s), str(o)): int(n) for s, o, n in (await session.exec(query)).all()}


async def count_drafts(session: AsyncSession, *, guild_id: int) -> int:
    """Return how many drafts the guild has."""
    query = (
        select(func.count())
        .select_from(ProposalDecision)
        .where(ProposalDecision.guild_id == guild_id, col(ProposalDecision.draft_of).is_not(None))
    )
    return int((await session.exec(query)).one())


async def discard_drafts(
    session: AsyncSession, *, guild_id: int, proposal_ids: Collection[int] | None = None
) -> int:
    """Delete drafts (all of the guild's when ``proposal_ids`` is None); return how many."""
    query = delete(ProposalDecision).where(
        col(ProposalDecision.guild_id) == guild_id, col(ProposalDecision.draft_of).is_not(None)
    )
    if proposal_ids is not None:
        query = query.where(col(ProposalDecision.draft_of).in_(list(proposal_ids)))
    result = await session.exec(query)
    return int(result.rowcount or 0)


async def latest_published(
    session: AsyncSession, *, guild_id: int, proposal_ids: Collection[int]
) -> dict[int, ProposalDecision]:
    """Return each proposal's latest published decision, by proposal id."""
    if not proposal_ids:
        return {}
    latest = (
        select(func.max(ProposalDecision.id))
        .where(
            ProposalDecision.guild_id == guild_id,
            col(ProposalDecision.proposal_id).in_(list(proposal_ids)),
            col(ProposalDecision.published_at).is_not(None),
        )
        .group_by(col(ProposalDecision.proposal_id))
    )
    query = select(ProposalDecision).where(col(ProposalDecision.id).in_(latest))
    return {d.proposal_id: d for d in (await session.exec(query)).all()}


async def get_decision(
    session: AsyncSession, *, guild_id: int, decision_id: int, for_update: bool = False
) -> ProposalDecision | None:
    """Return one of the guild's decisions by id."""
    query = select(ProposalDecision).where(
        ProposalDecision.guild_id == guild_id, ProposalDecision.id == decision_id
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def publish_rows(
    session: AsyncSession, *, rows: Sequence[dict[str, Any]], by: int, at: datetime
) -> None:
    """Mark drafts published: each row gives ``id`` and ``confirm_by``, in one statement."""
    if not rows:
        return
    table = ProposalDecision.__table__  # type: ignore[attr-defined]

    statement = (
        update(table)
        .where(table.c.id == bindparam("decision_id"))
        .values(
            draft_of=None,
            published_by=by,
            published_at=at,
            confirm_by=bindparam("confirm_until"),
            confirm_deadline=bindparam("deadline_number"),
        )
    )
    connection = await session.connection()
    await connection.execute(
        statement,
        [
            {
                "decision_id": r["id"],
                "confirm_until": r["confirm_by"],
                "deadline_number": r.get("confirm_deadline"),
            }
            for r in rows
        ],
    )


def _current(guild_id: int) -> Any:
    """Return the ids of each proposal's latest published decision (a subquery)."""
    return (
        select(func.max(ProposalDecision.id))
        .where(
            ProposalDecision.guild_id == guild_id,
            col(ProposalDecision.published_at).is_not(None),
        )
        .group_by(col(ProposalDecision.proposal_id))
    )


async def published_counts(session: AsyncSession, *, guild_id: int) -> dict[str, int]:
    """Return how many proposals' current decision is each outcome."""
    query = (
        select(ProposalDecision.outcome, func.count())
        .where(col(ProposalDecision.id).in_(_current(guild_id)))
        .group_by(col(ProposalDecision.outcome))
    )
    return {str(o): int(n) for o, n in (await session.exec(query)).all()}


async def confirmed_count(session: AsyncSession, *, guild_id: int) -> int:
    """Return how many current acceptances their proposers confirmed."""
    query = (
        select(func.count())
        .select_from(ProposalDecision)
        .where(
            col(ProposalDecision.id).in_(_current(guild_id)),
            col(ProposalDecision.confirmed_at).is_not(None),
        )
    )
    return int((await session.exec(query)).one())


async def set_notice(session: AsyncSession, *, ids: Collection[int], notice: str) -> None:
    """Record how telling the proposers went."""
    if ids:
        await session.exec(
            update(ProposalDecision)
            .where(col(ProposalDecision.id).in_(list(ids)))
            .values(notice=notice[:300])
        )


async def waiting_on_proposers(
    session: AsyncSession, *, guild_id: int, deadline_number: int | None = None
) -> list[tuple[ProposalDecision, Proposal]]:
    """Return the current acceptances whose proposer has not confirmed or met the conditions.

    Current: the proposal's latest published decision, with the proposal still
    in that status (a later change by hand ends the wait).
    """
    query = (
        select(ProposalDecision, Proposal)
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .where(
            col(ProposalDecision.id).in_(_current(guild_id)),
            col(ProposalDecision.outcome).in_(["accepted", "conditional"]),
            col(Proposal.status) == col(ProposalDecision.outcome),
            (col(ProposalDecision.confirmed_at).is_(None))
            | (
                (col(ProposalDecision.outcome) == "conditional")
                & col(ProposalDecision.conditions_met_at).is_(None)
            ),
        )
        .order_by(col(Proposal.number))
    )
    if deadline_number is not None:
        # One publish, one deadline: its reminders chase that batch only.
        query = query.where(col(ProposalDecision.confirm_deadline) == deadline_number)
    return [(d, p) for d, p in (await session.exec(query)).all()]


async def unreached(
    session: AsyncSession, *, guild_id: int, limit: int = 50
) -> list[tuple[ProposalDecision, Proposal]]:
    """Return published decisions whose proposer could not be told, by proposal number."""
    query = (
        select(ProposalDecision, Proposal)
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .where(
            ProposalDecision.guild_id == guild_id,
            col(ProposalDecision.notice).startswith("failed"),
            col(ProposalDecision.id).in_(_current(guild_id)),
        )
        .order_by(col(Proposal.number))
        .limit(limit)
    )
    return [(d, p) for d, p in (await session.exec(query)).all()]
