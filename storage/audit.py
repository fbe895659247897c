"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """One change, as it was made. Never updated, never deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_guild_target", "guild_id", "target", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId, index=True)
    actor_id: int | None = Field(default=None, sa_type=DiscordId)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=64)
    before: Any = Field(default=None, sa_column=Column(NullableJSON))
    after: Any = Field(default=None, sa_column=Column(NullableJSON))
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def record_event(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int | None,
    action: str,
    target: str = "",
    before: Any = None,
    after: Any = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        guild_id=guild_id,
        actor_id=actor_id,
        action=action,
        target=target,
        before=before,
        after=after,
        note=note,
        created_at=at or utcnow(),
    )
    session.add(event)
    return event


async def recent_events(
    session: AsyncSession, *, guild_id: int, target: str | None = None, limit: int = 20
) -> list[AuditEvent]:
    """Return the guild's newest events first, optionally for one target."""
    query = select(AuditEvent).where(AuditEvent.guild_id == guild_id)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    query = query.order_by(col(AuditEvent.id).desc()).limit(limit)
    return list((await session.exec(query)).all())
