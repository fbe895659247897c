"""The read cache: a kept answer lasts until the next write of this process, or 2 s."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.audit import recent_events, record_event
from storage.database import Database
from storage.readcache import ReadCache
from tests.conftest import drop_database, make_database

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


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
        return await db.reads.get(("events", 1), lambda: events(db), now=T0)

    assert await read() == ()
    assert await read() == ()
    assert (db.reads.hits, db.reads.misses) == (1, 1)
    async with db.write() as session:
        await record_event(session, guild_id=1, actor_id=None, action="added", at=T0)
    assert await read() == ("added",)  # the write ended: read again
    # A write that failed bumps it too (it may have changed what it touched).
    with pytest.raises(RuntimeError):
        async with db.write():
            raise RuntimeError("boom")
    assert await read() == ("added",)
    assert db.reads.misses == 3


async def test_another_process_s_write_is_seen_within_the_ttl(tmp_path: Path) -> None:
    db = await make_database("sqlite", tmp_path)
    other = Database(db.url)  # another process on the same file: this one is not told
    try:
        assert await db.reads.get("events", lambda: events(db), now=T0) == ()
        async with other.write() as session:
            await record_event(session, guild_id=1, actor_id=None, action="elsewhere", at=T0)
        soon = T0 + timedelta(seconds=1.9)
        assert await db.reads.get("events", lambda: events(db), now=soon) == ()
        later = T0 + timedelta(seconds=2)
        assert await db.reads.get("events", lambda: events(db), now=later) == ("elsewhere",)
        # A clock that moved back (never in production) does not trust the entry either.
        assert await db.reads.get("events", lambda: events(db), now=T0) == ("elsewhere",)
        assert db.reads.misses == 3
    finally:
        await other.dispose()
        await drop_database(db)


async def test_a_read_that_overlapped_a_write_is_not_kept() -> None:
    generation = [0]
    cache = ReadCache(lambda: generation[0])
    loads = Loads()

    async def racing() -> tuple[int]:
        value = await loads()
        generation[0] += 1  # a write ended while it read
        return value

    assert await cache.get("k", racing, now=T0) == (1,)
    assert len(cache) == 0
    assert await cache.get("k", loads, now=T0) == (2,)
    assert await cache.get("k", loads, now=T0) == (2,)


async def test_concurrent_misses_share_one_load_and_errors_are_not_kept() -> None:
    cache = ReadCache(lambda: 0)
    loads = Loads()
    answers = await asyncio.gather(*(cache.get("k", loads, now=T0) for _ in range(20)))
    assert loads.calls == 1 and set(answers) == {(1,)}

    failures = 0

    async def failing() -> tuple[int]:
        nonlocal failures
        failures += 1
        await asyncio.sleep(0)
        raise LookupError("no such proposal")

    results = await asyncio.gather(
        *(cache.get("bad", failing, now=T0) for _ in range(5)), return_exceptions=True
    )
    assert failures == 1 and all(isinstance(r, LookupError) for r in results)
    with pytest.raises(LookupError):
        await cache.get("bad", failing, now=T0)
    assert failures == 2


async def test_a_cancelled_first_reader_leaves_the_others_to_read() -> None:
    cache = ReadCache(lambda: 0)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "slow"

    first = asyncio.create_task(cache.get("k", slow, now=T0))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("k", Loads(), now=T0))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == (1,)
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_least_recently_used_go_first() -> None:
    cache = ReadCache(lambda: 0, size=3)
    for key in "abc":
        await cache.get(key, Loads(), now=T0)
    await cache.get("a", Loads(), now=T0)  # a hit: "a" is now the most recent
    await cache.get("d", Loads(), now=T0)
    assert len(cache) == 3
    hits = cache.hits
    await cache.get("a", Loads(), now=T0)
    await cache.get("b", Loads(), now=T0)  # evicted: read again
    assert cache.hits == hits + 1
