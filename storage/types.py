"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Discord snowflakes overflow PostgreSQL's 32-bit INTEGER: every column that
# holds one uses this type. (Our own primary keys stay INTEGER so that SQLite
# keeps its rowid autoincrement.)
DiscordId = BigInteger

# Python None is SQL NULL, not the JSON text 'null': NULL means "not set".
NullableJSON = JSON(none_as_null=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on the way in and out, on every backend.

    SQLite has no timezone type and silently drops offsets, so values are
    stored there as naive UTC (which also sorts correctly as text) and made
    aware again when read. Naive datetimes are refused on the way in: they are
    almost always a bug (local time mistaken for UTC).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)
