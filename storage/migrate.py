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


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


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
