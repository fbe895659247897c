"""Actions waiting for a button: confirmations of heavy changes, and saved form drafts.

A button's ``custom_id`` carries a ``PendingAction``'s id and its random
token (an id alone could be guessed), so the button works after a restart:
the row, not the process, remembers what was asked. A row is used once
(``used_at``) and expires (``expires_at``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, UTCDateTime, utcnow


class PendingAction(SQLModel, table=True):
    """Something a user asked for that waits for their Confirm (or a saved draft)."""

    __tablename__ = "pending_action"
    __table_args__ = (Index("ix_pending_action_expires", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    user_id: int = Field(sa_type=DiscordId)
    kind: str = Field(max_length=40)
    token: str = Field(max_length=24)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def add_pending(session: AsyncSession, *, action: PendingAction) -> PendingAction:
    """Add ``action`` to the caller's transaction and give it its id."""
    session.add(action)
    await session.flush()
    return action


async def get_pending(
    session: AsyncSession, *, action_id: int, for_update: bool = False
) -> PendingAction | None:
    """Return the pending action with this id, optionally locked."""
    query = select(PendingAction).where(PendingAction.id == action_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def purge_pending(session: AsyncSession, *, before: datetime) -> int:
    """Delete actions that expired before ``before``; return how many."""
    result = await session.exec(delete(PendingAction).where(col(PendingAction.expires_at) < before))
    return int(result.rowcount or 0)
