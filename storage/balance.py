"""The counts behind the balance statistics, aggregated in SQL.

One query answers every dimension at once, in three steps:

1. the matching seats are found from the proposal side (by guild and status)
   and folded per person: seats, whether present, onsite seats;
2. each person's attributes are joined once (a person is one row, however
   many seats they hold);
3. one grouped branch per dimension, joined by UNION ALL, sums seats and
   counts people, so the database returns a few dozen rows however many
   participations there are.

Folding per person first gives exact people counts without
``COUNT(DISTINCT ...)`` per branch, and halved the time of the query on
SQLite. Several selections (the stages of a funnel, the programme before and
after a decision) are counted in the same pass with conditional aggregates.

A seat is one participation; a person on three sessions is one person and
three seats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.decisions import ProposalDecision
from storage.panellists import Participation, Person
from storage.profiles import MagMember
from storage.proposals import Proposal

PARTICIPATION: Final = Participation.__table__  # type: ignore[attr-defined]
PERSON: Final = Person.__table__  # type: ignore[attr-defined]
PROPOSAL: Final = Proposal.__table__  # type: ignore[attr-defined]
DRAFT: Final = ProposalDecision.__table__  # type: ignore[attr-defined]
MAG_MEMBER: Final = MagMember.__table__  # type: ignore[attr-defined]

# No index of its own: the seats of one proposal status are found from the
# proposal side (ix_proposal_guild_status_number), then their participations
# by ix_participation_guild_proposal, and people by primary key. A covering
# index on participation (guild_id, proposal_id, status, person_id,
# attendance) was measured and left out: no faster on either backend.

# Dimensions of a seat, by key: person attributes, then the seat's own attendance.
SEAT_DIMENSIONS: Final = (
    "stakeholder_group",
    "region",
    "gender",
    "developing_country",
    "first_time",
    "youth",
    "attendance",
)
PERSON_DIMENSIONS: Final = SEAT_DIMENSIONS[:-1]
MEMBER_DIMENSIONS: Final = ("stakeholder_group", "region", "gender")
# A seat's attendance: onsite, or else online.
ONSITE: Final = "onsite"
ONLINE: Final = "online"
# Yes/no attributes come back as these values (None: not stated).
YES: Final = "yes"
NO: Final = "no"
_TOTAL: Final = "total"


@dataclass(frozen=True)
class Selection:
    """Which seats to count; None on a filter means any.

    The overrides count one participation or proposal as if it had another
    status: a decision's effect is the same count with and without it.
    """

    participation_statuses: tuple[str, ...] | None = None
    proposal_statuses: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    proposal_id: int | None = None
    participation_override: tuple[int, str] | None = None
    proposal_override: tuple[int, str] | None = None
    # Count each proposal as its draft decision would leave it (``storage.decisions``).
    with_drafts: bool = False


@dataclass(frozen=True)
class Count:
    """Seats and distinct people in one category (or in all)."""

    seats: int = 0
    people: int = 0


@dataclass(frozen=True)
class SeatCounts:
    """What one selection counted: the total, and per dimension per stored value."""

    total: Count = Count()
    # dimension -> stored value (None: not stated) -> count
    by_dimension: Mapping[str, Mapping[str | None, Count]] = field(default_factory=dict)


def _status(column: Any, id_column: Any, override: tuple[int, str] | None) -> Any:
    if override is None:
        return column
    return case((id_column == override[0], literal(override[1], String)), else_=column)


def _condition(selection: Selection) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if selection.participation_statuses is not None:
        status = _status(
            PARTICIPATION.c.status, PARTICIPATION.c.id, selection.participation_override
        )
        parts.append(status.in_(list(selection.participation_statuses)))
    if selection.proposal_statuses is not None:
        status = _status(PROPOSAL.c.status, PROPOSAL.c.id, selection.proposal_override)
        if selection.with_drafts:
            # The draft, joined once in ``seat_counts_query`` (NULL: no draft).
            status = func.coalesce(DRAFT.c.outcome, status)
        parts.append(status.in_(list(selection.proposal_statuses)))
    if selection.kinds is not None:
        parts.append(PROPOSAL.c.kind.in_(list(selection.kinds)))
    if selection.proposal_id is not None:
        parts.append(PARTICIPATION.c.proposal_id == selection.proposal_id)
    return and_(true(), *parts)


def yes_no(column: Any) -> Any:
    """Return a nullable boolean as 'yes', 'no' or NULL, typed as text on every backend."""
    return case(
        (column == true(), literal_column(f"'{YES}'")),
        (column == false(), literal_column(f"'{NO}'")),
        else_=null(),
    )


def dimension_label(name: str) -> Any:
    return literal_column(f"'{name}'").label("dimension")


def _branches(source: Any, dimensions: Sequence[str], totals: Sequence[Any]) -> list[Any]:
    """Return one grouped branch per dimension, then the total."""
    branches: list[Any] = [
        select(
            dimension_label(dimension), cast(source.c[dimension], String).label("value"), *totals
        ).group_by(source.c[dimension])
        for dimension in dimensions
    ]
    total = select(dimension_label(_TOTAL), cast(null(), String).label("value"), *totals)
    branches.append(total.select_from(source))
    return branches


def seat_counts_query(guild_id: int, selections: Sequence[Selection]) -> CompoundSelect[Any]:
    """Return the one statement that counts every selection (also run bare by the bench)."""
    if not selections:
        raise ValueError("count at least one selection")
    conditions = [_condition(s) for s in selections]
    onsite = PARTICIPATION.c.attendance == ONSITE
    folded: list[Any] = []
    for i, condition in enumerate(conditions):
        mark = case((condition, 1), else_=0)
        folded += [
            func.sum(mark).label(f"n{i}"),  # seats
            func.max(mark).label(f"p{i}"),  # 1 when the person holds any
            func.sum(case((onsite, mark), else_=0)).label(f"o{i}"),  # onsite seats
        ]
    source = PROPOSAL.join(PARTICIPATION, PARTICIPATION.c.proposal_id == PROPOSAL.c.id)
    if any(s.with_drafts for s in selections):
        # Each proposal's draft decision, if any: one per proposal (a unique index).
        source = source.outerjoin(
            DRAFT, and_(DRAFT.c.guild_id == PROPOSAL.c.guild_id, DRAFT.c.draft_of == PROPOSAL.c.id)
        )
    per_person = (
        select(PARTICIPATION.c.person_id.label("person_id"), *folded)
        .select_from(source)
        .where(
            PROPOSAL.c.guild_id == guild_id,
            PARTICIPATION.c.guild_id == guild_id,
            or_(*conditions),
        )
        .group_by(PARTICIPATION.c.person_id)
        .cte("per_person")
    )
    people = (
        select(
            *[per_person.c[column.name] for column in folded],
            PERSON.c.stakeholder_group.label("stakeholder_group"),
            PERSON.c.region.label("region"),
            PERSON.c.gender.label("gender"),
            yes_no(PERSON.c.developing_country).label("developing_country"),
            yes_no(PERSON.c.first_time).label("first_time"),
            yes_no(PERSON.c.youth).label("youth"),
        )
        .select_from(per_person.join(PERSON, PERSON.c.id == per_person.c.person_id))
        .where(PERSON.c.guild_id == guild_id)
        .cte("person_seats")
    )
    c = people.c
    indexes = range(len(selections))
    totals = [x for i in indexes for x in (func.sum(c[f"n{i}"]), func.sum(c[f"p{i}"]))]
    branches = _branches(people, PERSON_DIMENSIONS, totals)
    # Attendance belongs to the seat: someone onsite on one session and online
    # on another is counted once in each.
    for value in (ONSITE, ONLINE):
        numbers: list[Any] = []
        for i in indexes:
            seats = c[f"o{i}"] if value == ONSITE else c[f"n{i}"] - c[f"o{i}"]
            numbers += [func.sum(seats), func.sum(case((seats > 0, 1), else_=0))]
        branches.append(
            select(dimension_label("attendance"), literal_column(f"'{value}'"), *numbers)
        )
    return union_all(*branches)


async def _rows(session: AsyncSession, query: CompoundSelect[Any]) -> Sequence[Any]:
    # A UNION is Core, not an ORM select: run it on the session's connection.
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _unpack(rows: Sequence[Sequence[Any]], count: int, *, people: bool) -> list[SeatCounts]:
    """Return per-selection counts from rows of (dimension, value, seats, people, ...)."""
    totals = [Count() for _ in range(count)]
    dimensions: list[dict[str, dict[str | None, Count]]] = [{} for _ in range(count)]
    step = 2 if people else 1
    for row in rows:
        dimension, value, numbers = row[0], row[1], row[2:]
        for i in range(count):
            seats = int(numbers[i * step] or 0)
            held_by = int(numbers[i * step + 1] or 0) if people else seats
            if dimension == _TOTAL:
                totals[i] = Count(seats, held_by)
            elif seats:
                dimensions[i].setdefault(dimension, {})[value] = Count(seats, held_by)
    return [SeatCounts(total, dims) for total, dims in zip(totals, dimensions, strict=True)]


async def seat_counts(
    session: AsyncSession, *, guild_id: int, selections: Sequence[Selection]
) -> list[SeatCounts]:
    """Return the guild's seat and people counts for each selection, in one query."""
    rows = await _rows(session, seat_counts_query(guild_id, selections))
    return _unpack(rows, len(selections), people=True)


def member_counts_query(guild_id: int) -> CompoundSelect[Any]:
    """Return the statement that counts the guild's MAG members per dimension."""
    member = (
        select(
            MAG_MEMBER.c.stakeholder_group.label("stakeholder_group"),
            MAG_MEMBER.c.region.label("region"),
            MAG_MEMBER.c.gender.label("gender"),
        )
        # A member whose MAG role was taken away keeps the profile, not the seat.
        .where(MAG_MEMBER.c.guild_id == guild_id, MAG_MEMBER.c.has_role.is_(True))
        .cte("member")
    )
    return union_all(*_branches(member, MEMBER_DIMENSIONS, [func.count()]))


async def member_counts(session: AsyncSession, *, guild_id: int) -> SeatCounts:
    """Return the guild's MAG composition: one member, one seat."""
    rows = await _rows(session, member_counts_query(guild_id))
    return _unpack(rows, 1, people=False)[0]
