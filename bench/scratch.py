"""A throwaway database for a bench: a fresh SQLite file, or a schema of its own on PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import text

from storage.database import Database
from storage.schema import metadata


def open_database(url: str | None, schema: str | None, workdir: Path) -> Database:
    """Return the bench's database: ``schema`` in PostgreSQL ``url``, else a file in ``workdir``."""
    if url:
        return Database(url, connect_args={"server_settings": {"search_path": schema}})
    return Database(f"sqlite+aiosqlite:///{workdir}/bench.db")


async def create_database(url: str | None, workdir: Path) -> tuple[Database, str | None]:
    """Make an empty database with every table; return it and its schema (None on SQLite)."""
    schema = f"bench_{secrets.token_hex(4)}" if url else None
    db = open_database(url, schema, workdir)
    async with db.engine.begin() as conn:
        if schema is not None:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(metadata.create_all)
    return db, schema


async def drop_database(db: Database, schema: str | None) -> None:
    """Remove what ``create_database`` made (a SQLite file goes with its folder) and close."""
    if schema is not None:
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await db.dispose()
