"""MAG reviews of proposals: scores, reviewer assignments and conflicts of interest.

Score summaries come from ``ReviewTally``, one row per proposal counting each
score (1 to 5, so mean, median and spread follow exactly from five counts),
kept in step with ``Review`` in the same transaction by ``save_review``, the
only writer of reviews. Ranking 2,000 proposals then reads 2,000 small rows
instead of aggregating 16,000 reviews. Conflicts are few: they are found
with a handful of joins and their scores are taken out afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased, load_only
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deadlines import Deadline
from storage.panellists import Participation, Person
from storage.profiles import MagMember
from storage.proposals import BRIEF_COLUMNS, Proposal, ProposalBrief
from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow
from storage.upsert import insert_for

SCORES = (1, 2, 3, 4, 5)
DECLARED = "declared"
Pair = tuple[int, int]  # (proposal id, member user id)


class Review(SQLModel, table=True):
    """One MAG member's score of one proposal; a new score replaces the old."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", name="uq_review_proposal_member"),
        # Covers the scores of (proposal, member) pairs: conflicted ones are read from it alone.
        Index(
            "ix_review_guild_proposal_member",
            "guild_id",
            "proposal_id",
            "member_id",
            "score",
            "merge",
        ),
        Index("ix_review_guild_member", "guild_id", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    member_id: int = Field(sa_type=DiscordId)
    score: int
    comment: str | None = Field(default=None, sa_type=Text)
    merge: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewAssignment(SQLModel, table=True):
    """A proposal given to a MAG member to review."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", name="uq_review_assignment_pair"),
        Index("ix_review_assignment_guild_member", "guild_id", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    member_id: int = Field(sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConflictDeclaration(SQLModel, table=True):
    """A conflict of interest a MAG member declared on a proposal."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", name="uq_conflict_declaration_pair"),
        Index("ix_conflict_declaration_guild", "guild_id", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    member_id: int = Field(sa_type=DiscordId)
    reason: str | None = Field(default=None, sa_type=Text)
    # "member": declared by the member; "secretariat": a suspected conflict the
    # secretariat confirmed (decided_by says who).
    source: str = Field(default="member", max_length=12)
    decided_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConflictDismissal(SQLModel, table=True):
    """A suspected conflict the secretariat judged not to be one: it is no longer suspected."""

    __tablename__ = "conflict_dismissal"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", name="uq_conflict_dismissal_pair"),
        Index("ix_conflict_dismissal_guild", "guild_id", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    member_id: int = Field(sa_type=DiscordId)
    reason: str | None = Field(default=None, sa_type=Text)
    decided_by: int = Field(sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewRound(SQLModel, table=True):
    """A later review round: some proposals scored again within a window.

    The first round is every assigned proposal until the reviews deadline; a
    round stored here (2, 3…) reopens scoring for its proposals only, until
    its own deadline of kind *reviews*. A score counts for the round when it
    was given or changed after the round opened (``Review.updated_at``).
    """

    __tablename__ = "review_round"
    __table_args__ = (UniqueConstraint("guild_id", "number", name="uq_review_round_number"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId, index=True)
    number: int
    proposal_ids: list[int] = Field(default_factory=list, sa_column=Column(NullableJSON))
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    deadline_number: int | None = Field(default=None)
    created_by: int = Field(sa_type=DiscordId)


@dataclass(frozen=True)
class OpenRound:
    """A later round while it is open; it closes when its deadline is due (edits follow)."""

    id: int
    guild_id: int
    number: int
    proposal_ids: tuple[int, ...]
    opened_at: datetime
    closes_at: datetime  # its deadline's, now
    deadline_number: int | None


async def open_round(session: AsyncSession, *, guild_id: int, now: datetime) -> OpenRound | None:
    """Return the guild's review round open at ``now`` (None: only the first round).

    A round is open while its deadline is ahead: moving the deadline with
    ``/deadline edit`` moves the round, removing it closes the round.
    """
    query = (
        select(ReviewRound, Deadline.due_at)
        .join(
            Deadline,
            and_(
                col(Deadline.guild_id) == col(ReviewRound.guild_id),
                col(Deadline.number) == col(ReviewRound.deadline_number),
            ),
        )
        .where(
            ReviewRound.guild_id == guild_id,
            col(ReviewRound.opened_at) <= now,
            col(Deadline.removed_at).is_(None),
            col(Deadline.due_at) > now,
        )
        .order_by(col(ReviewRound.number).desc())
        .limit(1)
    )
    found = (await session.exec(query)).first()
    if found is None:
        return None
    row, due = found
    return OpenRound(
        id=row.id or 0,
        guild_id=row.guild_id,
        number=row.number,
        proposal_ids=tuple(row.proposal_ids or ()),
        opened_at=row.opened_at,
        closes_at=due,
        deadline_number=row.deadline_number,
    )


async def round_of_deadline(
    session: AsyncSession, *, guild_id: int, deadline_number: int
) -> ReviewRound | None:
    """Return the round whose window is the deadline ``deadline_number`` (None: none is)."""
    query = select(ReviewRound).where(
        ReviewRound.guild_id == guild_id, ReviewRound.deadline_number == deadline_number
    )
    return (await session.exec(query)).first()


async def last_round_number(session: AsyncSession, *, guild_id: int) -> int:
    """Return the number of the guild's latest round (1: only the first)."""
    query = select(func.max(ReviewRound.number)).where(ReviewRound.guild_id == guild_id)
    return int((await session.exec(query)).one() or 1)


async def round_pairs(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_ids: Collection[int],
    since: datetime,
    closed: Collection[str],
    member_id: int | None = None,
) -> list[tuple[int, int, bool]]:
    """Return (member, proposal, scored again) for a round's assignments.

    Scored again: a score given or changed after ``since`` (the round's
    opening). Proposals closed since (``closed`` statuses) and declared
    conflicts are left out: nobody can score them.
    """
    rescored = exists().where(
        col(Review.guild_id) == guild_id,
        col(Review.proposal_id) == col(ReviewAssignment.proposal_id),
        col(Review.member_id) == col(ReviewAssignment.member_id),
        col(Review.updated_at) > since,
    )
    conflicted = exists().where(
        col(ConflictDeclaration.guild_id) == guild_id,
        col(ConflictDeclaration.proposal_id) == col(ReviewAssignment.proposal_id),
        col(ConflictDeclaration.member_id) == col(ReviewAssignment.member_id),
    )
    query = (
        select(
            ReviewAssignment.member_id,
            ReviewAssignment.proposal_id,
            case((rescored, 1), else_=0),
        )
        .join(Proposal, col(Proposal.id) == col(ReviewAssignment.proposal_id))
        .where(
            ReviewAssignment.guild_id == guild_id,
            col(ReviewAssignment.proposal_id).in_(list(proposal_ids) or [0]),
            col(Proposal.status).not_in(sorted(closed)),
            ~conflicted,
        )
        .order_by(col(ReviewAssignment.member_id), col(ReviewAssignment.proposal_id))
    )
    if member_id is not None:
        query = query.where(ReviewAssignment.member_id == member_id)
    return [(int(m), int(p), bool(done)) for m, p, done in (await session.exec(query)).all()]


class ReviewTally(SQLModel, table=True):
    """How many times each score was given to one proposal (all reviews, conflicted too)."""

    __tablename__ = "review_tally"
    __table_args__ = (Index("ix_review_tally_guild", "guild_id", "proposal_id"),)

    proposal_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("proposal.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    guild_id: int = Field(sa_type=DiscordId)
    n1: int = Field(default=0)
    n2: int = Field(default=0)
    n3: int = Field(default=0)
    n4: int = Field(default=0)
    n5: int = Field(default=0)
    merges: int = Field(default=0)


@dataclass
class Histogram:
    """How many times each score was given to one proposal, and the merge ticks."""

    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))
    merges: int = 0

    @property
    def total(self) -> int:
        """Return the number of scores."""
        return sum(self.counts.values())


# --- reviews ---------------------------------------------------------------


async def get_review(
    session: AsyncSession, *, guild_id: int, proposal_id: int, member_id: int
) -> Review | None:
    """Return the member's review of the proposal, locked for this transaction."""
    query = (
        select(Review)
        .where(
            Review.guild_id == guild_id,
            Review.proposal_id == proposal_id,
            Review.member_id == member_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def save_review(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_id: int,
    member_id: int,
    score: int,
    comment: str | None,
    merge: bool,
    at: datetime,
) -> tuple[Review, dict[str, Any] | None]:
    """Store the member's score (replacing any earlier one); return it and what it replaced."""
    values: dict[str, Any] = {"score": score, "comment": comment, "merge": merge, "updated_at": at}
    key = {"guild_id": guild_id, "proposal_id": proposal_id, "member_id": member_id}
    review = await get_review(session, **key)
    if review is None:
        new_id = (
            await session.exec(
                insert_for(session, Review)
                .values(**key, created_at=at, **values)
                .on_conflict_do_nothing(index_elements=["proposal_id", "member_id"])
                .returning(col(Review.id))
            )
        ).scalar_one_or_none()
        review = await get_review(session, **key)
        assert review is not None
        if new_id is not None:
            await _tally(session, guild_id, proposal_id, add=(score, merge), remove=None)
            return review, None
    before = {"score": review.score, "comment": review.comment, "merge": review.merge}
    await _tally(
        session, guild_id, proposal_id, add=(score, merge), remove=(review.score, review.merge)
    )
    for name, value in values.items():
        setattr(review, name, value)
    return review, before


async def delete_review(
    session: AsyncSession, *, guild_id: int, proposal_id: int, member_id: int
) -> Review | None:
    """Remove the member's score of a proposal (and from its tally); return it (None: none)."""
    review = await get_review(
        session, guild_id=guild_id, proposal_id=proposal_id, member_id=member_id
    )
    if review is None:
        return None
    await _tally(session, guild_id, proposal_id, add=None, remove=(review.score, review.merge))
    await session.delete(review)
    await session.flush()
    return review


async def _tally(
    session: AsyncSession,
    guild_id: int,
    proposal_id: int,
    *,
    add: tuple[int, bool] | None,
    remove: tuple[int, bool] | None,
) -> None:
    """Move the proposal's tally from the ``remove``d score to the ``add``ed one."""
    await session.exec(
        insert_for(session, ReviewTally)
        .values(guild_id=guild_id, proposal_id=proposal_id)
        .on_conflict_do_nothing(index_elements=["proposal_id"])
    )
    delta: dict[str, int] = {f"n{add[0]}": 1, "merges": int(add[1])} if add else {"merges": 0}
    if remove is not None:
        delta[f"n{remove[0]}"] = delta.get(f"n{remove[0]}", 0) - 1
        delta["merges"] -= int(remove[1])
    changes = {name: col(getattr(ReviewTally, name)) + step for name, step in delta.items() if step}
    if changes:
        # One atomic UPDATE: concurrent scores of the same proposal never lose a count.
        await session.exec(
            update(ReviewTally).where(col(ReviewTally.proposal_id) == proposal_id).values(changes)
        )


async def review_counts(
    session: AsyncSession, *, guild_id: int, proposal_ids: Collection[int]
) -> dict[int, int]:
    """Return how many reviews each proposal has (conflicted ones included)."""
    if not proposal_ids:
        return {}
    query = (
        select(Review.proposal_id, func.count())
        .where(Review.guild_id == guild_id, col(Review.proposal_id).in_(list(proposal_ids)))
        .group_by(col(Review.proposal_id))
    )
    return {int(pid): int(n) for pid, n in (await session.exec(query)).all()}


async def reviews_of(session: AsyncSession, *, guild_id: int, proposal_id: int) -> list[Review]:
    """Return every review of one proposal, oldest first."""
    query = (
        select(Review)
        .where(Review.guild_id == guild_id, Review.proposal_id == proposal_id)
        .order_by(col(Review.id))
    )
    return list((await session.exec(query)).all())


async def score_histograms(
    session: AsyncSession, *, guild_id: int, proposal_ids: Collection[int] | None = None
) -> dict[int, Histogram]:
    """Return the score histogram of each reviewed proposal (every review counted)."""
    t = ReviewTally
    columns: list[Any] = [col(c) for c in (t.proposal_id, t.n1, t.n2, t.n3, t.n4, t.n5, t.merges)]
    query = select(*columns).where(col(ReviewTally.guild_id) == guild_id)
    if proposal_ids is not None:
        query = query.where(col(ReviewTally.proposal_id).in_(list(proposal_ids)))
    result: dict[int, Histogram] = {}
    for proposal_id, n1, n2, n3, n4, n5, merges in (await session.exec(query)).all():
        if n1 or n2 or n3 or n4 or n5:
            counts = {1: n1, 2: n2, 3: n3, 4: n4, 5: n5}
            result[proposal_id] = Histogram(counts=counts, merges=merges)
    return result


async def count_scores(
    session: AsyncSession, *, guild_id: int, proposal_ids: Collection[int] | None = None
) -> dict[int, Histogram]:
    """Return the histograms counted from the reviews themselves (checks ``ReviewTally``)."""
    query = (
        select(
            col(Review.proposal_id),
            col(Review.score),
            func.count(),
            func.sum(case((col(Review.merge), 1), else_=0)),
        )
        .where(col(Review.guild_id) == guild_id)
        .group_by(col(Review.proposal_id), col(Review.score))
    )
    if proposal_ids is not None:
        query = query.where(col(Review.proposal_id).in_(list(proposal_ids)))
    result: dict[int, Histogram] = {}
    for proposal_id, score, count, merges in (await session.exec(query)).all():
        histogram = result.setdefault(int(proposal_id), Histogram())
        histogram.counts[int(score)] += int(count)
        histogram.merges += int(merges or 0)
    return result


async def scores_for_pairs(
    session: AsyncSession, *, guild_id: int, pairs: Collection[Pair]
) -> list[tuple[int, int, int, bool]]:
    """Return (proposal id, member id, score, merge) of the reviews by these pairs."""
    found: list[tuple[int, int, int, bool]] = []
    ordered = sorted(set(pairs))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = select(
            col(Review.proposal_id), col(Review.member_id), col(Review.score), col(Review.merge)
        ).where(
            col(Review.guild_id) == guild_id,
            tuple_(col(Review.proposal_id), col(Review.member_id)).in_(chunk),
        )
        found.extend(
            (int(p), int(m), int(s), bool(g)) for p, m, s, g in (await session.exec(query)).all()
        )
    return found


async def reviewed_pairs(
    session: AsyncSession, *, guild_id: int, member_id: int | None = None
) -> set[Pair]:
    """Return the (proposal, member) pairs that have a review."""
    query = select(Review.proposal_id, Review.member_id).where(Review.guild_id == guild_id)
    if member_id is not None:
        query = query.where(Review.member_id == member_id)
    return {(int(p), int(m)) for p, m in (await session.exec(query)).all()}


# --- conflicts -------------------------------------------------------------


async def add_conflict(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_id: int,
    member_id: int,
    reason: str | None,
    at: datetime,
    source: str = "member",
    decided_by: int | None = None,
) -> bool:
    """Record a conflict (declared, or confirmed by the secretariat); False if it existed."""
    new_id = (
        await session.exec(
            insert_for(session, ConflictDeclaration)
            .values(
                guild_id=guild_id,
                proposal_id=proposal_id,
                member_id=member_id,
                reason=reason,
                source=source,
                decided_by=decided_by,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["proposal_id", "member_id"])
            .returning(col(ConflictDeclaration.id))
        )
    ).scalar_one_or_none()
    return new_id is not None


async def dismiss_conflict(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_id: int,
    member_id: int,
    reason: str | None,
    decided_by: int,
    at: datetime,
) -> bool:
    """Record that a suspected conflict is not one; return False when it was already dismissed."""
    new_id = (
        await session.exec(
            insert_for(session, ConflictDismissal)
            .values(
                guild_id=guild_id,
                proposal_id=proposal_id,
                member_id=member_id,
                reason=reason,
                decided_by=decided_by,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["proposal_id", "member_id"])
            .returning(col(ConflictDismissal.id))
        )
    ).scalar_one_or_none()
    return new_id is not None


async def conflict_of(
    session: AsyncSession, *, guild_id: int, proposal_id: int, member_id: int
) -> ConflictDeclaration | None:
    """Return the recorded conflict of a member on a proposal (None: there is none)."""
    query = select(ConflictDeclaration).where(
        ConflictDeclaration.guild_id == guild_id,
        ConflictDeclaration.proposal_id == proposal_id,
        ConflictDeclaration.member_id == member_id,
    )
    return (await session.exec(query)).first()


async def withdraw_conflict(
    session: AsyncSession, *, guild_id: int, proposal_id: int, member_id: int
) -> ConflictDeclaration | None:
    """Remove a recorded conflict and return it (None: there was none)."""
    query = select(ConflictDeclaration).where(
        ConflictDeclaration.guild_id == guild_id,
        ConflictDeclaration.proposal_id == proposal_id,
        ConflictDeclaration.member_id == member_id,
    )
    found = (await session.exec(query)).first()
    if found is not None:
        await session.delete(found)
        await session.flush()
    return found


# The big conflict and ranking statements are built once per shape and reused
# with these parameters: building and hashing them each time cost more than
# running them.
GUILD = bindparam("guild_id", type_=BigInteger)
PROPOSAL_IDS: Any = bindparam("proposal_ids", expanding=True)
MEMBER_IDS: Any = bindparam("member_ids", expanding=True)
SUBTHEME: Any = bindparam("subtheme")


def _limit(query: Any, proposal_col: Any, member_col: Any, proposals: bool, members: bool) -> Any:
    if proposals:
        query = query.where(proposal_col.in_(PROPOSAL_IDS))
    if members:
        query = query.where(member_col.in_(MEMBER_IDS))
    return query


# Reasons of the conflicts that follow from the data.
SUBMITTED_IT = "submitted it"
ON_IT = "is on it"
NOMINATED = "was nominated to it"
LINKED_ON_IT = "is linked to a person on it"
SAME_AS_ORGANIZER = "shares an affiliation with its organizers"
SAME_AS_PROPOSER = "shares an affiliation with its proposer"
GIVEN = "given"  # Participation.consent of an agreement


@lru_cache(maxsize=32)
def conflicts_query(
    *,
    active: tuple[str, ...],
    include_own: bool = True,
    by_proposal: bool = False,
    by_member: bool = False,
) -> Any:
    """Return the query of conflicted pairs (a conflict counts): proposal_id, member_id, reason.

    Parameters: ``guild_id``, and ``proposal_ids`` / ``member_ids`` when
    ``by_proposal`` / ``by_member`` restrict it.

    Only what the member (or the secretariat) did makes a conflict count: a
    conflict recorded in ``ConflictDeclaration`` (declared by the member, or a
    suspected one the secretariat confirmed), the member submitted the proposal
    (left out with ``include_own=False``), or the member's own account agreed
    to an active participation on it, or a person confirmed as the member
    agreed to one (also when the secretariat recorded that answer). What
    others typed never does: see
    ``suspected_query``. A pair may come more than once, with different reasons.
    """
    active_list = list(active)
    parts: list[Any] = []

    def add(query: Any, proposal_col: Any, member_col: Any) -> None:
        parts.append(_limit(query, proposal_col, member_col, by_proposal, by_member))

    guild_id = GUILD

    add(
        select(
            col(ConflictDeclaration.proposal_id).label("proposal_id"),
            col(ConflictDeclaration.member_id).label("member_id"),
            literal(DECLARED).label("reason"),
        ).where(col(ConflictDeclaration.guild_id) == guild_id),
        col(ConflictDeclaration.proposal_id),
        col(ConflictDeclaration.member_id),
    )
    if include_own:
        add(
            select(col(Proposal.id), col(Proposal.proposer_id), literal(SUBMITTED_IT)).where(
                col(Proposal.guild_id) == guild_id
            ),
            col(Proposal.id),
            col(Proposal.proposer_id),
        )
    add(
        select(
            col(Participation.proposal_id), col(Participation.answered_by), literal(ON_IT)
        ).where(
            # Few participations are answered (ix_participation_guild_answered).
            col(Participation.guild_id) == guild_id,
            col(Participation.answered_by).is_not(None),
            col(Participation.consent) == GIVEN,
            col(Participation.status).in_(active_list),
        ),
        col(Participation.proposal_id),
        col(Participation.answered_by),
    )
    # The member is the person (they confirmed it, or the secretariat did) and
    # the person agreed, also when the secretariat recorded the answer.
    add(
        select(col(Participation.proposal_id), col(Person.user_id), literal(ON_IT))
        .join(Person, col(Person.id) == col(Participation.person_id))
        .where(
            col(Person.guild_id) == guild_id,
            col(Person.user_id).is_not(None),
            col(Participation.consent) == GIVEN,
            col(Participation.status).in_(active_list),
        ),
        col(Participation.proposal_id),
        col(Person.user_id),
    )
    return union_all(*parts)


@lru_cache(maxsize=32)
def suspected_query(*, active: tuple[str, ...], by_member: bool = False) -> Any:
    """Return the query of suspected conflicts: proposal_id, member_id, reason.

    Parameters: ``guild_id`` and, with ``by_member``, ``member_ids``.

    What the data suggests but nobody confirmed: someone named the member's
    account for a participation on it, a person confirmed as the member is on
    it, or the member's profile shares an affiliation with its organizers or
    its proposer. Each part starts from the few rows that can match (named
    accounts, linked people, profiles), so the guild's size hardly matters.
    The member or the secretariat settles each; until then scores count.
    """
    active_list = list(active)
    parts: list[Any] = []
    guild_id = GUILD

    def add(query: Any, proposal_col: Any, member_col: Any) -> None:
        parts.append(_limit(query, proposal_col, member_col, False, by_member))

    add(
        select(
            col(Participation.proposal_id).label("proposal_id"),
            col(Participation.invitee_id).label("member_id"),
            literal(NOMINATED).label("reason"),
        ).where(
            col(Participation.guild_id) == guild_id,
            col(Participation.invitee_id).is_not(None),
            col(Participation.status).in_(active_list),
        ),
        col(Participation.proposal_id),
        col(Participation.invitee_id),
    )
    add(
        select(col(Participation.proposal_id), col(Person.user_id), literal(LINKED_ON_IT))
        .join(Person, col(Person.id) == Participation.person_id)
        .where(
            col(Person.guild_id) == guild_id,
            col(Person.user_id).is_not(None),
            col(Participation.guild_id) == guild_id,
            col(Participation.status).in_(active_list),
        ),
        col(Participation.proposal_id),
        col(Person.user_id),
    )
    add(
        select(col(Participation.proposal_id), col(MagMember.user_id), literal(SAME_AS_ORGANIZER))
        .join(Person, col(Person.id) == Participation.person_id)
        .join(
            MagMember,
            and_(
                col(MagMember.guild_id) == Person.guild_id,
                col(MagMember.affiliation_key) == Person.affiliation_key,
            ),
        )
        .where(
            col(MagMember.guild_id) == guild_id,
            col(MagMember.affiliation_key).is_not(None),
            col(Person.guild_id) == guild_id,
            col(Participation.guild_id) == guild_id,
            col(Participation.role) == "organizer",
            col(Participation.status).in_(active_list),
        ),
        col(Participation.proposal_id),
        col(MagMember.user_id),
    )
    for linked in (aliased(Person), aliased(MagMember)):
        add(
            select(col(Proposal.id), col(MagMember.user_id), literal(SAME_AS_PROPOSER))
            .join(
                linked,
                and_(
                    col(linked.guild_id) == Proposal.guild_id,
                    col(linked.user_id) == Proposal.proposer_id,
                ),
            )
            .join(
                MagMember,
                and_(
                    col(MagMember.guild_id) == Proposal.guild_id,
                    col(MagMember.affiliation_key) == linked.affiliation_key,
                ),
            )
            .where(
                col(Proposal.guild_id) == guild_id,
                col(MagMember.affiliation_key).is_not(None),
                col(MagMember.user_id) != Proposal.proposer_id,
            ),
            col(Proposal.id),
            col(MagMember.user_id),
        )
    return union_all(*parts)


def _params(
    guild_id: int, proposal_ids: Collection[int] | None, member_ids: Collection[int] | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"guild_id": guild_id}
    if proposal_ids is not None:
        params["proposal_ids"] = list(proposal_ids)
    if member_ids is not None:
        params["member_ids"] = list(member_ids)
    return params


async def find_conflict_pairs(
    session: AsyncSession,
    *,
    guild_id: int,
    active: Collection[str],
    proposal_ids: Collection[int] | None = None,
    member_ids: Collection[int] | None = None,
    include_own: bool = True,
) -> dict[Pair, str]:
    """Return every pair whose conflict counts, with its reason, in one query."""
    query = conflicts_query(
        active=tuple(active),
        include_own=include_own,
        by_proposal=proposal_ids is not None,
        by_member=member_ids is not None,
    )
    found: dict[Pair, str] = {}
    rows = (await session.exec(query, params=_params(guild_id, proposal_ids, member_ids))).all()
    for p, m, reason in rows:
        pair = (int(p), int(m))
        # A declared conflict names itself; otherwise the first reason found.
        if reason == DECLARED or pair not in found:
            found[pair] = str(reason)
    return found


async def find_suspected_pairs(
    session: AsyncSession,
    *,
    guild_id: int,
    active: Collection[str],
    member_ids: Collection[int] | None = None,
    proposal_ids: Collection[int] | None = None,
) -> dict[Pair, tuple[str, ...]]:
    """Return the suspected conflicts still to settle, with their reasons.

    Pairs whose conflict already counts and pairs the secretariat dismissed
    are left out. Asked about given ``member_ids``, those members are taken
    as MAG members; asked about everyone, only those with a profile or a score.
    """
    query = suspected_query(active=tuple(active), by_member=member_ids is not None)
    rows = (await session.exec(query, params=_params(guild_id, None, member_ids))).all()
    wanted = set(proposal_ids) if proposal_ids is not None else None
    reasons: dict[Pair, list[str]] = {}
    for p, m, reason in rows:
        pair = (int(p), int(m))
        if wanted is not None and pair[0] not in wanted:
            continue
        found = reasons.setdefault(pair, [])
        if reason not in found:
            found.append(str(reason))
    if not reasons:
        return {}
    members = {m for _, m in reasons}
    profiled = (
        set(member_ids)
        if member_ids is not None
        else set(
            (
                await session.exec(
                    select(MagMember.user_id).where(
                        MagMember.guild_id == guild_id, col(MagMember.user_id).in_(sorted(members))
                    )
                )
            ).all()
        )
        | set(
            (
                await session.exec(
                    select(Review.member_id)
                    .where(Review.guild_id == guild_id, col(Review.member_id).in_(sorted(members)))
                    .distinct()
                )
            ).all()
        )
    )
    proposals = sorted({p for p, _ in reasons})
    counted = await find_conflict_pairs(
        session, guild_id=guild_id, active=active, proposal_ids=proposals, member_ids=members
    )
    dismissed = {
        (int(p), int(m))
        for p, m in (
            await session.exec(
                select(ConflictDismissal.proposal_id, ConflictDismissal.member_id).where(
                    ConflictDismissal.guild_id == guild_id,
                    col(ConflictDismissal.member_id).in_(sorted(members)),
                )
            )
        ).all()
    }
    return {
        pair: tuple(found)
        for pair, found in sorted(reasons.items())
        if pair[1] in profiled and pair not in counted and pair not in dismissed
    }


# --- the ranking -----------------------------------------------------------


@dataclass(frozen=True)
class RankedRow:
    """One proposal of the ranking, with its histogram once conflicted scores are out."""

    proposal: ProposalBrief
    histogram: Histogram
    excluded: int


@lru_cache(maxsize=32)
def _ranking_query(
    *,
    active: tuple[str, ...],
    statuses: tuple[str, ...] | None,
    by_subtheme: bool,
    kinds: tuple[str, ...] | None,
) -> Any:
    """Return the ranking statement for one shape of filters (parameters: guild_id, subtheme)."""
    guild_id = GUILD
    pairs = conflicts_query(active=active, include_own=False).subquery()
    distinct_pairs = select(pairs.c.proposal_id, pairs.c.member_id).distinct().subquery()
    conflicted_columns: list[Any] = [
        col(Review.proposal_id).label("proposal_id"),
        *(func.sum(case((col(Review.score) == s, 1), else_=0)).label(f"c{s}") for s in SCORES),
        func.sum(case((col(Review.merge), 1), else_=0)).label("cm"),
        func.count().label("cn"),
    ]
    conflicted = (
        select(*conflicted_columns)
        .join(
            distinct_pairs,
            and_(
                distinct_pairs.c.proposal_id == Review.proposal_id,
                distinct_pairs.c.member_id == Review.member_id,
            ),
        )
        .where(col(Review.guild_id) == guild_id)
        .group_by(col(Review.proposal_id))
        .subquery()
    )
    tally = ReviewTally
    inner_columns: list[Any] = [
        col(Proposal.id).label("id"),
        col(Proposal.number).label("number"),
        col(Proposal.kind).label("kind"),
        col(Proposal.title).label("title"),
        col(Proposal.status).label("status"),
        col(Proposal.subtheme).label("subtheme"),
        *(
            (
                func.coalesce(col(getattr(tally, f"n{s}")), 0)
                - func.coalesce(conflicted.c[f"c{s}"], 0)
            ).label(f"a{s}")
            for s in SCORES
        ),
        (func.coalesce(col(tally.merges), 0) - func.coalesce(conflicted.c.cm, 0)).label("merges"),
        func.coalesce(conflicted.c.cn, 0).label("excluded"),
    ]
    inner = (
        select(*inner_columns)
        .outerjoin(tally, col(tally.proposal_id) == Proposal.id)
        .outerjoin(conflicted, conflicted.c.proposal_id == Proposal.id)
        .where(col(Proposal.guild_id) == guild_id)
    )
    if statuses:
        inner = inner.where(col(Proposal.status).in_(list(statuses)))
    if by_subtheme:
        inner = inner.where(col(Proposal.subtheme) == SUBTHEME)
    if kinds:
        inner = inner.where(col(Proposal.kind).in_(list(kinds)))
    # Materialised once, so that the ranking expressions below read plain columns
    # (SQLite would otherwise substitute the whole subtraction into every use).
    ranked = inner.cte("ranked").prefix_with("MATERIALIZED")
    a = [ranked.c[f"a{s}"] for s in SCORES]
    n = a[0] + a[1] + a[2] + a[3] + a[4]
    total = a[0] + 2 * a[1] + 3 * a[2] + 4 * a[3] + 5 * a[4]

    def score_at(position: Any) -> Any:  # the score at a 1-based position, in order
        return case(
            (a[0] >= position, 1),
            (a[0] + a[1] >= position, 2),
            (a[0] + a[1] + a[2] >= position, 3),
            (a[0] + a[1] + a[2] + a[3] >= position, 4),
            else_=5,
        )

    scored = n > 0
    # The two middle positions (the same one when n is odd); // is integer division.
    # Floating point on both backends (PostgreSQL would otherwise divide NUMERICs):
    # the same doubles as Python computes, so ties fall the same way everywhere.
    mean = case((scored, cast(total, Float) / n), else_=None)
    middle = score_at((n + 1) // 2) + score_at(n // 2 + 1)
    median = case((scored, cast(middle, Float) / 2), else_=None)
    outer_columns: list[Any] = [*ranked.c, func.count().over()]
    query = (
        select(*outer_columns)
        .order_by(case((scored, 0), else_=1), mean.desc(), median.desc(), n.desc())
        .order_by(ranked.c.number)
    )
    return query


async def ranked_page(
    session: AsyncSession,
    *,
    guild_id: int,
    active: Collection[str],
    statuses: Collection[str] | None,
    subtheme: str | None,
    kinds: Collection[str] | None,
    offset: int,
    limit: int,
) -> tuple[list[RankedRow], int]:
    """Return one page of the ranking and the number of ranked proposals, in one query.

    Each proposal's tally, minus the scores of conflicted members (declared or
    found; a proposer's own score cannot exist), ranked by mean, median and
    number of scores (all descending), then by number; unscored ones last.
    """
    query = (
        _ranking_query(
            active=tuple(active),
            statuses=tuple(statuses) if statuses else None,
            by_subtheme=subtheme is not None,
            kinds=tuple(kinds) if kinds else None,
        )
        .offset(offset)
        .limit(limit)
    )
    params: dict[str, Any] = {"guild_id": guild_id}
    if subtheme is not None:
        params["subtheme"] = subtheme
    rows: list[RankedRow] = []
    count = 0
    for row in (await session.exec(query, params=params)).all():
        brief = ProposalBrief(*row[:6])
        counts = {s: int(row[6 + i]) for i, s in enumerate(SCORES)}
        rows.append(RankedRow(brief, Histogram(counts, int(row[11])), int(row[12])))
        count = int(row[13])
    if not rows and offset:
        count = (
            await ranked_page(
                session,
                guild_id=guild_id,
                active=active,
                statuses=statuses,
                subtheme=subtheme,
                kinds=kinds,
                offset=0,
                limit=1,
            )
        )[1]
    return rows, count


# --- assignments -----------------------------------------------------------


async def list_assignments(session: AsyncSession, *, guild_id: int) -> set[Pair]:
    """Return every (proposal, member) assignment of the guild."""
    query = select(ReviewAssignment.proposal_id, ReviewAssignment.member_id).where(
        ReviewAssignment.guild_id == guild_id
    )
    return {(int(p), int(m)) for p, m in (await session.exec(query)).all()}


async def add_assignments(
    session: AsyncSession, *, guild_id: int, pairs: Iterable[Pair], at: datetime
) -> None:
    """Add assignments (pairs already assigned are left as they are)."""
    rows = [
        {"guild_id": guild_id, "proposal_id": p, "member_id": m, "created_at": at}
        for p, m in sorted(pairs)
    ]
    if rows:
        await session.exec(
            insert_for(session, ReviewAssignment)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["proposal_id", "member_id"])
        )


async def remove_assignments(session: AsyncSession, *, guild_id: int, pairs: Iterable[Pair]) -> int:
    """Remove these assignments; return how many there were."""
    removed = 0
    by_member: dict[int, list[int]] = {}
    for p, m in pairs:
        by_member.setdefault(m, []).append(p)
    for member, proposals in sorted(by_member.items()):
        result = await session.exec(
            delete(ReviewAssignment).where(
                col(ReviewAssignment.guild_id) == guild_id,
                col(ReviewAssignment.member_id) == member,
                col(ReviewAssignment.proposal_id).in_(proposals),
            )
        )
        removed += result.rowcount
    return removed


async def assignment_order(
    session: AsyncSession, *, guild_id: int, proposal_id: int
) -> dict[int, int]:
    """Return the place (0, 1…) of each member assigned to a proposal, in assignment order."""
    query = (
        select(ReviewAssignment.member_id)
        .where(ReviewAssignment.guild_id == guild_id, ReviewAssignment.proposal_id == proposal_id)
        .order_by(col(ReviewAssignment.id))
    )
    return {int(m): i for i, m in enumerate((await session.exec(query)).all())}


async def lettered_reviews(session: AsyncSession, *, guild_id: int) -> dict[int, list[Review]]:
    """Return every review of the guild by proposal, in the order "Reviewer A, B…" names them.

    Assigned reviewers first, in assignment order; the others after, oldest review first.
    """
    reviews = (
        await session.exec(
            select(Review).where(Review.guild_id == guild_id).order_by(col(Review.id))
        )
    ).all()
    assigned = (
        await session.exec(
            select(ReviewAssignment.proposal_id, ReviewAssignment.member_id)
            .where(ReviewAssignment.guild_id == guild_id)
            .order_by(col(ReviewAssignment.id))
        )
    ).all()
    places: dict[int, dict[int, int]] = {}
    for proposal_id, member_id in assigned:
        order = places.setdefault(int(proposal_id), {})
        order[int(member_id)] = len(order)
    by_proposal: dict[int, list[Review]] = {}
    for review in reviews:
        by_proposal.setdefault(review.proposal_id, []).append(review)
    for proposal_id, rows in by_proposal.items():
        order = places.get(proposal_id, {})
        rows.sort(key=lambda r: (order.get(r.member_id, len(order)), r.id or 0))
    return by_proposal


async def open_assignments(session: AsyncSession, *, guild_id: int, proposal_id: int) -> int:
    """Return how many of the proposal's assigned reviewers have not scored it.

    Reviewers whose conflict on it counts are not waited for.
    """
    scored = exists().where(
        col(Review.guild_id) == guild_id,
        col(Review.proposal_id) == ReviewAssignment.proposal_id,
        col(Review.member_id) == ReviewAssignment.member_id,
    )
    conflicted = exists().where(
        col(ConflictDeclaration.guild_id) == guild_id,
        col(ConflictDeclaration.proposal_id) == ReviewAssignment.proposal_id,
        col(ConflictDeclaration.member_id) == ReviewAssignment.member_id,
    )
    query = select(func.count()).where(
        ReviewAssignment.guild_id == guild_id,
        ReviewAssignment.proposal_id == proposal_id,
        ~scored,
        ~conflicted,
    )
    return int((await session.exec(query)).one())


async def assigned_unreviewed(
    session: AsyncSession, *, guild_id: int, member_id: int
) -> list[Proposal]:
    """Return the proposals assigned to the member that they have not scored, by number.

    Only the columns a queue shows are loaded (a member may have hundreds
    assigned, and the long texts were most of the cost).
    """
    scored = select(Review.proposal_id).where(
        col(Review.guild_id) == guild_id, col(Review.member_id) == member_id
    )
    query = (
        select(Proposal)
        .options(load_only(*(getattr(Proposal, name) for name in BRIEF_COLUMNS)))
        .join(ReviewAssignment, col(ReviewAssignment.proposal_id) == Proposal.id)
        .where(
            ReviewAssignment.guild_id == guild_id,
            ReviewAssignment.member_id == member_id,
            col(ReviewAssignment.proposal_id).not_in(scored),
        )
        .order_by(col(Proposal.number))
    )
    return list((await session.exec(query)).all())


@dataclass(frozen=True)
class MemberProgress:
    """One reviewer's assignments: how many, how many scored, how many set aside for a conflict."""

    member_id: int
    assigned: int
    scored: int
    conflicted: int

    @property
    def to_score(self) -> int:
        return max(0, self.assigned - self.scored - self.conflicted)


async def review_progress(
    session: AsyncSession,
    *,
    guild_id: int,
    closed: Collection[str],
    member_id: int | None = None,
) -> list[MemberProgress]:
    """Return each reviewer's progress on their open assignments, in one grouped query.

    An assignment counts while its proposal is not closed (``closed``
    statuses); it is scored when the member's review exists, set aside when
    the member declared (or was found to have) a conflict on it and has not
    scored it.
    """
    review = aliased(Review)
    conflict = aliased(ConflictDeclaration)
    scored = case((review.id.is_not(None), 1), else_=0)  # type: ignore[union-attr]
    conflicted = case(
        (and_(review.id.is_(None), conflict.id.is_not(None)), 1),  # type: ignore[union-attr]
        else_=0,
    )
    query = (
        select(
            ReviewAssignment.member_id,
            func.count(),
            func.sum(scored),
            func.sum(conflicted),
        )
        .outerjoin(
            review,
            and_(
                col(review.proposal_id) == col(ReviewAssignment.proposal_id),
                col(review.member_id) == col(ReviewAssignment.member_id),
            ),
        )
        .outerjoin(
            conflict,
            and_(
                col(conflict.proposal_id) == col(ReviewAssignment.proposal_id),
                col(conflict.member_id) == col(ReviewAssignment.member_id),
            ),
        )
        .where(
            ReviewAssignment.guild_id == guild_id,
            # Few proposals are closed: leaving them out by a small list beats a join.
            col(ReviewAssignment.proposal_id).not_in(
                select(Proposal.id).where(
                    Proposal.guild_id == guild_id, col(Proposal.status).in_(list(closed))
                )
            ),
        )
        .group_by(col(ReviewAssignment.member_id))
        .order_by(col(ReviewAssignment.member_id))
    )
    if member_id is not None:
        query = query.where(ReviewAssignment.member_id == member_id)
    rows = (await session.exec(query)).all()
    return [MemberProgress(int(m), int(n or 0), int(s or 0), int(c or 0)) for m, n, s, c in rows]


async def ranked_scores(
    session: AsyncSession,
    *,
    guild_id: int,
    statuses: Collection[str],
    kinds: Collection[str],
    subtheme: str | None = None,
) -> tuple[dict[int, ProposalBrief], list[tuple[int, int, int]]]:
    """Return the ranked proposals' briefs (by id) and every score on them.

    Scores are (proposal id, member id, score).

    Two statements, only the short columns: a normalised ranking needs every
    reviewer's scores at once (16,000 at IGF scale).
    """
    # Core statements on the session's connection: no ORM rows for 16,000 scores.
    proposal = Proposal.__table__  # type: ignore[attr-defined]
    review = Review.__table__  # type: ignore[attr-defined]
    fields = ("id", "number", "kind", "title", "status", "subtheme")
    query = core_select(*(proposal.c[name] for name in fields)).where(
        proposal.c.guild_id == guild_id,
        proposal.c.status.in_(list(statuses)),
        proposal.c.kind.in_(list(kinds)),
    )
    if subtheme is not None:
        query = query.where(proposal.c.subtheme == subtheme)
    connection = await session.connection()
    briefs = {int(row[0]): ProposalBrief(*row) for row in (await connection.execute(query))}
    scores = core_select(review.c.proposal_id, review.c.member_id, review.c.score).where(
        review.c.guild_id == guild_id
    )
    found = [(p, m, s) for p, m, s in (await connection.execute(scores)) if p in briefs]
    return briefs, found
