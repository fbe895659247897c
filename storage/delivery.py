"""What reminders and digests share on the way out: shard ownership and blocked channels.

A process owns the guilds of its Discord shards: a guild belongs to shard
``(guild_id >> 22) % shard_count``. Claims filter on that expression in SQL
(SQLite and PostgreSQL both have ``>>`` and ``%`` on integers), so several
processes sharing one database never pick up each other's guilds.

A channel where Discord answered 403 or 404 is *blocked*: further posts to it
fail at once instead of hammering Discord, and the admins are told once. The
block is lifted by the first post that succeeds after ``retry_at`` (one probe
at a time), or when an admin chooses channels again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Column, Integer, UniqueConstraint, delete, literal_column
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for


@dataclass(frozen=True)
class Shards:
    """The shards one process owns, out of ``count``."""

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"bad shard set {sorted(self.ids)} of {self.count}")

    def owns(self, guild_id: int) -> bool:
        """Return whether the guild's shard is one of ours (Discord's formula)."""
        return (guild_id >> 22) % self.count in self.ids

    def clause(self, guild_column: Any) -> ColumnElement[bool]:
        """Return the SQL condition ``(guild_id >> 22) % count IN (ids)``."""
        # Inline integers: PostgreSQL has ``bigint >> integer`` but no ``bigint >> bigint``.
        shift = literal_column("22", Integer)
        shard = col(guild_column).op(">>")(shift).op("%")(literal_column(str(int(self.count))))
        return shard.in_(sorted(self.ids))


def owned(guild_column: Any, shards: Shards | None) -> ColumnElement[bool] | None:
    """Return the shard condition, or None when the process owns every guild."""
    if shards is None or len(shards.ids) == shards.count:
        return None
    return shards.clause(guild_column)


class ChannelBlock(SQLModel, table=True):
    """A channel Discord refused (403/404), and whether the admins were told."""

    __tablename__ = "channel_block"
    __table_args__ = (UniqueConstraint("guild_id", "channel_id", name="uq_channel_block"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    channel_id: int = Field(sa_column=Column(DiscordId, nullable=False))
    error: str = Field(default="", max_length=200)
    blocked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Until then posts to the channel fail without trying; then one probe.
    retry_at: datetime = Field(sa_type=UTCDateTime)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def get_block(
    session: AsyncSession, *, guild_id: int, channel_id: int
) -> ChannelBlock | None:
    """Return the block on a channel, if any."""
    query = select(ChannelBlock).where(
        ChannelBlock.guild_id == guild_id, ChannelBlock.channel_id == channel_id
    )
    return (await session.exec(query)).first()


async def blocks_in(
    session: AsyncSession, *, guild_ids: Collection[int]
) -> dict[tuple[int, int], ChannelBlock]:
    """Return the blocks of these guilds, by (guild_id, channel_id)."""
    if not guild_ids:
        return {}
    query = select(ChannelBlock).where(col(ChannelBlock.guild_id).in_(sorted(set(guild_ids))))
    return {(b.guild_id, b.channel_id): b for b in (await session.exec(query)).all()}


async def block_channel(
    session: AsyncSession,
    *,
    guild_id: int,
    channel_id: int,
    error: str,
    now: datetime,
    retry_at: datetime,
) -> ChannelBlock:
    """Block a channel (or extend its block) and return the row, locked."""
    await session.exec(
        insert_for(session, ChannelBlock)
        .values(
            guild_id=guild_id,
            channel_id=channel_id,
            error=error[:200],
            blocked_at=now,
            retry_at=retry_at,
        )
        .on_conflict_do_nothing(index_elements=["guild_id", "channel_id"])
    )
    query = (
        select(ChannelBlock)
        .where(ChannelBlock.guild_id == guild_id, ChannelBlock.channel_id == channel_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    block = (await session.exec(query)).one()
    block.retry_at = retry_at
    block.error = error[:200]
    return block


async def unblock_channel(session: AsyncSession, *, guild_id: int, channel_id: int) -> bool:
    """Lift the block on a channel; return whether there was one."""
    result = await session.exec(
        delete(ChannelBlock).where(
            col(ChannelBlock.guild_id) == guild_id, col(ChannelBlock.channel_id) == channel_id
        )
    )
    return bool(result.rowcount)


async def unblock_guild(session: AsyncSession, *, guild_id: int) -> int:
    """Lift every block in a guild (its admins chose channels again)."""
    result = await session.exec(delete(ChannelBlock).where(col(ChannelBlock.guild_id) == guild_id))
    return int(result.rowcount or 0)


# The status of a reminder or digest run leased to a sender (before the outbox).
SENDING: Final = "sending"
