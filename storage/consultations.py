"""Open consultations and their inputs, and the counts behind a consultation's summary.

A consultation is numbered per guild ("Consultation #3") and closes by the
clock: its closing time is a deadline (kind ``consultation``) with the usual
reminders, and ``closed_at`` is set once, by the tick that queues the closing
post in the same transaction (``due_closes``).

An input belongs to one submitter: a Discord member (``submitter_key``
``u:<user id>``) or a person the secretariat entered on their behalf
(``p:<random>``, with the name they gave). When a consultation takes one
input per person, ``single_key`` holds the submitter's key and a unique
index makes a second active input impossible, even for two forms submitted
at the same moment; withdrawing clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    cast,
    func,
    null,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.balance import Count, SeatCounts, dimension_label, yes_no
from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow
from storage.upsert import insert_for

# Who may read the inputs' texts (everyone sees the counts).
PUBLIC: Final = "public"  # the texts and who wrote them
ANONYMISED: Final = "anonymised"  # the texts, without who wrote them
SECRETARIAT: Final = "secretariat"  # the texts only for the secretariat
VISIBILITIES: Final = (PUBLIC, ANONYMISED, SECRETARIAT)

# The dimensions a consultation's summary counts (an input carries its own).
INPUT_DIMENSIONS: Final = ("stakeholder_group", "region", "gender", "developing_country", "youth")


class ConsultationCounter(SQLModel, table=True):
    """The last consultation number handed out in one guild."""

    __tablename__ = "consultation_counter"

    guild_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    last_number: int = Field(default=0)


class Consultation(SQLModel, table=True):
    """A call for inputs with 1–3 questions, open from ``opens_at`` until ``closes_at``."""

    __tablename__ = "consultation"
    __table_args__ = (
        UniqueConstraint("guild_id", "number", name="uq_consultation_guild_number"),
        Index("ix_consultation_closes", "closed_at", "closes_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    number: int
    title: str = Field(max_length=200)
    questions: list[str] = Field(sa_column=Column(NullableJSON, nullable=False))
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    timezone: str = Field(max_length=64)
    # Who may answer: members holding this role (None: anyone on the server).
    audience_role_id: int | None = Field(default=None, sa_type=DiscordId)
    visibility: str = Field(default=PUBLIC, max_length=12)
    several: bool = Field(default=False)  # more than one input per person
    # Where its reminders and its closing post go (None: the reminders channel).
    channel_id: int | None = Field(default=None, sa_type=DiscordId)
    deadline_number: int | None = None  # its closing deadline, with the reminders
    created_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsultationInput(SQLModel, table=True):
    """One input: answers to the questions, and who gave it (as they stated it)."""

    __tablename__ = "consultation_input"
    __table_args__ = (
        UniqueConstraint("consultation_id", "number", name="uq_input_consultation_number"),
        # One active input per person, where the consultation says so.
        UniqueConstraint("consultation_id", "single_key", name="uq_input_one_per_person"),
        UniqueConstraint("consultation_id", "submission_key", name="uq_input_submission"),
        Index("ix_input_consultation_submitter", "consultation_id", "submitter_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    consultation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("consultation.id", ondelete="CASCADE"), nullable=False)
    )
    number: int
    submitter_key: str = Field(max_length=40)
    single_key: str | None = Field(default=None, max_length=40)
    # The form's own key: the same form submitted twice is one input.
    submission_key: str | None = Field(default=None, max_length=40)
    user_id: int | None = Field(default=None, sa_type=DiscordId)
    # Entered by the secretariat for someone outside Discord: their name, and who entered it.
    on_behalf_of: str | None = Field(default=None, max_length=200)
    entered_by: int | None = Field(default=None, sa_type=DiscordId)
    organisation: str | None = Field(default=None, max_length=200)
    stakeholder_group: str = Field(max_length=100)
    region: str = Field(max_length=100)
    gender: str | None = Field(default=None, max_length=40)
    developing_country: bool | None = None
    youth: bool | None = None
    answers: list[str] = Field(sa_column=Column(NullableJSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


INPUT: Final = ConsultationInput.__table__  # type: ignore[attr-defined]


async def allocate_consultation_number(session: AsyncSession, *, guild_id: int) -> int:
    """Return the guild's next consultation number (its counter held until the transaction ends)."""
    bump = (
        update(ConsultationCounter)
        .where(col(ConsultationCounter.guild_id) == guild_id)
        .values(last_number=col(ConsultationCounter.last_number) + 1)
        .returning(col(ConsultationCounter.last_number))
    )
    number = (await session.exec(bump)).scalar_one_or_none()
    if number is None:
        await session.exec(
            insert_for(session, ConsultationCounter)
            .values(guild_id=guild_id, last_number=0)
            .on_conflict_do_nothing(index_elements=["guild_id"])
        )
        number = (await session.exec(bump)).scalar_one()
    return int(number)


async def get_consultation(
    session: AsyncSession, *, guild_id: int, number: int, lock: bool = False
) -> Consultation | None:
    query = select(Consultation).where(
        Consultation.guild_id == guild_id, Consultation.number == number
    )
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def consultation_of_deadline(
    session: AsyncSession, *, guild_id: int, deadline_number: int
) -> Consultation | None:
    query = select(Consultation).where(
        Consultation.guild_id == guild_id, Consultation.deadline_number == deadline_number
    )
    return (await session.exec(query)).first()


