"""Who has not acted yet: the queries behind chasing reminders.

They read the proposals feature's tables (review assignments, reviews,
conflicts, participations) and aggregate in SQL. Status and role names are
passed in by the services, which own the vocabulary.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.panellists import Participation
from storage.profiles import MagMember
from storage.proposals import Proposal
from storage.reviews import ConflictDeclaration, Review, ReviewAssignment


async def unfinished_reviews(
    session: AsyncSession, *, guild_id: int, statuses: Collection[str]
) -> list[tuple[int, int]]:
    """Return (member id, assigned proposals not yet scored), most behind first.

    Only proposals in ``statuses`` count, never one the member declared a
    conflict on (it left their queue), and only members who still hold the
    MAG role.
    """
    scored = exists().where(
        col(Review.guild_id) == guild_id,
        col(Review.proposal_id) == col(ReviewAssignment.proposal_id),
        col(Review.member_id) == col(ReviewAssignment.member_id),
    )
    conflicted = exists().where(
        col(ConflictDeclaration.guild_id) == guild_id,
        col(ConflictDeclaration.proposal_id) == col(ReviewAssignment.proposal_id),
        col(ConflictDeclaration.member_id) == col(ReviewAssignment.member_id),
    )
    # A member whose MAG role was taken away is not chased (their profile stays).
    left = exists().where(
        col(MagMember.guild_id) == guild_id,
        col(MagMember.user_id) == col(ReviewAssignment.member_id),
        col(MagMember.has_role).is_(False),
    )
    open_count = func.count().label("open")
    query = (
        select(ReviewAssignment.member_id, open_count)
        .join(Proposal, col(Proposal.id) == col(ReviewAssignment.proposal_id))
        .where(
            ReviewAssignment.guild_id == guild_id,
            Proposal.guild_id == guild_id,
            col(Proposal.status).in_(sorted(statuses)),
            ~scored,
            ~conflicted,
            ~left,
        )
        .group_by(col(ReviewAssignment.member_id))
        .order_by(open_count.desc(), col(ReviewAssignment.member_id))
    )
    return [(int(member), int(n)) for member, n in (await session.exec(query)).all()]


async def proposals_short_of_speakers(
    session: AsyncSession,
    *,
    guild_id: int,
    statuses: Collection[str],
    role: str,
    confirmed_status: str,
    minimum: int,
    sample: int = 10,
) -> tuple[int, list[tuple[int, int]]]:
    """Return how many proposals have fewer than ``minimum`` confirmed speakers.

    Also a sample of them as (proposal number, confirmed speakers), by number.
    """
    confirmed = (
        select(func.count())
        .where(
            Participation.guild_id == guild_id,
            Participation.proposal_id == Proposal.id,
            Participation.role == role,
            Participation.status == confirmed_status,
        )
        .correlate(Proposal)
        .scalar_subquery()
    )
    short = (
        Proposal.guild_id == guild_id,
        col(Proposal.status).in_(sorted(statuses)),
        confirmed < minimum,
    )
    total = await session.scalar(select(func.count()).select_from(Proposal).where(*short))
    rows = (
        await session.exec(
            select(Proposal.number, confirmed)
            .where(*short)
            .order_by(col(Proposal.number))
            .limit(sample)
        )
    ).all()
    return int(total or 0), [(int(number), int(n)) for number, n in rows]
