"""Review of the read cache: writes whose tables the database fails to note (failing tests)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage.audit import recent_events, record_event
from storage.config import GuildConfig
from storage.database import Database

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EVENTS = ("audit_event",)


async def events(db: Database) -> tuple[str, ...]:
    async with db.read() as session:
        return tuple(e.action for e in await recent_events(session, guild_id=1))


async def read(db: Database) -> tuple[str, ...]:
    return await db.reads.get(("events", 1), lambda: events(db), now=T0, tables=EVENTS)


async def test_a_savepoint_does_not_forget_what_the_transaction_wrote_before_it(
    db: Database,
) -> None:
    assert await read(db) == ()
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="before", at=T0)
        await session.flush()
        # A savepoint (reminders' chase lists, digest sections) fires after_begin again.
        async with session.begin_nested():
            await session.exec(select(GuildConfig))
    assert await read(db) == ("before",)


async def test_a_savepoint_s_own_writes_do_not_hide_the_earlier_ones(db: Database) -> None:
    assert await read(db) == ()
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="before", at=T0)
        async with session.begin_nested():  # flushes the event, then resets the noted tables
            session.add(GuildConfig(guild_id=77))
    assert await read(db) == ("before",)


async def test_raw_sql_with_a_line_break_after_its_verb_counts_as_every_table(
    db: Database,
) -> None:
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="kept", at=T0)
    assert await read(db) == ("kept",)
    async with db.write() as session:
        await session.exec(text("WITH gone AS (SELECT 1)\nDELETE\nFROM audit_event"))
    assert await read(db) == ()


async def test_two_writes_in_turn_on_one_postgresql_connection_both_count(
    db: Database, postgres_schema: str | None
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite writers take turns in the process: the next one waits")
    # The tables are noted in the pooled connection's info, read back only after the
    # connection went back to the pool: the next writer may have taken it by then (only
    # the pre-ping's round trip, on by default, lets the first writer read its own first).
    schema = getattr(db, "test_schema", postgres_schema)
    one = Database(
        db.url,
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=False,
        connect_args={"server_settings": {"search_path": schema}},
    )
    try:
        assert await read(one) == ()

        async def first() -> None:
            async with one.write() as session:
                await record_event(session, guild_id=1, actor_id=None, action="first", at=T0)

        async def second() -> None:
            async with one.write() as session:
                session.add(GuildConfig(guild_id=78))

        await asyncio.gather(first(), second())
        assert await read(one) == ("first",)
    finally:
        await one.dispose()
