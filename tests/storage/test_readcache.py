"""The read cache: a kept answer lasts until this process writes one of its tables, or 2 s."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from storage.audit import AuditEvent, recent_events, record_event
from storage.config import GuildConfig
from storage.database import Database
from storage.readcache import ReadCache
from tests.conftest import drop_database, make_database

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EVENTS = ("audit_event",)


class Loads:
    """A load function that counts its calls and returns a new value each time."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> tuple[int]:
        self.calls += 1
        await asyncio.sleep(0)
        return (self.calls,)


async def events(db: Database) -> tuple[str, ...]:
    async with db.read() as session:
        return tuple(e.action for e in await recent_events(session, guild_id=1))


async def test_a_kept_answer_is_returned_until_a_write_ends(db: Database) -> None:
    async def read() -> tuple[str, ...]:
        return await db.reads.get(("events", 1), lambda: events(db), now=T0, tables=EVENTS)

    assert await read() == ()
    assert await read() == ()
    assert (db.reads.hits, db.reads.misses) == (1, 1)
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="added", at=T0)
    assert await read() == ("added",)  # the write ended: read again
    # A write that failed after writing the table ends it too; one that wrote nothing does not.
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await record_event(session, guild_id=1, actor_id=None, action="undone", at=T0)
            await session.flush()
            raise RuntimeError("boom")
    assert await read() == ("added",)
    assert db.reads.misses == 3
    with pytest.raises(RuntimeError):
        async with db.write():
            raise RuntimeError("boom")
    assert await read() == ("added",)
    assert db.reads.misses == 3


async def test_a_write_to_other_tables_keeps_the_answer(db: Database) -> None:
    async def read() -> tuple[str, ...]:
        return await db.reads.get(("events", 1), lambda: events(db), now=T0, tables=EVENTS)

    await read()
    async with db.write() as session:  # the ORM's flush: its table is named
        session.add(GuildConfig(guild_id=5))
    assert await read() == () and db.reads.hits == 1
    async with db.write() as session:  # a Core statement on the table read
        connection = await session.connection()
        await connection.execute(
            insert(AuditEvent).values(guild_id=1, action="core", created_at=T0)
        )
    assert await read() == ("core",)
    async with db.write() as session:  # raw SQL: which table is not known, so every one
        await (await session.connection()).execute(text("UPDATE guild_config SET timezone = 'UTC'"))
    assert await read() == ("core",) and db.reads.misses == 3
    async with db.write() as session:  # only reads: nothing ends
        await session.exec(select(1))
    assert await read() == ("core",) and db.reads.hits == 2


async def test_another_process_s_write_is_seen_within_the_ttl(tmp_path: Path) -> None:
    db = await make_database("sqlite", tmp_path)
    other = Database(db.url)  # another process on the same file: this one is not told
    try:
        assert await db.reads.get("events", lambda: events(db), now=T0, tables=EVENTS) == ()
        async with other.write() as session:
            await record_event(session, guild_id=1, actor_id=None, action="elsewhere", at=T0)
        soon = T0 + timedelta(seconds=1.9)
        assert await db.reads.get("events", lambda: events(db), now=soon, tables=EVENTS) == ()
        later = T0 + timedelta(seconds=2)
        assert await db.reads.get("events", lambda: events(db), now=later, tables=EVENTS) == (
            "elsewhere",
        )
        # A clock that moved back (never in production) does not trust the entry either.
        assert await db.reads.get("events", lambda: events(db), now=T0, tables=EVENTS) == (
            "elsewhere",
        )
        assert db.reads.misses == 3
    finally:
        await other.dispose()
        await drop_database(db)


async def test_a_read_that_overlapped_a_write_is_not_kept() -> None:
    generation = [0]
    cache = ReadCache(lambda tables: generation[0])
    loads = Loads()

    async def racing() -> tuple[int]:
        value = await loads()
        generation[0] += 1  # a write ended while it read
        return value

    assert await cache.get("k", racing, now=T0, tables=()) == (1,)
    assert len(cache) == 0
    assert await cache.get("k", loads, now=T0, tables=()) == (2,)
    assert await cache.get("k", loads, now=T0, tables=()) == (2,)


async def test_concurrent_misses_share_one_load_and_errors_are_not_kept() -> None:
    cache = ReadCache(lambda tables: 0)
    loads = Loads()
    answers = await asyncio.gather(*(cache.get("k", loads, now=T0, tables=()) for _ in range(20)))
    assert loads.calls == 1 and set(answers) == {(1,)}

    failures = 0

    async def failing() -> tuple[int]:
        nonlocal failures
        failures += 1
        await asyncio.sleep(0)
        raise LookupError("no such proposal")

    results = await asyncio.gather(
        *(cache.get("bad", failing, now=T0, tables=()) for _ in range(5)), return_exceptions=True
    )
    assert failures == 1 and all(isinstance(r, LookupError) for r in results)
    with pytest.raises(LookupError):
        await cache.get("bad", failing, now=T0, tables=())
    assert failures == 2


async def test_a_cancelled_first_reader_leaves_the_others_to_read() -> None:
    cache = ReadCache(lambda tables: 0)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "slow"

    first = asyncio.create_task(cache.get("k", slow, now=T0, tables=()))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("k", Loads(), now=T0, tables=()))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == (1,)
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_least_recently_used_go_first() -> None:
    cache = ReadCache(lambda tables: 0, size=3)
    for key in "abc":
        await cache.get(key, Loads(), now=T0, tables=())
    await cache.get("a", Loads(), now=T0, tables=())  # a hit: "a" is now the most recent
    await cache.get("d", Loads(), now=T0, tables=())
    assert len(cache) == 3
    hits = cache.hits
    await cache.get("a", Loads(), now=T0, tables=())
    await cache.get("b", Loads(), now=T0, tables=())  # evicted: read again
    assert cache.hits == hits + 1
