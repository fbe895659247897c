"""The outbox: every message the bot sends on its own, as a row, sent once.

Reminders, digests, notices to the admins and direct messages are all
``OutboxItem`` rows, written in the transaction that decides to send them
(unique on ``key``: deciding twice makes one row). A sender claims rows with
a short lease that it renews while it lives, posts each, and records the
outcome of each as soon as Discord answers.

Lanes keep order and isolate faults: a row's ``lane`` names its destination
(``c:<channel id>``, ``u:<user id>``). A lane sends one message at a time,
oldest first; different lanes send at once. A slow or rate-limited channel
holds up only its own lane.

A row that was being sent when its sender died has ``attempted_at`` set: the
message may have reached Discord. The sender that takes it over looks for
the row's ``marker`` in the destination's recent messages before posting
again (``bot.delivery``), so a crash never shows a message twice.

Status::

    queued --claim--> sending --answer--> sent | failed | queued (retry, later due_at)
       |                 \\--lease over (sender died)--> taken over, looked up, then sent
       \\--expires_at passed--> expired;  cancelled by the feature that queued it
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Column, Index, and_, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.delivery import Shards, owned
from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for

QUEUED: Final = "queued"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
EXPIRED: Final = "expired"
CANCELLED: Final = "cancelled"
OPEN: Final = (QUEUED, SENDING)


def channel_lane(channel_id: int) -> str:
    """Return the lane of a channel."""
    return f"c:{channel_id}"


def user_lane(user_id: int) -> str:
    """Return the lane of a user's direct messages."""
    return f"u:{user_id}"


def new_marker() -> str:
    """Return a random marker: it names one row's message, and is never reused."""
    return secrets.token_hex(4)


