"""Deadlines and the ledger of their reminders.

A deadline is numbered per guild and keeps the wall-clock time it was given
in its own zone (``first_local``), so a recurring deadline is computed on the
wall clock. Every reminder to send is a ``Reminder`` row, written in the same
transaction as the deadline change that plans it, unique on (deadline,
occurrence, offset): however often planning runs, each reminder exists once.

Delivery goes through the rows' status::

    pending --due--> queued (its outbox row written in the same transaction)
                       --the outbox settles it--> sent | failed | skipped
    pending --deadline passed--> skipped;  pending --edit/remove--> cancelled

Queueing takes rows ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (on SQLite the
IMMEDIATE write transaction serialises the processes), and the outbox row's
unique key makes a reminder one message however often it is queued. The
``sending`` and ``retry`` statuses are those of rows from before the outbox:
they are queued again when their lease is over.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    and_,
    bindparam,
    or_,
)
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.delivery import SENDING, Shards, owned
from storage.outbox import cancel as cancel_outbox
from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow
from storage.upsert import insert_for

PENDING: Final = "pending"
QUEUED: Final = "queued"
RETRY: Final = "retry"
SENT: Final = "sent"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"
CANCELLED: Final = "cancelled"
# Rows a claim may still take (the others are settled or cancelled).
OPEN_STATUSES: Final = (PENDING, QUEUED, SENDING, RETRY)


class DeadlineCounter(SQLModel, table=True):
    """The last deadline number handed out in one guild."""

    __tablename__ = "deadline_counter"

    guild_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    last_number: int = Field(default=0)


class Deadline(SQLModel, table=True):
    """A date the MAG works towards: a call, a review window, a meeting."""

    __tablename__ = "deadline"
    __table_args__ = (
        UniqueConstraint("guild_id", "number", name="uq_deadline_guild_number"),
        Index("ix_deadline_guild_kind_due", "guild_id", "kind", "due_at"),
        Index("ix_deadline_roll_at", "roll_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    number: int
    title: str = Field(max_length=200)
    kind: str = Field(default="other", max_length=20)
    link: str | None = Field(default=None, max_length=500)
    timezone: str = Field(max_length=64)
    # The first occurrence as typed, on the zone's wall clock: "YYYY-MM-DD HH:MM[:SS]".
    first_local: str = Field(max_length=19)
    repeat: str = Field(default="none", max_length=10)
    # Occurrence keys of this schedule start here (an edit of a recurring
    # deadline's schedule starts a new one after the occurrences already due).
    occurrence_base: int = Field(default=0)
    offsets: list[int] = Field(sa_column=Column(NullableJSON, nullable=False))
    channel_id: int | None = Field(default=None, sa_type=DiscordId)
    # The next occurrence not yet passed (the last one once a deadline is over).
    due_at: datetime = Field(sa_type=UTCDateTime)
    # When the planner must look at a recurring deadline again; NULL: never.
    roll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    """One reminder to post, once: the ledger row of the exactly-once delivery."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint(
            "deadline_id", "occurrence", "offset_minutes", name="uq_reminder_occurrence_offset"
        ),
        Index("ix_reminder_status_due", "status", "due_at"),
        Index("ix_reminder_guild_deadline", "guild_id", "deadline_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    deadline_id: int = Field(
        sa_column=Column(Integer, ForeignKey("deadline.id", ondelete="CASCADE"), nullable=False)
    )
    occurrence: int
    offset_minutes: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    # When the occurrence itself is due (reminders are never sent after it).
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=PENDING, max_length=10)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_type=DiscordId)
    late: bool = Field(default=False)
    detail: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# A planned reminder: (occurrence, offset_minutes) -> (due_at, deadline_at).
Plan = Mapping[tuple[int, int], tuple[datetime, datetime]]


async def allocate_deadline_number(session: AsyncSession, *, guild_id: int) -> int:
    """Return the guild's next deadline number, holding its counter until the transaction ends."""
    bump = (
        update(DeadlineCounter)
        .where(col(DeadlineCounter.guild_id) == guild_id)
        .values(last_number=col(DeadlineCounter.last_number) + 1)
        .returning(col(DeadlineCounter.last_number))
    )
    number = (await session.exec(bump)).scalar_one_or_none()
    if number is None:
        await session.exec(
            insert_for(session, DeadlineCounter)
            .values(guild_id=guild_id, last_number=0)
            .on_conflict_do_nothing(index_elements=["guild_id"])
        )
        number = (await session.exec(bump)).scalar_one()
    return int(number)


