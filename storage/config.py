"""Per-guild configuration rows.

A NULL column means "use the default": defaults are declared once, in
``bot.services.config.DEFAULTS``, so changing a default reaches every guild
that never chose otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, NullableJSON, UTCDateTime, utcnow


class GuildConfig(SQLModel, table=True):
    """What a guild's admins chose; NULL everywhere they did not."""

    __tablename__ = "guild_config"

    guild_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    timezone: str | None = Field(default=None, max_length=64)
    cycle_name: str | None = Field(default=None, max_length=100)
    # The language of the server's public posts (bot.i18n code); NULL: from
    # the server's own locale (Discord's "preferred locale"), else English.
    language: str | None = Field(default=None, max_length=16)
    reminders_channel_id: int | None = Field(default=None, sa_type=DiscordId)
    digest_channel_id: int | None = Field(default=None, sa_type=DiscordId)
    log_channel_id: int | None = Field(default=None, sa_type=DiscordId)
    mag_role_id: int | None = Field(default=None, sa_type=DiscordId)
    secretariat_role_id: int | None = Field(default=None, sa_type=DiscordId)
    digest_frequency: str | None = Field(default=None, max_length=10)
    digest_time: str | None = Field(default=None, max_length=5)
    digest_weekday: int | None = Field(default=None)
    reminder_offsets: list[int] | None = Field(default=None, sa_column=Column(NullableJSON))
    subthemes: list[str] | None = Field(default=None, sa_column=Column(NullableJSON))
    # Overrides of named rules (screening, balance targets...), by rule name.
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When this guild's next digest is due (issue 4); NULL: none scheduled.
    next_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


async def get_guild_config(session: AsyncSession, guild_id: int) -> GuildConfig | None:
    """Return the guild's row, or None when it never changed a setting."""
    return await session.get(GuildConfig, guild_id)


async def get_or_create_guild_config(session: AsyncSession, guild_id: int) -> GuildConfig:
    """Return the guild's row, locked for this transaction, adding it if missing.

    Two admins changing settings at once must neither collide on the insert
    nor overwrite each other: the row is inserted if absent (a no-op when
    another transaction won the race) and then read ``FOR UPDATE`` (on SQLite
    the IMMEDIATE transaction already holds the write lock).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.exec(
        insert(GuildConfig)
        .values(guild_id=guild_id, rules={}, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["guild_id"])
    )
    query = (
        select(GuildConfig)
        .where(GuildConfig.guild_id == guild_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).one()
