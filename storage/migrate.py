"""Schema migrations (Alembic), run on the application's own async engine.

Alembic is imported only when there is something to migrate: at a start
whose schema is already current, ``is_current`` reads the revision with one
query and finds the shipped head from the migration files' own lines, which
spares every start about 0.2 s of imports.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


@cache
def shipped_head() -> str | None:
    """Return the newest revision in ``migrations/versions``, read from the files' lines.

    The head is the revision no other file names as its ``down_revision``
    (``head_revision`` asks Alembic the same; a test keeps them equal).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def is_current(db: Database) -> bool:
    """Return whether the schema is at the shipped head (no migration to run)."""
    head = shipped_head()
    if head is None:
        return False
    try:
        async with db.engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except Exception:  # no table yet: an empty database
        return False
    return [row[0] for row in found] == [head]


def alembic_config() -> Config:
    """Return an Alembic config pointing at this package's migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _foreign_keys(connection: Connection, on: bool) -> None:
    """Turn SQLite's foreign-key enforcement on or off (outside any transaction)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest).

    On SQLite, altering a table means copying it to a new one and dropping the
    old; with foreign keys enforced, dropping ``person`` would cascade-delete
    every participation. Enforcement is off while migrating (as SQLite and
    Alembic advise) and checked afterwards with ``PRAGMA foreign_key_check``.
    """
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
        return
    async with db.engine.connect() as conn:
        await conn.run_sync(_foreign_keys, False)
        try:
            async with conn.begin():
                await conn.run_sync(_upgrade, revision)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"the migration left orphan rows: {broken[:5]}")
        finally:
            await conn.run_sync(_foreign_keys, True)


async def current_revision(db: Database) -> str | None:
    """Return the schema's revision, or None for an empty database."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    """Return the newest revision shipped with the code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision(connection: Connection, message: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


async def make_revision(db: Database, message: str) -> None:
    """Write a new revision file from the difference between models and ``db``."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_revision, message)
