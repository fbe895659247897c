"""The async engine, sessions and units of work.

``Database.read()`` gives a session for queries; ``Database.write()`` gives a
session inside a transaction that commits on success and rolls back on error.
On SQLite a write transaction is begun ``IMMEDIATE``: a deferred transaction
that reads and then writes fails at once with "database is locked" when
another writer got in between, whereas IMMEDIATE takes the write lock first
and waits (``busy_timeout``) instead.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.readcache import ReadCache
from storage.sqlite_driver import OneTripConnection, one_trip_dbapi
from storage.types import SQLITE_LOWER, unicode_lower

log = logging.getLogger(__name__)

_IMMEDIATE = "magbot_immediate"

# Write transactions committed by the current task since ``track_commits``:
# the error path tells a user whose change was saved that it was.
_commits: ContextVar[list[int] | None] = ContextVar("magbot_commits", default=None)


def track_commits() -> None:
    """Start counting the write transactions this task (an interaction's handler) commits."""
    _commits.set([0])


def committed() -> bool:
    """Return whether the current task committed a write since ``track_commits``."""
    box = _commits.get()
    return bool(box and box[0])


def normalise_url(url: str) -> str:
    """Return ``url`` with the async driver named (``postgresql://`` -> asyncpg)."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


_UNAVAILABLE_NAMES = frozenset(
    {
        # asyncpg: the server went away, refused us, or is shutting down.
        "PostgresConnectionError",
        "OperatorInterventionError",
        "ConnectionDoesNotExistError",
        "InterfaceError",
    }
)
_SQLITE_UNAVAILABLE = ("database is locked", "disk is full", "unable to open", "disk i/o error")


def _raised_in_database_code(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("sqlalchemy", "asyncpg", "aiosqlite", "storage.")):
            return True
        tb = tb.tb_next
    return False


def is_unavailable(error: BaseException) -> bool:
    """Return whether ``error`` means the database could not be reached in time.

    That is: refused or dropped connections, a statement or a pool checkout
    that ran out of time, a locked or full SQLite file. Anything else (a bad
    query, a constraint) is a bug or a rule, not an outage.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError):
            if type(current.orig).__module__.startswith("sqlite3"):
                # SQLite says "operational" for bad SQL too: only these are outages.
                text = str(current.orig).lower()
                return any(marker in text for marker in _SQLITE_UNAVAILABLE)
            return True
        if isinstance(current, sa_exc.TimeoutError):
            return True
        if isinstance(current, OSError | TimeoutError) and _raised_in_database_code(current):
            return True  # ConnectionRefusedError, asyncpg's command_timeout, ...
        if type(current).__module__.startswith("asyncpg") and _UNAVAILABLE_NAMES & {
            k.__name__ for k in type(current).__mro__
        }:
            return True
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )
    return False


# What a write transaction changed, by table, gathered on its connection:
# the read cache keeps an answer until a write touched one of its tables.
_TOUCHED = "magbot_touched"
EVERYTHING = "*"  # a write whose tables are not known (raw SQL): every answer goes
_READING = ("SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
_WRITING = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)  # in a WITH


class _WriteSession(Session):
    """The sync half of a write session: its connection notes the tables it writes."""


@event.listens_for(_WriteSession, "after_begin")
def _start_noting(session: Session, transaction: Any, connection: Connection) -> None:
    if transaction.nested:  # a savepoint: its writes join the transaction's
        return
    # The set itself stays with the session: the connection may serve the next
    # writer before this one reads it (the pool has it back by then).
    touched: set[str] = set()
    connection.info[_TOUCHED] = touched
    session.info[_TOUCHED] = touched


