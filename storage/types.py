"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
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


# SQLite's own lower() folds A-Z only ("Économie" stays "Économie", "ИНТЕРНЕТ" stays):
# a Python function does it there, registered under its own name on every SQLite
# connection (storage.database), so only the queries that ask for it pay for it.
SQLITE_LOWER = "unicode_lower"


def unicode_lower(value: object) -> object:
    """Return ``value`` lower-cased as Python does it (the SQLite function)."""
    return value.lower() if isinstance(value, str) else value


class lower_text(FunctionElement[str]):
    """``lower(text)`` folding every script on both backends (Python's ``str.lower``).

    PostgreSQL's ``lower`` folds by the database's locale (every script with a
    UTF-8 one); SQLite's only A-Z, so there it is ``unicode_lower``.
    """

    type = String()
    name = "lower_text"
    inherit_cache = True


@compiles(lower_text)
def _lower_text(element: lower_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(lower_text, "sqlite")
def _lower_text_sqlite(element: lower_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"
