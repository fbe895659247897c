"""The storage core on both backends: times, ids, transactions, migrations."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage import migrate
from storage.audit import recent_events, record_event
from storage.config import GuildConfig, get_or_create_guild_config
from storage.database import Database, is_unavailable, normalise_url
from storage.schema import metadata
from tests.conftest import drop_database, make_database

BIG_SNOWFLAKE = 1_300_000_000_000_000_123  # larger than 2**31, as every Discord id is


async def test_datetimes_come_back_aware_and_in_utc(db: Database) -> None:
    zurich_summer = datetime(2027, 6, 30, 23, 59, tzinfo=timezone(timedelta(hours=2)))
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="x", at=zurich_summer)
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=1)
    assert event.created_at.tzinfo is not None
    assert event.created_at == zurich_summer
    assert event.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.write() as session:
            await record_event(
                session, guild_id=1, actor_id=None, action="x", at=datetime(2027, 1, 1)
            )


async def test_discord_ids_fit(db: Database) -> None:
    async with db.write() as session:
        row = await get_or_create_guild_config(session, BIG_SNOWFLAKE)
        row.digest_channel_id = BIG_SNOWFLAKE + 1
    async with db.read() as session:
        stored = await session.get(GuildConfig, BIG_SNOWFLAKE)
    assert stored is not None and stored.digest_channel_id == BIG_SNOWFLAKE + 1


async def test_a_failed_unit_of_work_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await record_event(session, guild_id=1, actor_id=None, action="x")
            await session.flush()
            raise RuntimeError("boom")
    async with db.read() as session:
        assert await recent_events(session, guild_id=1) == []


async def test_concurrent_read_then_write_transactions_never_fail(db: Database) -> None:
    """Deferred SQLite transactions fail with 'database is locked' here; IMMEDIATE waits."""

    async def bump(i: int) -> None:
        async with db.write() as session:
            row = await get_or_create_guild_config(session, 7)
            await asyncio.sleep(0)  # let the others start their transactions
            row.digest_weekday = (row.digest_weekday or 0) + 1
            await record_event(session, guild_id=7, actor_id=i, action="bump")

    await asyncio.gather(*(bump(i) for i in range(30)))
    async with db.read() as session:
        events = await recent_events(session, guild_id=7, limit=100)
        row = await session.get(GuildConfig, 7)
    assert len(events) == 30
    assert row is not None and row.digest_weekday == 30


async def test_sqlite_writers_take_turns_first_come_first_served(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/turns.db", timeout=0.2)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        order: list[int] = []

        async def write(i: int, hold: float = 0.0) -> None:
            async with db.write() as session:
                order.append(i)
                await record_event(session, guild_id=7, actor_id=i, action="turn")
                await asyncio.sleep(hold)

        await asyncio.gather(*(write(i) for i in range(20)))
        assert order == list(range(20))  # in the order they asked, none refused
        # A writer kept waiting longer than the timeout is told the database is busy.
        holder = asyncio.create_task(write(99, hold=0.5))
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError) as waited:
            await write(100)
        assert is_unavailable(waited.value)
        await holder
        # A write opened inside another could never be granted: refused at once.
        async with db.write():
            with pytest.raises(RuntimeError, match="inside another"):
                async with db.write():
                    pass
        async with db.write() as session:  # and the turn was given back
            await record_event(session, guild_id=7, actor_id=1, action="after")
    finally:
        await db.dispose()


async def test_sqlite_reads_and_writes_take_few_trips_to_the_driver_thread(
    tmp_path, monkeypatch
) -> None:
    """Each trip to aiosqlite's thread costs a hand-over; a query in a session is two."""
    import aiosqlite

    db = Database(f"sqlite:///{tmp_path}/trips.db")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        trips: list[str] = []
        real = aiosqlite.Connection._execute

        async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            trips.append(getattr(fn, "__name__", repr(fn)))
            return await real(self, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with db.read() as session:
            assert (await session.exec(text("SELECT 1"))).scalar() == 1
        assert len(trips) == 2, trips  # BEGIN with the query, then the rollback
        trips.clear()
        async with db.write() as session:
            await record_event(session, guild_id=7, actor_id=1, action="trip")
        assert len(trips) == 2, trips  # BEGIN IMMEDIATE with the INSERT, then the commit
        trips.clear()
        async with db.read():
            pass  # a session that ran nothing costs nothing
        assert trips == []
        async with db.read() as session:
            assert len(await recent_events(session, guild_id=7)) == 1  # and it was committed
    finally:
        await db.dispose()


async def test_sqlite_pragmas(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/p.db")
    try:
        assert db.url.startswith("sqlite+aiosqlite://")
        async with db.read() as session:
            mode = (await session.exec(text("PRAGMA journal_mode"))).one()[0]
            fks = (await session.exec(text("PRAGMA foreign_keys"))).one()[0]
        assert (mode, fks) == ("wal", 1)
    finally:
        await db.dispose()


def test_urls_name_the_async_driver() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_url("sqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"
    assert normalise_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"


@pytest.fixture
async def empty_db(backend: str, tmp_path: os.PathLike[str]):
    database = await make_database(backend, tmp_path, tables=False)
    try:
        yield database
    finally:
        await drop_database(database)


async def test_migrations_build_exactly_the_models(empty_db: Database) -> None:
    assert await migrate.current_revision(empty_db) is None
    assert not await migrate.is_current(empty_db)
    await migrate.upgrade(empty_db)
    assert await migrate.current_revision(empty_db) == migrate.head_revision()
    # The start's shortcut reads the same head as Alembic, without Alembic.
    assert migrate.shipped_head() == migrate.head_revision()
    assert await migrate.is_current(empty_db)

    def differences(conn):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(conn), metadata)

    async with empty_db.engine.connect() as conn:
        diff = await conn.run_sync(differences)
    assert diff == []
    # Running it again is harmless (the bot upgrades at every start).
    await migrate.upgrade(empty_db)


async def test_audit_events_are_kept_per_guild(db: Database) -> None:
    async with db.write() as session:
        for guild in (1, 2, 1):
            await record_event(session, guild_id=guild, actor_id=None, action="a", target="t")
    async with db.read() as session:
        assert len(await recent_events(session, guild_id=1)) == 2
        assert len(await recent_events(session, guild_id=2, target="t")) == 1
        assert await recent_events(session, guild_id=2, target="other") == []