async def add_deadline(session: AsyncSession, *, deadline: Deadline) -> Deadline:
    """Add ``deadline`` to the caller's transaction and give it its id."""
    session.add(deadline)
    await session.flush()
    return deadline


async def get_deadline(
    session: AsyncSession, *, guild_id: int, number: int, for_update: bool = False
) -> Deadline | None:
    """Return the guild's deadline with this number (removed ones too), optionally locked."""
    query = select(Deadline).where(Deadline.guild_id == guild_id, Deadline.number == number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def list_deadlines(
    session: AsyncSession,
    *,
    guild_id: int,
    due_after: datetime | None = None,
    due_until: datetime | None = None,
    limit: int = 100,
) -> list[Deadline]:
    """Return the guild's deadlines that are not removed, soonest first.

    ``due_after`` keeps those whose next occurrence is later (recurring ones
    always qualify: they have a next occurrence); ``due_until`` those whose
    next occurrence is not later than it.
    """
    query = select(Deadline).where(
        Deadline.guild_id == guild_id, col(Deadline.removed_at).is_(None)
    )
    if due_after is not None:
        query = query.where(or_(col(Deadline.due_at) > due_after, col(Deadline.repeat) != "none"))
    if due_until is not None:
        query = query.where(Deadline.due_at <= due_until)
    query = query.order_by(col(Deadline.due_at), col(Deadline.number)).limit(limit)
    return list((await session.exec(query)).all())


async def latest_due(session: AsyncSession, *, guild_id: int, kind: str) -> datetime | None:
    """Return when the guild's latest one-off deadline of ``kind`` is due (removed ones aside).

    The proposals feature asks this to refuse submissions or scores after the
    ``proposals`` or ``reviews`` deadline: an extension is a later deadline
    (or the same one edited), which moves the answer back into the future.
    """
    query = select(func.max(Deadline.due_at)).where(
        Deadline.guild_id == guild_id,
        Deadline.kind == kind,
        Deadline.repeat == "none",
        col(Deadline.removed_at).is_(None),
    )
    value: datetime | None = await session.scalar(query)
    return value


async def reminders_of(
    session: AsyncSession, *, guild_id: int, deadline_ids: Collection[int]
) -> list[Reminder]:
    """Return the reminders of these deadlines, by due time."""
    if not deadline_ids:
        return []
    query = (
        select(Reminder)
        .where(Reminder.guild_id == guild_id, col(Reminder.deadline_id).in_(sorted(deadline_ids)))
        .order_by(col(Reminder.due_at), col(Reminder.id))
    )
    return list((await session.exec(query)).all())


async def upsert_reminders(
    session: AsyncSession, *, guild_id: int, deadline_id: int, plan: Plan, now: datetime
) -> None:
    """Make the planned reminders exist and be pending at their planned times.

    A row that is pending or cancelled takes the planned times (and is pending
    again); a row that is sent, in flight, waiting for a retry, failed or
    skipped is left as it is: a reminder goes out at most once.
    """
    if not plan:
        return
    rows = [
        {
            "guild_id": guild_id,
            "deadline_id": deadline_id,
            "occurrence": occurrence,
            "offset_minutes": offset,
            "due_at": due_at,
            "deadline_at": deadline_at,
            "status": PENDING,
            "attempts": 0,
            "late": False,
            "created_at": now,
        }
        for (occurrence, offset), (due_at, deadline_at) in sorted(plan.items())
    ]
    table = Reminder.__table__  # type: ignore[attr-defined]
    insert = insert_for(session, Reminder).values(rows)
    statement = insert.on_conflict_do_update(
        index_elements=["deadline_id", "occurrence", "offset_minutes"],
        set_={
            "due_at": insert.excluded.due_at,
            "deadline_at": insert.excluded.deadline_at,
            "status": PENDING,
            "detail": None,
            "late": False,
        },
        where=table.c.status.in_((PENDING, CANCELLED)),
    )
    await session.exec(statement)


async def replan_reminders(
    session: AsyncSession, *, guild_id: int, deadline_id: int, plan: Plan, now: datetime
) -> None:
    """Make the deadline's unsent reminders match ``plan``.

    Pending rows no longer planned are cancelled; planned ones are upserted
    (see ``upsert_reminders``). Rows already sent or in flight stay as they are.
    """
    existing = await reminders_of(session, guild_id=guild_id, deadline_ids=[deadline_id])
    dropped = [
        r.id
        for r in existing
        if r.status == PENDING and (r.occurrence, r.offset_minutes) not in plan
    ]
    if dropped:
        await session.exec(
            update(Reminder)
            .where(col(Reminder.id).in_(dropped), col(Reminder.status) == PENDING)
            .values(status=CANCELLED, detail="deadline changed")
        )
    await upsert_reminders(session, guild_id=guild_id, deadline_id=deadline_id, plan=plan, now=now)


async def cancel_reminders(
    session: AsyncSession, *, guild_id: int, deadline_id: int, detail: str
) -> int:
    """Cancel the deadline's reminders not sent yet, queued ones' outbox rows with them."""
    open_rows = select(Reminder.id).where(
        col(Reminder.guild_id) == guild_id,
        col(Reminder.deadline_id) == deadline_id,
        col(Reminder.status).in_((PENDING, RETRY, QUEUED)),
    )
    ids = [int(i) for i in (await session.exec(open_rows)).all() if i is not None]
    if not ids:
        return 0
    await session.exec(
        update(Reminder).where(col(Reminder.id).in_(ids)).values(status=CANCELLED, detail=detail)
    )
    await cancel_outbox(session, keys=[f"reminder:{i}" for i in ids], detail=detail)
    return len(ids)


async def deadlines_to_roll(
    session: AsyncSession, *, now: datetime, shards: Shards | None, limit: int = 100
) -> list[Deadline]:
    """Return recurring deadlines the planner must look at, locked (skipping locked ones)."""
    query = select(Deadline).where(
        col(Deadline.removed_at).is_(None),
        col(Deadline.roll_at).is_not(None),
        col(Deadline.roll_at) <= now,
    )
    condition = owned(Deadline.guild_id, shards)
    if condition is not None:
        query = query.where(condition)
    query = (
        query.order_by(col(Deadline.roll_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(query)).all())


def _shard_filter(shards: Shards | None) -> list[Any]:
    condition = owned(Reminder.guild_id, shards)
    return [] if condition is None else [condition]


async def skip_unsendable(
    session: AsyncSession, *, now: datetime, shards: Shards | None
) -> tuple[int, int]:
    """Settle reminders that must not be sent; return (deadline passed, superseded).

    A reminder whose deadline has passed is skipped, never sent late. Of the
    due reminders of one occurrence (several pile up after downtime) only the
    nearest to the deadline goes out; the earlier ones are skipped as
    superseded, so the catch-up is one message, not a burst.
    """
    lease_over = and_(col(Reminder.status).in_((SENDING, RETRY)), col(Reminder.lease_until) < now)
    # Rows are picked with SKIP LOCKED, as claims are, so that two processes
    # settling the same rows never wait on (or deadlock with) each other.
    passed_ids = (
        select(Reminder.id)
        .where(
            or_(col(Reminder.status) == PENDING, lease_over),
            col(Reminder.deadline_at) <= now,
            *_shard_filter(shards),
        )
        .with_for_update(skip_locked=True)
    )
    passed = (
        update(Reminder)
        .where(col(Reminder.id).in_(passed_ids.scalar_subquery()))
        .values(status=SKIPPED, detail="deadline passed", claimed_by=None, lease_until=None)
    )
    passed_count = (await session.exec(passed)).rowcount
    nearer = aliased(Reminder)
    superseded_ids = (
        select(Reminder.id)
        .where(
            col(Reminder.status) == PENDING,
            col(Reminder.due_at) <= now,
            *_shard_filter(shards),
            select(nearer.id)
            .where(
                nearer.deadline_id == Reminder.deadline_id,
                nearer.occurrence == Reminder.occurrence,
                nearer.offset_minutes < Reminder.offset_minutes,
                nearer.due_at <= now,
                col(nearer.status).in_((PENDING, QUEUED, SENDING, RETRY, SENT)),
            )
            .exists(),
        )
        .with_for_update(skip_locked=True)
    )
    superseded = (
        update(Reminder)
        .where(col(Reminder.id).in_(superseded_ids.scalar_subquery()))
        .values(status=SKIPPED, detail="superseded by a later reminder")
    )
    superseded_count = (await session.exec(superseded)).rowcount
    return int(passed_count or 0), int(superseded_count or 0)


async def queue_due_reminders(
    session: AsyncSession, *, now: datetime, shards: Shards | None, limit: int
) -> list[tuple[Reminder, Deadline]]:
    """Mark up to ``limit`` due reminders queued and return them with their deadlines.

    Due means pending and ``due_at <= now`` (or, from before the outbox,
    sending or retrying with the lease over), with the deadline still ahead.
    """
    lease_over = and_(col(Reminder.status).in_((SENDING, RETRY)), col(Reminder.lease_until) < now)
    due = or_(and_(col(Reminder.status) == PENDING, col(Reminder.due_at) <= now), lease_over)
    candidates = (
        select(Reminder.id)
        .where(due, col(Reminder.deadline_at) > now, *_shard_filter(shards))
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        (
            await session.exec(
                update(Reminder)
                .where(col(Reminder.id).in_(candidates.scalar_subquery()))
                .values(status=QUEUED, claimed_by=None, lease_until=None)
                .returning(col(Reminder.id))
            )
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    query = (
        select(Reminder, Deadline)
        .join(Deadline, col(Deadline.id) == col(Reminder.deadline_id))
        .where(col(Reminder.id).in_(ids))
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .execution_options(populate_existing=True)
    )
    return [(reminder, deadline) for reminder, deadline in (await session.exec(query)).all()]


@dataclass(frozen=True)
class Settled:
    """How a queued reminder's message ended (the outbox tells)."""

    reminder_id: int
    status: str
    at: datetime | None
    message_id: int | None
    late: bool
    detail: str | None


async def settle_reminders(session: AsyncSession, settled: Sequence[Settled]) -> None:
    """Record how queued reminders' messages ended: one statement for all of them."""
    if not settled:
        return
    table = Reminder.__table__  # type: ignore[attr-defined]
    statement = (
        table.update()
        .where(table.c.id == bindparam("reminder_id"), table.c.status == QUEUED)
        .values(
            status=bindparam("new_status"),
            sent_at=bindparam("new_sent_at"),
            message_id=bindparam("new_message_id"),
            late=bindparam("new_late"),
            detail=bindparam("new_detail"),
        )
    )
    await session.exec(
        statement,
        params=[
            {
                "reminder_id": one.reminder_id,
                "new_status": one.status,
                "new_sent_at": one.at if one.status == SENT else None,
                "new_message_id": one.message_id,
                "new_late": one.late,
                "new_detail": (one.detail or None) and one.detail[:200],
            }
            for one in settled
        ],
    )


async def next_reminder_due(session: AsyncSession, *, shards: Shards | None) -> datetime | None:
    """Return when the next pending reminder of our shards is due (to be queued)."""
    pending = select(func.min(Reminder.due_at)).where(
        col(Reminder.status) == PENDING, *_shard_filter(shards)
    )
    retry = select(func.min(Reminder.lease_until)).where(
        col(Reminder.status).in_((SENDING, RETRY)), *_shard_filter(shards)
    )
    found = [await session.scalar(pending), await session.scalar(retry)]
    aware = [moment for moment in found if moment is not None]
    return min(aware) if aware else None


async def next_roll_due(session: AsyncSession, *, shards: Shards | None) -> datetime | None:
    """Return when the planner must next look at a recurring deadline of our shards."""
    query = select(func.min(Deadline.roll_at)).where(col(Deadline.removed_at).is_(None))
    condition = owned(Deadline.guild_id, shards)
    if condition is not None:
        query = query.where(condition)
    value: datetime | None = await session.scalar(query)
    return value


async def count_by_status(session: AsyncSession, *, guild_id: int | None = None) -> dict[str, int]:
    """Return how many reminders are in each status (one guild, or all)."""
    query = select(Reminder.status, func.count()).group_by(Reminder.status)
    if guild_id is not None:
        query = query.where(Reminder.guild_id == guild_id)
    return {status: int(n) for status, n in (await session.exec(query)).all()}
