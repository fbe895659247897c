"""Which language each person reads: their own choice, and the Discord locale last seen.

One row per Discord account, whatever the server: a person's language does
not change from one server to the next. ``chosen`` is what they picked in
``/profile language`` (Arabic, which Discord's client lacks, is only ever
chosen); ``seen`` is the locale their client last sent, which is how a DM or
a reminder to them is written in their language when no interaction is
there to say it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for


class ReaderLanguage(SQLModel, table=True):
    """One person's language, as chosen and as last seen."""

    __tablename__ = "reader_language"

    user_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    chosen: str | None = Field(default=None, max_length=16)
    seen: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def get_reader(session: AsyncSession, user_id: int) -> ReaderLanguage | None:
    """Return the person's row, or None when they were never seen."""
    return await session.get(ReaderLanguage, user_id)


async def save_reader(session: AsyncSession, user_id: int, **values: str | None) -> None:
    """Record ``chosen`` and/or ``seen`` for the person (the other is left as it is)."""
    if not values.keys() <= {"chosen", "seen"}:
        raise ValueError(f"unknown fields {sorted(values)}")
    changes: dict[str, object] = {**values, "updated_at": utcnow()}
    await session.exec(
        insert_for(session, ReaderLanguage)
        .values(user_id=user_id, **changes)
        .on_conflict_do_update(index_elements=["user_id"], set_=changes)
    )