class OutboxItem(SQLModel, table=True):
    """One message to send once: what, where, when, and how it went."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_lane_status", "lane", "status"),
        Index("ix_outbox_guild_kind", "guild_id", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    # What it is the message of ("reminder:42", "digest:7"...): deciding twice makes one row.
    key: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=20)
    lane: str = Field(max_length=40)
    # What the feature needs to render it (small, plain values only).
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Messages of one lane and kind due together may go out as one (reminders: up to 10).
    batchable: bool = Field(default=False)
    status: str = Field(default=QUEUED, max_length=10)
    due_at: datetime = Field(sa_type=UTCDateTime)
    # Not sent by then: expired (a reminder is never sent after its deadline).
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Discord's answers other than success (429 waits are not counted).
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a send last began: set and not sent means it may have reached Discord.
    attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marker: str = Field(default_factory=new_marker, max_length=16)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_type=DiscordId)
    detail: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class NewItem:
    """A message to queue (see ``enqueue``)."""

    guild_id: int
    key: str
    kind: str
    lane: str
    due_at: datetime
    payload: Mapping[str, Any]
    expires_at: datetime | None = None
    batchable: bool = False


async def enqueue(session: AsyncSession, *, items: Sequence[NewItem], now: datetime) -> int:
    """Queue messages in the caller's transaction; one that exists already is kept as is.

    Returns how many were new.
    """
    if not items:
        return 0
    rows = [
        {
            "guild_id": i.guild_id,
            "key": i.key,
            "kind": i.kind,
            "lane": i.lane,
            "payload": dict(i.payload),
            "batchable": i.batchable,
            "status": QUEUED,
            "due_at": i.due_at,
            "expires_at": i.expires_at,
            "attempts": 0,
            "marker": new_marker(),
            "created_at": now,
        }
        for i in items
    ]
    # One statement executed for many rows: compiled once, sent in batches by the
    # driver layer ("insertmanyvalues"); a multi-row VALUES built per call would be
    # compiled again each time, on the event loop.
    table = OutboxItem.__table__  # type: ignore[attr-defined]
    statement = (
        insert_for(session, table)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )
    connection = await session.connection()
    inserted = 0
    for start in range(0, len(rows), 500):
        result = await connection.execute(statement, rows[start : start + 500])
        inserted += len(result.all())
    return inserted


def _shard(shards: Shards | None) -> list[Any]:
    condition = owned(OutboxItem.guild_id, shards)
    return [] if condition is None else [condition]


async def expire(
    session: AsyncSession, *, now: datetime, shards: Shards | None
) -> list[OutboxItem]:
    """Mark queued rows whose time is over as expired; return them (their features are told)."""
    rows = list(
        (
            await session.exec(
                select(OutboxItem)
                .where(
                    col(OutboxItem.status) == QUEUED,
                    col(OutboxItem.expires_at).is_not(None),
                    col(OutboxItem.expires_at) <= now,
                    *_shard(shards),
                )
                .limit(500)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for row in rows:
        row.status = EXPIRED
        row.detail = "its time passed before it could be sent"
        row.claimed_by = row.lease_until = None
    return rows


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    claimer: str,
    lease_until: datetime,
    shards: Shards | None,
    busy_lanes: Collection[str],
    lanes: int,
    per_lane: int,
) -> list[OutboxItem]:
    """Lease the next messages of up to ``lanes`` idle lanes to ``claimer``; return them.

    A lane is idle when no row of it is being sent under a live lease (by
    anyone) and this process is not sending on it (``busy_lanes``). From each
    idle lane the oldest due row is taken, and with it up to ``per_lane`` - 1
    more due rows of the same kind when they are ``batchable``. A row whose
    lease ran out (its sender died) is due again, with ``attempted_at`` kept.

    The candidates are read first, then locked (``FOR UPDATE SKIP LOCKED``,
    in id order) and leased with one UPDATE that re-checks each row is still
    free: two claimers never lease the same row, never wait for each other
    and never deadlock; of a lane only the rows up to the first one another
    claimer got are kept, so a lane is never split between two senders.
    """
    lease_over = and_(col(OutboxItem.status) == SENDING, col(OutboxItem.lease_until) < now)
    due = or_(and_(col(OutboxItem.status) == QUEUED, col(OutboxItem.due_at) <= now), lease_over)
    held = (
        select(OutboxItem.lane)
        .where(col(OutboxItem.status) == SENDING, col(OutboxItem.lease_until) >= now)
        .distinct()
    )
    columns: list[Any] = [
        col(OutboxItem.id),
        col(OutboxItem.lane),
        col(OutboxItem.kind),
        col(OutboxItem.batchable),
        func.row_number()
        .over(
            partition_by=col(OutboxItem.lane),
            order_by=(col(OutboxItem.due_at), col(OutboxItem.id)),
        )
        .label("place"),
    ]
    candidates = (
        select(*columns).where(due, col(OutboxItem.lane).not_in(held), *_shard(shards)).subquery()
    )
    query = (
        select(candidates.c.id, candidates.c.lane, candidates.c.kind, candidates.c.batchable)
        .where(candidates.c.place <= max(1, per_lane))
        .order_by(candidates.c.lane, candidates.c.place)
    )
    picked: list[int] = []
    heads: dict[str, tuple[str, bool]] = {}
    taken: dict[str, int] = {}
    lane_of: dict[int, str] = {}
    for row_id, lane, kind, batchable in (await session.exec(query)).all():
        lane_of[int(row_id)] = lane
        if lane in busy_lanes:
            continue
        if lane not in heads:
            if len(heads) >= lanes:
                continue
            heads[lane] = (kind, bool(batchable))
            taken[lane] = 1
            picked.append(int(row_id))
            continue
        head_kind, head_batchable = heads[lane]
        if head_batchable and batchable and kind == head_kind and taken[lane] < per_lane:
            taken[lane] += 1
            picked.append(int(row_id))
        else:
            taken[lane] = per_lane  # a different kind ends the batch: order is kept
    if not picked:
        return []
    # Lock the picked rows that are still free, in id order and skipping rows
    # another claimer holds: concurrent claimers never wait on each other and
    # never deadlock (PostgreSQL; SQLite runs one writer at a time anyway).
    locking = (
        select(col(OutboxItem.id))
        .where(col(OutboxItem.id).in_(picked), or_(due))
        .order_by(col(OutboxItem.id))
        .with_for_update(skip_locked=True)
    )
    free = set((await session.exec(locking)).all())
    # Per lane keep only the leading run of rows this claimer got: a lane whose
    # head went to someone else is theirs, and its order is kept.
    kept: list[int] = []
    lost: set[str] = set()
    for row_id in picked:
        lane = lane_of[row_id]
        if lane in lost:
            continue
        if row_id in free:
            kept.append(row_id)
        else:
            lost.add(lane)
    if not kept:
        return []
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(sorted(kept)), or_(due))
        .values(status=SENDING, claimed_by=claimer, lease_until=lease_until)
        .returning(col(OutboxItem.id))
    )
    ids = list((await session.exec(statement)).scalars().all())
    if not ids:
        return []
    rows = (
        await session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.id).in_(ids))
            .order_by(col(OutboxItem.lane), col(OutboxItem.due_at), col(OutboxItem.id))
            .execution_options(populate_existing=True)
        )
    ).all()
    return list(rows)


async def begin_attempt(
    session: AsyncSession, *, ids: Collection[int], claimer: str, at: datetime
) -> None:
    """Note that sending these rows begins now (a crash from here on may leave a message)."""
    await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(sorted(ids)), col(OutboxItem.claimed_by) == claimer)
        .values(attempted_at=at)
    )


async def renew(
    session: AsyncSession, *, ids: Collection[int], claimer: str, lease_until: datetime
) -> int:
    """Extend this claimer's leases on rows it is still sending; return how many."""
    if not ids:
        return 0
    result = await session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.id).in_(sorted(ids)),
            col(OutboxItem.claimed_by) == claimer,
            col(OutboxItem.status) == SENDING,
        )
        .values(lease_until=lease_until)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Outcome:
    """How sending one row ended."""

    item_id: int
    status: str  # SENT, FAILED or QUEUED (try again at ``retry_at``)
    at: datetime
    message_id: int | None = None
    detail: str | None = None
    retry_at: datetime | None = None
    counts: bool = True  # a Discord answer that counts towards giving up
    # The attempt may have reached Discord (a timeout, a 5xx): the next one looks first.
    maybe_sent: bool = False


