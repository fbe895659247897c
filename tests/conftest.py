"""Fixtures shared by every test: a real database on each backend, a fixed clock.

Storage and service tests take ``db`` and so run twice: on a fresh SQLite file
and on a fresh PostgreSQL schema (``TEST_POSTGRES_URL``, default the local
server at 127.0.0.1:5432, database ``test``). When PostgreSQL is unreachable
those runs are skipped, unless ``REQUIRE_POSTGRES=1`` (CI), which fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage.database import Database
from storage.schema import metadata

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"

_postgres_ok: bool | None = None


async def _postgres_reachable() -> bool:
    global _postgres_ok
    if _postgres_ok is None:
        probe = Database(POSTGRES_URL, connect_args={"timeout": 3})
        try:
            async with probe.engine.connect() as conn:
                await conn.execute(text("select 1"))
            _postgres_ok = True
        except (TimeoutError, OSError, Exception):
            _postgres_ok = False
        finally:
            await probe.dispose()
    return _postgres_ok


async def make_database(
    backend: str, tmp_path: os.PathLike[str], *, tables: bool = True
) -> Database:
    """Return an empty database on ``backend`` that no other test sees."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/test.db")
    else:
        if not await _postgres_reachable():
            message = f"PostgreSQL not reachable at {POSTGRES_URL}"
            if REQUIRE_POSTGRES:
                pytest.fail(message)
            pytest.skip(message)
        schema = f"t_{secrets.token_hex(6)}"
        db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
        async with db.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db.test_schema = schema  # type: ignore[attr-defined]
    if tables:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    return db


async def drop_database(db: Database) -> None:
    """Remove what ``make_database`` made (PostgreSQL schemas; SQLite files go with tmp)."""
    schema = getattr(db, "test_schema", None)
    if schema is not None:
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn."""
    return request.param


@pytest.fixture
async def db(backend: str, tmp_path: os.PathLike[str]) -> AsyncIterator[Database]:
    """A fresh database with every table, on each backend."""
    database = await make_database(backend, tmp_path)
    try:
        yield database
    finally:
        await drop_database(database)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """A clock fixed at 2027-03-01 12:00 UTC."""
    return FakeClock()