async def list_consultations(
    session: AsyncSession, *, guild_id: int, limit: int = 25
) -> Sequence[tuple[Consultation, int]]:
    """Return the guild's latest consultations with their counts of active inputs."""
    active = (
        select(func.count())
        .where(
            col(ConsultationInput.consultation_id) == col(Consultation.id),
            col(ConsultationInput.withdrawn_at).is_(None),
        )
        .scalar_subquery()
    )
    query = (
        select(Consultation, active)
        .where(Consultation.guild_id == guild_id)
        .order_by(col(Consultation.number).desc())
        .limit(limit)
    )
    return [(row[0], int(row[1])) for row in (await session.exec(query)).all()]


async def next_input_number(session: AsyncSession, *, consultation_id: int) -> int:
    query = select(func.coalesce(func.max(ConsultationInput.number), 0)).where(
        ConsultationInput.consultation_id == consultation_id
    )
    return int((await session.exec(query)).one()) + 1


async def inputs_of(
    session: AsyncSession,
    *,
    consultation_id: int,
    submitter_key: str | None = None,
    active: bool = True,
    limit: int | None = None,
    latest: bool = False,
) -> Sequence[ConsultationInput]:
    """Return a consultation's inputs (one submitter's, when given), oldest first.

    ``latest``: the newest first (with ``limit``, the last few).
    """
    query = select(ConsultationInput).where(ConsultationInput.consultation_id == consultation_id)
    if submitter_key is not None:
        query = query.where(ConsultationInput.submitter_key == submitter_key)
    if active:
        query = query.where(col(ConsultationInput.withdrawn_at).is_(None))
    order = col(ConsultationInput.number)
    query = query.order_by(order.desc() if latest else order)
    if limit is not None:
        query = query.limit(limit)
    return (await session.exec(query)).all()


async def count_inputs(session: AsyncSession, *, consultation_id: int) -> int:
    """Return how many active inputs a consultation has."""
    query = select(func.count()).where(
        col(ConsultationInput.consultation_id) == consultation_id,
        col(ConsultationInput.withdrawn_at).is_(None),
    )
    return int((await session.exec(query)).one())


async def get_input(
    session: AsyncSession, *, consultation_id: int, number: int
) -> ConsultationInput | None:
    query = select(ConsultationInput).where(
        ConsultationInput.consultation_id == consultation_id, ConsultationInput.number == number
    )
    return (await session.exec(query)).first()


async def input_by_submission(
    session: AsyncSession, *, consultation_id: int, submission_key: str
) -> ConsultationInput | None:
    """Return the input a form's own key made, if any (a form sent twice is one input)."""
    query = select(ConsultationInput).where(
        ConsultationInput.consultation_id == consultation_id,
        ConsultationInput.submission_key == submission_key,
    )
    return (await session.exec(query)).first()


def input_counts_query(consultation_id: int) -> Any:
    """Return the statement that counts a consultation's active inputs and submitters."""
    table = INPUT
    source = (
        core_select(
            table.c.submitter_key,
            table.c.stakeholder_group,
            table.c.region,
            table.c.gender,
            yes_no(table.c.developing_country).label("developing_country"),
            yes_no(table.c.youth).label("youth"),
        )
        .where(table.c.consultation_id == consultation_id, table.c.withdrawn_at.is_(None))
        .cte("active_input")
    )
    totals = [func.count(), func.count(source.c.submitter_key.distinct())]
    branches: list[Any] = [
        core_select(
            dimension_label(dimension), cast(source.c[dimension], String).label("value"), *totals
        ).group_by(source.c[dimension])
        for dimension in INPUT_DIMENSIONS
    ]
    branches.append(
        core_select(
            dimension_label("total"), cast(null(), String).label("value"), *totals
        ).select_from(source)
    )
    return union_all(*branches)


async def input_counts(session: AsyncSession, *, consultation_id: int) -> SeatCounts:
    """Return inputs (as seats) and distinct submitters (as people), per dimension, in one query."""
    connection = await session.connection()
    rows = (await connection.execute(input_counts_query(consultation_id))).all()
    total = Count()
    dimensions: dict[str, dict[str | None, Count]] = {}
    for dimension, value, inputs, submitters in rows:
        count = Count(int(inputs or 0), int(submitters or 0))
        if dimension == "total":
            total = count
        elif count.seats:
            dimensions.setdefault(dimension, {})[value] = count
    return SeatCounts(total, dimensions)


async def due_closes(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> Sequence[Consultation]:
    """Return (locked) consultations whose closing time has come and that are not closed yet."""
    query = (
        select(Consultation)
        .where(col(Consultation.closed_at).is_(None), col(Consultation.closes_at) <= now)
        .order_by(col(Consultation.closes_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()


async def next_close(session: AsyncSession) -> datetime | None:
    """Return when the next open consultation closes (for the planner's wake-up)."""
    query = select(func.min(Consultation.closes_at)).where(col(Consultation.closed_at).is_(None))
    return (await session.exec(query)).one()