def _note_writes(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    touched = conn.info.get(_TOUCHED)
    if touched is None:
        return
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        table = getattr(getattr(context.compiled, "statement", None), "table", None)
        name = getattr(table, "name", None)
        touched.add(name if isinstance(name, str) else EVERYTHING)
        return
    head = statement.lstrip()[:12].upper()
    if head.startswith(_READING):
        return
    if head.startswith("WITH") and not _WRITING.search(statement):
        return
    touched.add(EVERYTHING)


def _install_sqlite_behaviour(engine: AsyncEngine, *, busy_ms: int) -> None:
    """Set pragmas on every connection and take over BEGIN from pysqlite."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below), instead of pysqlite's
        # implicit and always-deferred transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={busy_ms}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
            # Deleted rows are overwritten with zeros, not left in free pages:
            # erased personal data must not stay readable in the file.
            "PRAGMA secure_delete=ON",
        ):
            cursor.execute(pragma)
        cursor.close()
        dbapi_connection.create_function(SQLITE_LOWER, 1, unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        dbapi = conn.connection.dbapi_connection
        if isinstance(dbapi, OneTripConnection):
            dbapi.begin(statement)  # sent with the first statement, in the same trip
        else:
            conn.exec_driver_sql(statement)


class Database:
    """One engine and the sessions made from it.

    ``timeout`` (seconds) bounds every wait on the database: connecting, a
    pooled connection, each statement on PostgreSQL, the write lock on
    SQLite. Past it the call raises and ``is_unavailable`` recognises the
    error, so a command can say "try again in a moment" instead of hanging.
    None (migrations, maintenance, tests) waits as long as the work needs.
    """

    def __init__(
        self, url: str, *, echo: bool = False, timeout: float | None = None, **engine_kwargs: Any
    ) -> None:
        self.url = normalise_url(url)
        self.timeout = timeout
        self._echo = echo
        self._turns: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._writer: asyncio.Task[Any] | None = None  # the task whose turn it is
        self._engine_kwargs = dict(engine_kwargs)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if not self.is_sqlite:
            engine_kwargs.setdefault("pool_pre_ping", True)
            if timeout is not None:
                connect_args = dict(engine_kwargs.pop("connect_args", {}))
                connect_args.setdefault("timeout", min(1.0, timeout))
                connect_args.setdefault("command_timeout", timeout)
                engine_kwargs["connect_args"] = connect_args
                engine_kwargs.setdefault("pool_timeout", min(1.0, timeout))
        if self.is_sqlite and parsed.get_driver_name() == "aiosqlite":
            # One trip to aiosqlite's thread per statement instead of four.
            engine_kwargs.setdefault("module", one_trip_dbapi())
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **engine_kwargs)
        if self.is_sqlite:
            busy_ms = 5000 if timeout is None else max(1, round(timeout * 1000))
            _install_sqlite_behaviour(self.engine, busy_ms=busy_ms)
        # Same pool, but connections checked out through it begin IMMEDIATE.
        self._write_engine = self.engine.execution_options(**{_IMMEDIATE: True})
        self._read_sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._write_sessions = async_sessionmaker(
            self._write_engine,
            class_=AsyncSession,
            sync_session_class=_WriteSession,
            expire_on_commit=False,
        )
        # Write transactions ended in this process (committed or not), by the
        # tables they wrote: a read kept by ``reads`` is good while none of its
        # tables was written (storage/readcache.py).
        event.listen(self.engine.sync_engine, "before_cursor_execute", _note_writes)
        self._tables: dict[str, int] = {}
        self.reads = ReadCache(self.generation_of)

    def untimed(self) -> Database:
        """Return a new Database on the same URL without timeouts (migrations, VACUUM).

        The caller disposes of it.
        """
        return Database(self.url, echo=self._echo, **self._engine_kwargs)

    @property
    def backend(self) -> str:
        """Return ``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for queries; nothing it does is committed."""
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Yield a session in one transaction: committed on success, else rolled back.

        On SQLite, one writer at a time takes its turn in this process (first
        come, first served): SQLite allows one writer anyway, and writers that
        all knock on the file at once spin in its busy handler, which sleeps
        in growing steps, so under load most of them waited for nothing and
        some ran out of time. Other processes still meet ``busy_timeout``.
        """
        noted: dict[str, Any] = {}
        try:
            async with self._write_turn(), self._write_sessions() as session:
                noted = session.sync_session.info
                async with session.begin():
                    yield session
                box = _commits.get()
                if box is not None:
                    box[0] += 1
        finally:
            for table in noted.pop(_TOUCHED, ()):  # none: it never reached the database
                self._tables[table] = self._tables.get(table, 0) + 1

    def generation_of(self, tables: Sequence[str]) -> tuple[int, ...]:
        """Return a token that changes when a write of this process touches one of ``tables``."""
        found = self._tables
        return (found.get(EVERYTHING, 0), *(found.get(t, 0) for t in tables))

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        if not self.is_sqlite:
            yield
            return
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[0] is not loop:
            self._turns = (loop, asyncio.Lock())
        lock = self._turns[1]
        me = asyncio.current_task()
        if lock.locked() and self._writer is me:
            # SQLite could never have granted it either (the outer transaction
            # holds the file): say so at once rather than wait for nothing.
            raise RuntimeError("a write transaction was opened inside another one")
        # Past the timeout: TimeoutError from here, which is_unavailable knows.
        await asyncio.wait_for(lock.acquire(), self.timeout)
        self._writer = me
        try:
            yield
        finally:
            self._writer = None
            lock.release()

    async def scrub(self, *, tables: Sequence[str] = ()) -> None:
        """Make erased rows unreadable on disk, as far as the database allows.

        SQLite (with ``secure_delete``, set on every connection) has already
        zeroed the freed space in the pages it wrote; a truncating checkpoint
        then moves those pages into the main file and empties the write-ahead
        log, which still held the pages from before the delete. PostgreSQL
        keeps deleted row versions until VACUUM marks their space reusable;
        ``VACUUM`` on ``tables`` does that now (the bytes stay in the files
        until the space is reused, and in WAL archives and backups until they
        expire: docs/operations.md says what stays).
        """
        try:
            if self.is_sqlite:
                for _ in range(5):
                    async with self.engine.connect() as conn:
                        row = (
                            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                        ).first()
                    if row is None or not row[0]:  # busy = 0: done
                        return
                    await asyncio.sleep(0.05)
                log.warning("the write-ahead log could not be emptied now (readers were busy)")
            elif tables:
                async with self.engine.connect() as conn:
                    autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    names = ", ".join(f'"{name}"' for name in tables)
                    raw = await autocommit.get_raw_connection()
                    # VACUUM may outlast the commands' statement timeout.
                    await raw.driver_connection.execute(  # type: ignore[union-attr]
                        f"VACUUM {names}", timeout=600
                    )
        except Exception:
            # The erasure itself is committed; only its clean-up failed.
            log.exception("could not scrub the database after erasing data")

    async def ping(self) -> bool:
        """Return True when the database answers a trivial query (raises when it cannot)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
