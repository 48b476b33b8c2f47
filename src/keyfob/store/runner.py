"""How the store runs a transaction: the same synchronous Core code on either database.

Each store operation is a plain function ``fn(connection, *args)``. On PostgreSQL it runs on the
async engine through ``AsyncConnection.run_sync``. On a SQLite file it runs on a pysqlite engine
right on the event loop (:class:`InlineRunner`): a statement on a WAL file costs tens of
microseconds, a hop to a worker thread and back several hundred. aiosqlite would hop threads on
every cursor call (about nine per transaction). Only when another connection holds SQLite's
write lock does an operation move to a worker thread (:class:`ThreadRunner`), where SQLite's
busy timeout can wait without stalling the loop.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine
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
        return _transaction(self._writes, fn, args, kwargs)

    def _run_autocommit(self, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
        return _autocommit(self._autocommit, fn, args, kwargs)

    async def close(self) -> None:
        """Let running operations finish, then stop the threads and close the connections."""
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._engine.dispose()


class InlineRunner:
    """Runs on a pysqlite engine in the event loop's own thread, no hop; on a busy database it
    hands the call to a :class:`ThreadRunner`.

    This process's writes stay serialised without a lock of our own: every ``fn`` is synchronous
    and runs from BEGIN to COMMIT without yielding to the loop, so two coroutines can never
    interleave inside one transaction. The only other writer in this process is the fallback's
    writer thread; while it holds the write lock, an inline write finds the database busy and
    falls back too, queueing behind it on that one thread.

    The inline connection never waits for a lock (busy timeout 0): when another connection (the
    fallback thread, another process) holds it, the call fails at once with SQLITE_BUSY and
    runs again on the ThreadRunner, which waits out SQLite's 5 s busy timeout off the loop.
    Running it again is safe because the failed attempt left nothing behind: usually it failed
    at ``BEGIN IMMEDIATE``, before anything ran; a single autocommit statement is atomic; and in
    any case the ``with`` block below has rolled the transaction back and returned the
    connection before the exception reaches the handler that retries. ``fn`` must therefore act
    only through its connection, as every store operation does: it may be called twice.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = create_sqlite_inline_engine(engine.url)
        self._writes = self._engine.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        self._autocommit = self._engine.execution_options(**{SQLITE_BEGIN: ""})
        self._fallback = ThreadRunner(engine)

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one transaction right here; on the writer thread if SQLite is busy."""
        try:
            return _transaction(self._writes, fn, args, kwargs)
        except (OperationalError, sqlite3.OperationalError) as error:
            if not is_sqlite_busy(error):
                raise
        return await self._fallback.write(fn, *args, **kwargs)

    async def write_one(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode right here; on the writer thread if SQLite is busy."""
        try:
            return _autocommit(self._autocommit, fn, args, kwargs)
        except (OperationalError, sqlite3.OperationalError) as error:
            if not is_sqlite_busy(error):
                raise
        return await self._fallback.write_one(fn, *args, **kwargs)

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in autocommit mode right here (WAL readers seldom meet a lock); on a reader
        thread if SQLite is busy."""
        try:
            return _autocommit(self._autocommit, fn, args, kwargs)
        except (OperationalError, sqlite3.OperationalError) as error:
            if not is_sqlite_busy(error):
                raise
        return await self._fallback.read(fn, *args, **kwargs)

    async def close(self) -> None:
        """Close the inline connection, then the fallback's threads and connections."""
        self._engine.dispose()
        await self._fallback.close()


def _transaction(engine: Engine, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
    """``fn`` in one transaction: committed if it returns, rolled back if it raises."""
    with engine.begin() as connection:
        return fn(connection, *args, **kwargs)


def _autocommit(engine: Engine, fn: Callable[..., T], args: Args, kwargs: Kwargs) -> T:
    """``fn`` on a connection that opens no transaction (see SQLITE_BEGIN)."""
    with engine.connect() as connection:
        return fn(connection, *args, **kwargs)
