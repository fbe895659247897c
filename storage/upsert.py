"""``INSERT ... ON CONFLICT`` for whichever backend the session is bound to.

Race-safe creation without catching ``IntegrityError`` (which would abort the
whole PostgreSQL transaction): insert-or-ignore, then read the row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """Return an ``insert`` of the session's dialect, with ``on_conflict_do_*``."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table)