async def finish(
    session: AsyncSession, *, claimer: str, outcomes: Iterable[Outcome]
) -> list[OutboxItem]:
    """Record outcomes on the rows still this claimer's; return those rows, updated.

    Rows of one message mostly end the same way (sent, one message id), so
    outcomes with the same values are written by one UPDATE … RETURNING: a
    message of ten reminders costs one statement, not twenty.
    """
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[int]]] = {}
    order: dict[int, int] = {}
    for place, outcome in enumerate(outcomes):
        key = (*astuple(outcome)[1:],)  # everything but the row's id
        groups.setdefault(key, (_outcome_values(outcome), []))[1].append(outcome.item_id)
        order[outcome.item_id] = place
    done: list[OutboxItem] = []
    for values, ids in groups.values():
        result = await session.exec(
            update(OutboxItem)
            .where(
                col(OutboxItem.id).in_(ids),
                col(OutboxItem.claimed_by) == claimer,
                col(OutboxItem.status) == SENDING,
            )
            .values(**values)
            .returning(OutboxItem)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        done.extend(result.scalars().all())
    return sorted(done, key=lambda row: order[row.id or 0])


def _outcome_values(outcome: Outcome) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": outcome.status,
        "detail": (outcome.detail or None) and outcome.detail[:200],
        "claimed_by": None,
        "lease_until": None,
    }
    if outcome.status == SENT:
        values |= {"sent_at": outcome.at, "message_id": outcome.message_id}
    if outcome.status == QUEUED:
        values["due_at"] = outcome.retry_at or outcome.at
        if not outcome.maybe_sent:
            values["attempted_at"] = None
    if outcome.counts and outcome.status != SENT:
        values["attempts"] = col(OutboxItem.attempts) + 1
    return values


async def cancel(session: AsyncSession, *, keys: Collection[str], detail: str) -> int:
    """Cancel queued rows with these keys (a deadline edited, a message no longer wanted)."""
    if not keys:
        return 0
    result = await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.key).in_(sorted(keys)), col(OutboxItem.status) == QUEUED)
        .values(status=CANCELLED, detail=detail[:200])
    )
    return int(result.rowcount or 0)


async def forget_emails(
    session: AsyncSession, *, guild_id: int, participation_ids: Collection[int]
) -> int:
    """Scrub what the outbox keeps of erased nominations' emails; return the rows touched.

    An email row's detail is the SMTP server's answer (which may name the
    person), and the log channel's notice of a refusal repeats it: the
    details are emptied, and notices not yet posted are cancelled and
    emptied. Email rows are keyed ``email:<participation>:<n>`` and their
    notices ``notice:email:<email row>`` (``bot.services.email``).
    """
    if not participation_ids:
        return 0
    mails = (
        await session.exec(
            select(OutboxItem.id).where(
                col(OutboxItem.guild_id) == guild_id,
                or_(*(col(OutboxItem.key).like(f"email:{p}:%") for p in sorted(participation_ids))),
            )
        )
    ).all()
    if not mails:
        return 0
    notices = [f"notice:email:{i}" for i in mails]
    await session.exec(
        update(OutboxItem)
        .where(
            or_(col(OutboxItem.id).in_(mails), col(OutboxItem.key).in_(notices)),
            col(OutboxItem.status) == QUEUED,
        )
        .values(status=CANCELLED)
    )
    await session.exec(update(OutboxItem).where(col(OutboxItem.id).in_(mails)).values(detail=None))
    result = await session.exec(
        update(OutboxItem).where(col(OutboxItem.key).in_(notices)).values(detail=None, payload={})
    )
    return len(mails) + int(result.rowcount or 0)


async def next_due(session: AsyncSession, *, shards: Shards | None) -> datetime | None:
    """Return when the next queued row of our shards is due (or a lease runs out)."""
    queued = await session.scalar(
        select(func.min(OutboxItem.due_at)).where(col(OutboxItem.status) == QUEUED, *_shard(shards))
    )
    leased = await session.scalar(
        select(func.min(OutboxItem.lease_until)).where(
            col(OutboxItem.status) == SENDING, *_shard(shards)
        )
    )
    found = [moment for moment in (queued, leased) if moment is not None]
    return min(found) if found else None


async def count_by_status(
    session: AsyncSession,
    *,
    guild_id: int | None = None,
    statuses: Collection[str] | None = None,
) -> dict[str, int]:
    """Return how many rows are in each status (one guild, or all; some statuses, or all)."""
    query = select(col(OutboxItem.status), func.count()).group_by(col(OutboxItem.status))
    if guild_id is not None:
        query = query.where(col(OutboxItem.guild_id) == guild_id)
    if statuses is not None:
        query = query.where(col(OutboxItem.status).in_(list(statuses)))
    return {str(status): int(n) for status, n in (await session.exec(query)).all()}


async def items_by_key(session: AsyncSession, *, keys: Collection[str]) -> dict[str, OutboxItem]:
    """Return the rows with these keys."""
    if not keys:
        return {}
    rows = (
        await session.exec(select(OutboxItem).where(col(OutboxItem.key).in_(sorted(keys))))
    ).all()
    return {row.key: row for row in rows}
