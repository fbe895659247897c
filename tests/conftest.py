"""Fixtures shared by every test: a real database on each backend, a fixed clock.

Storage and service tests take ``db`` and so run twice: on an empty SQLite file
and on an emptied PostgreSQL schema (``TEST_POSTGRES_URL``, default the local
server at 127.0.0.1:5432, database ``test``). When PostgreSQL is unreachable
those runs are skipped, unless ``REQUIRE_POSTGRES=1`` (CI), which fails them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Integer, text

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


# Creating every table for every test costs more than the tests themselves, so
# each backend gets its tables once per session: SQLite tests get a copy of a
# template file, PostgreSQL tests share one schema emptied before each test.


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every table and no rows."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await db.dispose()  # checkpoints the WAL into the main file

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """A PostgreSQL schema with every table for this session (None: unreachable)."""
    schema = f"s_{secrets.token_hex(6)}"

    async def run(statement: str, create: bool) -> bool:
        if not await _postgres_reachable():
            return False
        db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
        try:
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
                if create:
                    await conn.run_sync(metadata.create_all)
        finally:
            await db.dispose()
        return True

    made = asyncio.run(run(f'CREATE SCHEMA "{schema}"', create=True))
    yield schema if made else None
    if made:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE', create=False))


def _empty_all_sql() -> str:
    """Return one script that deletes every row and restarts every id sequence.

    DELETE on a few small tables takes milliseconds; TRUNCATE creates new files
    for every table and took over half a second per test.
    """
    statements = [f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)]
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type._type_affinity is Integer
            ):
                statements.append(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'),"
                    " 1, false)"
                )
    return ";\n".join(statements)


_EMPTY_ALL = _empty_all_sql()


@pytest.fixture
async def db(
    backend: str, tmp_path: Path, sqlite_template: Path, postgres_schema: str | None
) -> AsyncIterator[Database]:
    """An empty database with every table, on each backend."""
    if backend == "sqlite":
        copy = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, copy)
        database = Database(f"sqlite+aiosqlite:///{copy}")
    else:
        if postgres_schema is None:
            message = f"PostgreSQL not reachable at {POSTGRES_URL}"
            if REQUIRE_POSTGRES:
                pytest.fail(message)
            pytest.skip(message)
        database = Database(
            POSTGRES_URL, connect_args={"server_settings": {"search_path": postgres_schema}}
        )
        async with database.engine.begin() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(_EMPTY_ALL)  # type: ignore[union-attr]
    try:
        yield database
    finally:
        await database.dispose()


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
