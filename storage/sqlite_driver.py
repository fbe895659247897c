"""SQLite through aiosqlite in one trip to its thread per statement.

aiosqlite runs every SQLite call in a thread of its own, and each call is a
trip there and back (a queue put, the thread waking, the event loop woken
with the answer). SQLAlchemy's aiosqlite adapter makes four trips per
statement (create the cursor, execute, fetch, close), so one query in a
session (BEGIN, the query, the session's rollback, the pool's) took ten:
about 2.6 ms on the development machine, whatever the query. That
floor was most of what a quick command cost (docs/performance.md).

``OneTripCursor`` does the four in one trip: it runs a function in
aiosqlite's thread that creates a sqlite3 cursor, executes, fetches every
row and closes, and keeps the rows, the description, the row count and the
last row id to hand out. A transaction's BEGIN travels with its first
statement (``OneTripConnection.begin``), and an end with no transaction open
(the pool's reset after a session's own rollback) makes no trip, so a read
of one query is two trips (the query, the rollback) instead of ten. Result
rows are always fetched whole, which is what the adapter did too (it is not
a server-side cursor). Everything else (connections, transactions, errors,
the pool) stays SQLAlchemy's and aiosqlite's: ``Database`` passes
``module=one_trip_dbapi()`` to the engine, and the URL stays
``sqlite+aiosqlite``.

This leans on two names that are not public API: aiosqlite's
``Connection._execute`` (run a function in its thread) and ``_conn`` (the
sqlite3 connection), both unchanged for years; the versions are pinned in
constraints.txt, and every storage test runs through this cursor.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Result = tuple[Any, list[Any], int, int | None]


def _run(
    connection: sqlite3.Connection,
    operation: str,
    parameters: Any,
    many: bool,
    begin: str | None,
) -> Result:
    """In aiosqlite's thread: begin if asked, execute, fetch every row, close."""
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, parameters if parameters is not None else ())
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """A DBAPI cursor whose every execute is one trip to aiosqlite's thread."""

    server_side = False

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = cast(aiosqlite.Connection, adapt_connection._connection)
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: collections.deque[Any] = collections.deque()

    def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        connection, adapted = self._connection, self._adapt_connection
        begin, adapted.pending_begin = adapted.pending_begin, None
        if begin is not None or operation.lstrip()[:5].upper() in ("BEGIN", "SAVEP"):
            adapted.in_transaction = True  # even if this trip fails: roll back to be sure
        try:
            result: Result = await_(
                connection._execute(_run, connection._conn, operation, parameters, many, begin)
            )
        except Exception as error:
            adapted._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid = result
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._trip(operation, parameters, False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._trip(operation, seq_of_parameters, True)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed in its own trip."""

    def setinputsizes(self, *sizes: Any) -> None:
        """Nothing to set (DBAPI allows a no-op)."""

    def nextset(self) -> None:
        """SQLite has one result set per statement."""
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, handing out ``OneTripCursor``.

    ``begin`` does not go to the thread on its own: the BEGIN rides along
    with the transaction's first statement, and a transaction that ran no
    statement ends without a trip at all.
    """

    __slots__ = ("in_transaction", "pending_begin")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        # The connection is in autocommit mode (``isolation_level = None``):
        # only a BEGIN (or SAVEPOINT) we sent opens a transaction.
        self.in_transaction = False

    def begin(self, statement: str) -> None:
        """Open a transaction with ``statement`` (BEGIN, BEGIN IMMEDIATE) before the next one."""
        self.pending_begin = statement

    def rollback(self) -> None:
        self.pending_begin = None
        if not self.in_transaction:
            return  # nothing ran since the last end (the pool's reset, mostly): no trip
        super().rollback()
        self.in_transaction = False

    def commit(self) -> None:
        self.pending_begin = None
        if not self.in_transaction:
            return
        super().commit()
        self.in_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module, making ``OneTripConnection``."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        adapted = super().connect(*args, **kwargs)
        return OneTripConnection(self, adapted._connection)


@cache
def one_trip_dbapi() -> OneTripDBAPI:
    """Return the module to pass as ``create_async_engine(..., module=...)``."""
    return OneTripDBAPI(aiosqlite, sqlite3)
