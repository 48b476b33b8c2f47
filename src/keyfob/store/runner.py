"""How the store runs a transaction: the same synchronous Core code on either database.

Each store operation is a plain function ``fn(connection, *args)``. On PostgreSQL it runs on the
async engine through ``AsyncConnection.run_sync``. On a SQLite file it runs on one pysqlite
connection right on the event loop (:class:`InlineRunner`), with no thread hop and no pool
checkout per call; aiosqlite would hop threads on every cursor call (about nine per
transaction). Only when another connection holds SQLite's write lock does an operation move to
a worker thread (:class:`ThreadRunner`), where SQLite's busy timeout can wait without stalling
the loop.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from keyfob.store.engine import (
    SQLITE_BEGIN,
    create_sqlite_inline_engine,
    create_sqlite_thread_engine,
    is_memory_sqlite,
    is_sqlite_busy,
)

P = ParamSpec("P")
T = TypeVar("T")
Args = tuple[Any, ...]
Kwargs = dict[str, Any]
_READERS = 2
_SQLITE_ERRORS = (OperationalError, sqlite3.OperationalError)


class Runner(Protocol):
    """Runs ``fn(connection, ...)`` in one read-write transaction or as a plain read."""

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one short read-write transaction (SQLite: write lock taken up front)."""
        ...

    async def write_one(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn``, which writes with exactly one (atomic) statement, in autocommit mode:
        no BEGIN/COMMIT round trips."""
        ...

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the single-statement read ``fn`` without transaction round trips."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


def make_runner(engine: AsyncEngine) -> Runner:
    """Inline on the event loop for a SQLite file (threads when it is busy), the async engine
    itself otherwise."""
    if engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url):
        return InlineRunner(engine)
    return AsyncRunner(engine)


class AsyncRunner:
    """Runs on the async engine (PostgreSQL; in-memory SQLite, whose data lives in its engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        if engine.dialect.name == "sqlite":
            self._writes = engine.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            self._autocommit = engine.execution_options(**{SQLITE_BEGIN: ""})
        else:
            self._writes = engine
            self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one transaction on a pooled async connection."""
        async with self._writes.begin() as connection:
            return await connection.run_sync(fn, *args, **kwargs)

    async def write_one(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode on a pooled async connection."""
        async with self._autocommit.connect() as connection:
            return await connection.run_sync(fn, *args, **kwargs)

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode on a pooled async connection."""
        async with self._autocommit.connect() as connection:
            return await connection.run_sync(fn, *args, **kwargs)

    async def close(self) -> None:
        """Nothing of its own: the store disposes of the engine."""


class ThreadRunner:
    """Runs on a pysqlite engine: writes on one thread, reads on a few others (WAL readers
    never wait for the writer)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = create_sqlite_thread_engine(engine.url, connections=_READERS + 1)
        self._writes = self._engine.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        self._autocommit = self._engine.execution_options(**{SQLITE_BEGIN: ""})
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="keyfob-sqlite-write")
        self._readers = ThreadPoolExecutor(_READERS, thread_name_prefix="keyfob-sqlite-read")

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one transaction on the writer thread."""
        call = functools.partial(self._transaction, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._writer, call)

    async def write_one(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode on the writer thread."""
        call = functools.partial(self._run_autocommit, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._writer, call)

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode on a reader thread."""
        call = functools.partial(self._run_autocommit, fn, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._readers, call)

    def _transaction(self, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
        with self._writes.begin() as connection:
            return fn(connection, *args, **kwargs)

    def _run_autocommit(self, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
        with self._autocommit.connect() as connection:
            return fn(connection, *args, **kwargs)

    async def close(self) -> None:
        """Let running operations finish, then stop the threads and close the connections."""
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._engine.dispose()


class InlineRunner:
    """Runs on one pysqlite connection in the event loop's own thread, no hop; on a busy
    database it hands the call to a :class:`ThreadRunner`.

    The connection is checked out once and kept for the runner's life: checking one out of the
    pool and back in for every call cost as much as the thread hop this saves. Sharing
    one is safe because every ``fn`` is synchronous and runs from BEGIN to COMMIT without
    yielding to the loop: two coroutines never interleave on it, nor inside one transaction, so
    this process's writes stay serialised without a lock of our own. Calls from any other
    thread than the first caller's go to the fallback. The fallback's writer thread is the only
    other writer in the process; while it holds the write lock, an inline write finds the
    database busy and falls back too, queueing behind it on that thread.

    The connection never waits for a lock (busy timeout 0): when another connection (the
    fallback thread, another process) holds it, the call fails at once with SQLITE_BUSY and
    runs again on the ThreadRunner, which waits out SQLite's 5 s busy timeout off the loop.
    Running it again is safe because the failed attempt left nothing behind: usually it failed
    at ``BEGIN IMMEDIATE``, before anything ran; a single autocommit statement is atomic; and in
    any case :meth:`_run` rolls back whatever was begun before the exception reaches the
    handler that retries. ``fn`` must therefore act only through its connection, as every store
    operation does: it may be called twice.

    One cost stays on the loop: SQLite's automatic WAL checkpoint, which the commit that takes
    the WAL past 1,000 pages runs (about every 60 sign-ins; 4-6 ms, mostly waiting for fsync).
    Running it on a thread instead means diverting the writes made meanwhile there too, or the
    WAL never restarts under steady load; that cost more than it saved.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = create_sqlite_inline_engine(engine.url)
        self._fallback = ThreadRunner(engine)
        self._connection: Connection | None = None
        self._thread: int | None = None

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one transaction right here; on the writer thread if SQLite is busy."""
        return await self._call("BEGIN IMMEDIATE", self._fallback.write, fn, args, kwargs)

    async def write_one(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode right here; on the writer thread if SQLite is busy."""
        return await self._call("", self._fallback.write_one, fn, args, kwargs)

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode right here (WAL readers seldom meet a lock); on a reader
        thread if SQLite is busy."""
        return await self._call("", self._fallback.read, fn, args, kwargs)

    async def close(self) -> None:
        """Close the inline connection, then the fallback's threads and connections."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()
        await self._fallback.close()

    async def _call(
        self,
        begin: str,
        fallback: Callable[..., Awaitable[T]],
        fn: Callable[..., T],
        args: Args,
        kwargs: Kwargs,
    ) -> T:
        """``fn`` inline after ``begin``; through ``fallback`` when SQLite is busy or this is
        not the loop's thread."""
        if self._here():
            try:
                return self._run(begin, fn, args, kwargs)
            except _SQLITE_ERRORS as error:
                if not is_sqlite_busy(error):
                    raise
        return await fallback(fn, *args, **kwargs)

    def _here(self) -> bool:
        """Whether this is the thread that first used the runner (the event loop's)."""
        thread = threading.get_ident()
        if self._thread is None:
            self._thread = thread
        return thread == self._thread

    def _run(self, begin: str, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
        """``fn`` on the connection, after ``begin`` (or in autocommit mode); committed if it
        returns, rolled back if anything raises."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connection = self._engine.connect()
        driver: Any = connection.connection.dbapi_connection
        try:
            if begin:
                driver.execute(begin)
            result = fn(connection, *args, **kwargs)
            connection.commit()  # ends SQLAlchemy's transaction: COMMIT if ours is open
            if driver.in_transaction:  # fn executed nothing, so SQLAlchemy had none to end
                driver.commit()
        except BaseException:
            self._roll_back(connection)
            raise
        return result

    def _roll_back(self, connection: Connection) -> None:
        """Undo what a failed call began; a connection that cannot even do that is closed
        (SQLite rolls back as it closes) and replaced on the next call."""
        try:
            connection.rollback()
            driver: Any = connection.connection.dbapi_connection
            if driver.in_transaction:
                driver.rollback()
        except Exception:
            self._connection = None
            connection.invalidate()
