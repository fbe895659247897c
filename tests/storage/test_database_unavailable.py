"""A database that is away or stuck is recognised as such, within the timeout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database, is_unavailable
from tests.conftest import POSTGRES_URL, make_database


async def _error_of(db: Database, sql: str, *, write: bool = False) -> BaseException:
    with pytest.raises(Exception) as caught:
        if write:
            async with db.write() as session:
                await session.exec(text(sql))  # type: ignore[call-overload]
        else:
            async with db.read() as session:
                await session.exec(text(sql))  # type: ignore[call-overload]
    return caught.value


async def test_a_refused_connection_is_unavailable_and_fails_fast() -> None:
    db = Database("postgresql+asyncpg://127.0.0.1:1/test", timeout=0.5)
    try:
        started = time.monotonic()
        error = await _error_of(db, "SELECT 1")
        assert is_unavailable(error)
        assert time.monotonic() - started < 2.0
    finally:
        await db.dispose()


async def test_a_stuck_postgresql_statement_times_out_as_unavailable(
    tmp_path: Path,
) -> None:
    probe = await make_database("postgresql", tmp_path, tables=False)  # skips without PostgreSQL
    await probe.dispose()
    db = Database(POSTGRES_URL, timeout=0.3)
    try:
        started = time.monotonic()
        error = await _error_of(db, "SELECT pg_sleep(5)")
        assert is_unavailable(error)
        assert time.monotonic() - started < 2.0
        # A mistake in a query is ours, not an outage.
        assert not is_unavailable(await _error_of(db, "SELECT * FROM no_such_table"))
    finally:
        await db.dispose()


async def test_a_locked_sqlite_file_is_unavailable_after_the_timeout(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/locked.db"
    holder = Database(url)
    db = Database(url, timeout=0.2)
    try:
        async with holder.write() as session:
            await session.exec(text("CREATE TABLE t (x INTEGER)"))  # type: ignore[call-overload]
        release = asyncio.Event()
        locked = asyncio.Event()

        async def hold() -> None:
            async with holder.write() as session:
                await session.exec(text("INSERT INTO t VALUES (1)"))  # type: ignore[call-overload]
                locked.set()
                await release.wait()

        task = asyncio.create_task(hold())
        await locked.wait()
        error = await _error_of(db, "INSERT INTO t VALUES (2)", write=True)
        assert is_unavailable(error)
        release.set()
        await task
        # Once the lock is gone the same database works again by itself.
        async with db.write() as session:
            await session.exec(text("INSERT INTO t VALUES (3)"))  # type: ignore[call-overload]
        assert not is_unavailable(await _error_of(db, "SELEC nonsense"))
    finally:
        await db.dispose()
        await holder.dispose()


def test_errors_that_are_not_outages() -> None:
    assert not is_unavailable(ValueError("bad"))
    assert not is_unavailable(TimeoutError("from somewhere else, not the database"))
