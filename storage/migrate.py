"""Schema migrations (Alembic), run on the application's own async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """Return an Alembic config pointing at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
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
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision(connection: Connection, message: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


async def make_revision(db: Database, message: str) -> None:
    """Write a new revision file from the difference between models and ``db``."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_revision, message)
