"""Engine creation: SQLite (aiosqlite, WAL, busy timeout) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from keyfob.errors import ConfigurationError

#: Execution option naming the statement that opens a transaction on SQLite: ``"BEGIN"``
#: (the default), ``"BEGIN IMMEDIATE"`` (take the write lock up front, so writers queue on the
#: busy timeout instead of failing on a stale snapshot) or ``""`` (none: autocommit reads).
SQLITE_BEGIN = "keyfob_sqlite_begin"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)
_WAITING = (*_SQLITE_PRAGMAS, "PRAGMA busy_timeout=5000")
_NOWAIT = (*_SQLITE_PRAGMAS, "PRAGMA busy_timeout=0")
_BUSY_ERRORS = ("SQLITE_BUSY", "SQLITE_LOCKED")  # with their extended codes (SQLITE_BUSY_*)
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database schema is locked")
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def normalize_url(url: str) -> URL:
    """Parse a database URL and pin its async driver; raise ConfigurationError if unsupported.

    ``sqlite://`` becomes ``sqlite+aiosqlite://``; ``postgres://`` and ``postgresql://`` become
    ``postgresql+asyncpg://`` (and libpq's ``sslmode`` becomes asyncpg's ``ssl``).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"Not a database URL: {url!r}.") from exc
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigurationError(
            f"Unsupported database {parsed.drivername!r}: use sqlite+aiosqlite:// or "
            "postgresql+asyncpg://."
        )
    parsed = parsed.set(drivername=driver)
    if driver.startswith("postgresql") and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query.setdefault("ssl", query.pop("sslmode"))
        parsed = parsed.set(query=query)
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL (no file: one shared connection holds the data)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine for ``url`` with keyfob's connection settings.

    SQLite: WAL journal, ``synchronous=NORMAL``, 5 s busy timeout, foreign keys on, and
    transactions opened by keyfob (see :data:`SQLITE_BEGIN`). PostgreSQL: asyncpg with a pool
    of 10 (+10 overflow) connections recycled hourly.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_recycle=3600)
    pool: dict[str, Any] = {"pool_size": 5, "max_overflow": 10}
    if is_memory_sqlite(parsed):
        # Every connection would get its own empty database: share exactly one, one user at a time.
        pool = {"pool_size": 1, "max_overflow": 0}
    engine = create_async_engine(parsed, poolclass=AsyncAdaptedQueuePool, **pool)
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def create_sqlite_thread_engine(url: URL, *, connections: int) -> Engine:
    """A synchronous (pysqlite) engine on the same SQLite file, with the same settings, whose
    connections may move between threads (each is used by one thread at a time)."""
    engine = sqlalchemy.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        poolclass=QueuePool,
        pool_size=connections,
        max_overflow=0,
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def create_sqlite_inline_engine(url: URL) -> Engine:
    """A synchronous (pysqlite) engine on the same SQLite file for the event loop's own thread.

    The same settings, but a busy timeout of 0 (from the moment of connecting): a statement
    that meets another connection's write lock fails at once with SQLITE_BUSY (see
    :func:`is_sqlite_busy`) instead of blocking the loop. It never begins a transaction by
    itself: its user sends ``BEGIN IMMEDIATE`` to the driver's connection when it wants one.
    The pool holds the one connection its user keeps; a checkout never waits (that would block
    the loop).
    """
    engine = sqlalchemy.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=-1,
        connect_args={"check_same_thread": False, "timeout": 0},
    )
    event.listen(engine, "connect", _sqlite_connect_nowait)
    return engine


def is_sqlite_busy(error: BaseException) -> bool:
    """True if ``error`` is SQLite's "database is locked" (SQLITE_BUSY or SQLITE_LOCKED), raw
    from the sqlite3 module or wrapped by SQLAlchemy."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if not isinstance(cause, sqlite3.OperationalError):
        return False
    name = getattr(cause, "sqlite_errorname", None)
    if isinstance(name, str):
        return name.startswith(_BUSY_ERRORS)
    return str(cause).startswith(_BUSY_MESSAGES)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    _configure(dbapi_connection, _WAITING)


def _sqlite_connect_nowait(dbapi_connection: Any, _record: Any) -> None:
    _configure(dbapi_connection, _NOWAIT)


def _configure(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    # Turn off the sqlite3 module's implicit BEGIN: keyfob decides how to begin (_sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    statement = connection.get_execution_options().get(SQLITE_BEGIN, "BEGIN")
    if statement:
        # Straight to the driver: BEGIN needs no parameters, results or events.
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
