"""How the store runs a transaction: the same synchronous Core code on either database.

Each store operation is a plain function ``fn(connection, *args)``. On PostgreSQL it runs on the
async engine through ``AsyncConnection.run_sync``. On a SQLite file it runs on a pysqlite engine
in a worker thread, one hop per operation: aiosqlite would hop threads on every cursor call
(about nine per transaction), which dominated the cost of a sign-in. One writer thread keeps
this process's writers in line; other processes are waited for by SQLite's busy timeout, off
the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from keyfob.store.engine import SQLITE_BEGIN, create_sqlite_thread_engine, is_memory_sqlite

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
    """Threads for a SQLite file, the async engine itself otherwise."""
    if engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url):
        return ThreadRunner(engine)
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
