"""Digest runs: one row per guild per digest period, so each period posts once.

A guild's next digest time is ``GuildConfig.next_digest_at``. Claiming a
digest locks the guild's row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
moves ``next_digest_at`` on and inserts the ``DigestRun`` in one transaction;
the run is unique on (guild, period_start), and each period starts where the
previous one ended, so no change is reported twice and two claimers can never
both win. The run is ``queued`` with its outbox row in the same transaction,
then ``sent`` or ``failed`` as the outbox tells; ``empty``: a digest with
nothing to say is not posted, but its period is over all the same. Runs in
``sending`` or ``retry`` come from before the outbox and are queued again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Index, UniqueConstraint, and_, or_
from sqlmodel import Field, SQLModel, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import AuditEvent
from storage.config import GuildConfig
from storage.delivery import SENDING, Shards, owned
from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for

RETRY: Final = "retry"
QUEUED: Final = "queued"
SENT: Final = "sent"
EMPTY: Final = "empty"
FAILED: Final = "failed"


class DigestRun(SQLModel, table=True):
    """One digest period of one guild and what became of its post."""

    __tablename__ = "digest_run"
    __table_args__ = (
        UniqueConstraint("guild_id", "period_start", name="uq_digest_run_period"),
        Index("ix_digest_run_guild_end", "guild_id", "period_end"),
        Index("ix_digest_run_status_lease", "status", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    kind: str = Field(default="scheduled", max_length=10)  # scheduled | manual
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_id: int | None = Field(default=None, sa_type=DiscordId)
    status: str = Field(default=QUEUED, max_length=10)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_type=DiscordId)
    requested_by: int | None = Field(default=None, sa_type=DiscordId)
    detail: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def last_run(session: AsyncSession, *, guild_id: int) -> DigestRun | None:
    """Return the guild's latest digest run (its period ends where the next one starts)."""
    query = (
        select(DigestRun)
        .where(DigestRun.guild_id == guild_id)
        .order_by(col(DigestRun.period_end).desc(), col(DigestRun.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def guilds_due_for_digest(
    session: AsyncSession, *, now: datetime, shards: Shards | None, limit: int = 50
) -> list[GuildConfig]:
    """Return the configs of guilds whose digest is due, locked (skipping locked ones)."""
    query = select(GuildConfig).where(
        col(GuildConfig.next_digest_at).is_not(None), col(GuildConfig.next_digest_at) <= now
    )
    condition = owned(GuildConfig.guild_id, shards)
    if condition is not None:
        query = query.where(condition)
    query = (
        query.order_by(col(GuildConfig.next_digest_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(query)).all())


async def guilds_without_digest_time(
    session: AsyncSession, *, shards: Shards | None, limit: int = 1000
) -> list[GuildConfig]:
    """Return configs with a digest channel, digests not off, and no next digest time."""
    query = select(GuildConfig).where(
        col(GuildConfig.digest_channel_id).is_not(None),
        col(GuildConfig.next_digest_at).is_(None),
        or_(
            col(GuildConfig.digest_frequency).is_(None), col(GuildConfig.digest_frequency) != "off"
        ),
    )
    condition = owned(GuildConfig.guild_id, shards)
    if condition is not None:
        query = query.where(condition)
    query = query.limit(limit).with_for_update(skip_locked=True)
    return list((await session.exec(query)).all())


async def start_run(
    session: AsyncSession,
    *,
    guild_id: int,
    kind: str,
    period_start: datetime,
    period_end: datetime,
    scheduled_for: datetime | None,
    channel_id: int | None,
    now: datetime,
    requested_by: int | None = None,
) -> DigestRun | None:
    """Insert a run (to be queued); None when that period already has one."""
    statement = (
        insert_for(session, DigestRun)
        .values(
            guild_id=guild_id,
            kind=kind,
            period_start=period_start,
            period_end=period_end,
            scheduled_for=scheduled_for,
            channel_id=channel_id,
            status=QUEUED,
            attempts=0,
            requested_by=requested_by,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["guild_id", "period_start"])
        .returning(DigestRun.__table__.c.id)  # type: ignore[attr-defined]
    )
    run_id = (await session.exec(statement)).scalar_one_or_none()
    if run_id is None:
        return None
    return await session.get(DigestRun, run_id)


async def stale_runs(
    session: AsyncSession, *, now: datetime, shards: Shards | None, limit: int = 20
) -> list[DigestRun]:
    """Return runs left sending or retrying (from before the outbox) whose lease is over, locked."""
    conditions: list[Any] = [
        col(DigestRun.status).in_((SENDING, RETRY)),
        col(DigestRun.lease_until) < now,
    ]
    condition = owned(DigestRun.guild_id, shards)
    if condition is not None:
        conditions.append(condition)
    query = (
        select(DigestRun)
        .where(and_(*conditions))
        .order_by(col(DigestRun.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(query)).all())


async def finish_run(
    session: AsyncSession,
    *,
    run_id: int,
    status: str,
    at: datetime,
    message_id: int | None = None,
    detail: str | None = None,
) -> bool:
    """Record how a queued run's post ended (the outbox tells); return whether it was queued."""
    statement = (
        update(DigestRun)
        .where(col(DigestRun.id) == run_id, col(DigestRun.status) == QUEUED)
        .values(
            status=status,
            sent_at=at if status == SENT else None,
            message_id=message_id,
            detail=detail[:200] if detail else None,
            claimed_by=None,
            lease_until=None,
        )
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def next_digest_due(session: AsyncSession, *, shards: Shards | None) -> datetime | None:
    """Return the earliest ``next_digest_at`` among our shards' guilds."""
    query = select(func.min(GuildConfig.next_digest_at))
    condition = owned(GuildConfig.guild_id, shards)
    if condition is not None:
        query = query.where(condition)
    value: datetime | None = await session.scalar(query)
    return value


async def runs_of(session: AsyncSession, *, guild_id: int, limit: int = 50) -> list[DigestRun]:
    """Return the guild's runs, oldest first."""
    query = (
        select(DigestRun)
        .where(DigestRun.guild_id == guild_id)
        .order_by(col(DigestRun.period_end), col(DigestRun.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def events_between(
    session: AsyncSession,
    *,
    guild_id: int,
    since: datetime,
    until: datetime,
    actions: Collection[str],
    limit: int = 1000,
) -> list[AuditEvent]:
    """Return the guild's audit events with these actions in (since, until], oldest first."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.guild_id == guild_id,
            col(AuditEvent.action).in_(sorted(actions)),
            col(AuditEvent.created_at) > since,
            col(AuditEvent.created_at) <= until,
        )
        .order_by(col(AuditEvent.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def count_events_between(
    session: AsyncSession,
    *,
    guild_id: int,
    since: datetime,
    until: datetime,
    actions: Collection[str],
) -> dict[str, int]:
    """Return how many events of each action the guild had in (since, until]."""
    query = (
        select(AuditEvent.action, func.count())
        .where(
            AuditEvent.guild_id == guild_id,
            col(AuditEvent.action).in_(sorted(actions)),
            col(AuditEvent.created_at) > since,
            col(AuditEvent.created_at) <= until,
        )
        .group_by(col(AuditEvent.action))
    )
    return {action: int(n) for action, n in (await session.exec(query)).all()}
