"""Runners: SQLite files run inline on the event loop and fall back to threads when busy.

SQLite only (the busy fallback is SQLite's); the whole store suite also runs through the inline
runner on SQLite and through the async engine on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from keyfob.errors import KeyfobError
from keyfob.store import NonceRecord, Store, create_engine
from keyfob.store.base import every, execute, first, rowcount
from keyfob.store.migrate import migrate, upgrade
from keyfob.store.runner import AsyncRunner, InlineRunner, Runner, ThreadRunner, make_runner
from keyfob.store.schema import used_tokens
from tests.store.factories import NOW

_INSERT = insert(used_tokens)
_COUNT = select(func.count()).select_from(used_tokens)
_ALL = select(used_tokens).order_by(used_tokens.c.key)
_TAKE = delete(used_tokens).where(used_tokens.c.key == "k").returning(used_tokens.c.key)
WAIT = 5.0  # seconds: an upper bound for waits that should end at once


def token(key: str) -> dict[str, Any]:
    return {"key": key, "expires_at": NOW}


def count(conn: Connection) -> int:
    return int(conn.execute(_COUNT).scalar_one())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A migrated SQLite file."""
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}")
    return tmp_path / "keyfob.db"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    created = create_engine(f"sqlite:///{path}")
    try:
        yield created
    finally:
        await created.dispose()


@pytest.fixture
async def inline(engine: AsyncEngine) -> AsyncIterator[InlineRunner]:
    runner = InlineRunner(engine)
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the file, as another process would have; it never waits."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        yield connection
    finally:
        connection.close()


def finish_without_yielding(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to its end in one step, failing if it ever suspends (a thread hop)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    pytest.fail("the call suspended: it did not run inline")


async def still_pending(task: asyncio.Task[Any]) -> bool:
    """True if ``task`` is still waiting once the loop has run other work for 50 ms, on time:
    whatever the task waits for, it does not block the loop."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(asyncio.create_task(asyncio.sleep(0.05)), WAIT)
    assert loop.time() - started < 1.0
    return not task.done()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///{path}", InlineRunner),
        ("sqlite+aiosqlite:///{path}", InlineRunner),
        ("sqlite://", AsyncRunner),
        ("sqlite:///:memory:", AsyncRunner),
        ("postgresql://keyfob@127.0.0.1/keyfob", AsyncRunner),  # never connects
    ],
)
async def test_runner_kind(path: Path, url: str, expected: type[Runner]) -> None:
    engine = create_engine(url.format(path=path))
    runner = make_runner(engine)
    store = Store(engine)
    try:
        assert type(runner) is expected
        assert type(store._run) is expected
    finally:
        await runner.close()
        await store.close()


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.write(execute, _INSERT, token("a")),
        lambda r: r.write_one(rowcount, _INSERT, token("a")),
        lambda r: r.read(every, _ALL, {}),
    ],
    ids=["write", "write_one", "read"],
)
async def test_inline_calls_never_leave_the_loop(
    inline: InlineRunner, call: Callable[[Runner], Coroutine[Any, Any, Any]]
) -> None:
    finish_without_yielding(call(inline))


async def exercise(runner: Runner) -> list[Any]:
    def two(conn: Connection) -> int:
        conn.execute(_INSERT, token("k"))
        conn.execute(_INSERT, token("m"))
        return count(conn)

    return [
        await runner.write_one(rowcount, _INSERT, token("a")),
        await runner.write(two),
        await runner.read(every, _ALL, {}),
        await runner.write_one(first, _TAKE, {}),
        await runner.write_one(first, _TAKE, {}),
        await runner.read(first, _COUNT, {}),
    ]


async def test_inline_and_threaded_results_are_identical(tmp_path: Path) -> None:
    results = []
    for name, kind in (("inline", InlineRunner), ("thread", ThreadRunner)):
        url = f"sqlite:///{tmp_path / name}.db"
        await migrate(url)
        engine = create_engine(url)
        runner = kind(engine)
        try:
            results.append(await exercise(runner))
        finally:
            await runner.close()
            await engine.dispose()
    assert results[0] == results[1]
    assert results[0][:2] == [1, 3]
    assert [tuple(row) for row in results[0][2]] == [(k, NOW) for k in ("a", "k", "m")]
    assert [results[0][3], results[0][4], results[0][5]] == [("k",), None, (2,)]


def _duplicate(conn: Connection) -> None:
    conn.execute(_INSERT, token("fresh"))
    conn.execute(_INSERT, token("taken"))


def _no_table(conn: Connection) -> None:
    conn.execute(_INSERT, token("fresh"))
    conn.execute(text("SELECT * FROM no_such_table"))


def _refuse(conn: Connection) -> None:
    conn.execute(_INSERT, token("fresh"))
    raise KeyfobError("refused")


@pytest.mark.parametrize("method", ["write", "write_one", "read"])
@pytest.mark.parametrize(
    ("fn", "error"),
    [(_duplicate, IntegrityError), (_no_table, OperationalError), (_refuse, KeyfobError)],
)
async def test_other_errors_propagate_once_and_roll_back(
    inline: InlineRunner,
    raw: sqlite3.Connection,
    method: str,
    fn: Callable[[Connection], None],
    error: type[Exception],
) -> None:
    await inline.write_one(execute, _INSERT, token("taken"))
    calls: list[int] = []

    def tracked(conn: Connection) -> None:
        calls.append(threading.get_ident())
        fn(conn)

    with pytest.raises(error):
        await getattr(inline, method)(tracked)
    assert calls == [threading.get_ident()]  # once, inline: not retried on a thread
    assert_nothing_left_open(raw)
    expected = 1 if method == "write" else 2  # autocommit keeps its first statement
    assert await inline.read(count) == expected


def assert_nothing_left_open(raw: sqlite3.Connection) -> None:
    """No transaction, not even a read, is open on any other connection to the file."""
    raw.execute("BEGIN IMMEDIATE")  # nobody holds the write lock
    raw.execute("ROLLBACK")
    busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0  # nobody reads an old snapshot either


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.write(every, _ALL, {}),
        lambda r: r.write(lambda conn: None),  # executes nothing: BEGIN IMMEDIATE alone
        lambda r: r.write_one(first, _TAKE, {}),
        lambda r: r.read(every, _ALL, {}),
        lambda r: r.read(first, _ALL, {}),  # leaves a row unread
    ],
)
async def test_calls_leave_nothing_open(
    inline: InlineRunner, raw: sqlite3.Connection, call: Callable[[Runner], Awaitable[Any]]
) -> None:
    await inline.write_one(execute, _INSERT, token("k"))
    await inline.write_one(execute, _INSERT, token("m"))
    await call(inline)
    assert_nothing_left_open(raw)


async def test_other_threads_use_the_fallback(inline: InlineRunner) -> None:
    def where(conn: Connection) -> int:
        return threading.get_ident()

    assert await inline.read(where) == threading.get_ident()  # the first caller's thread owns it

    def elsewhere() -> tuple[int, int, int]:
        ran = [asyncio.run(call(where)) for call in (inline.write, inline.write_one, inline.read)]
        assert threading.get_ident() not in ran  # each ran on a fallback thread, not here
        return ran[0], ran[1], threading.get_ident()

    writer, writer_again, _ = await asyncio.to_thread(elsewhere)
    assert writer == writer_again != threading.get_ident()
    assert await inline.write(where) == threading.get_ident()


async def _sign_in(store: Store) -> Any:
    user, _ = await store.sign_in_identity(
        kind="ethereum", address="0xB0B", public_key=None, now=NOW
    )
    return user


async def _add_nonce(store: Store) -> Any:
    record = NonceRecord("n-busy", "ethereum", None, NOW, NOW + timedelta(minutes=5))
    await store.add_nonce(record)
    return record


@pytest.mark.parametrize(
    ("operation", "landed"),
    [
        (_add_nonce, lambda store, record: store.consume_nonce("n-busy", now=NOW)),
        (_sign_in, lambda store, user: store.get_user(user.id)),
    ],
    ids=["write_one", "write"],
)
async def test_busy_write_waits_in_a_thread_then_lands(
    path: Path,
    raw: sqlite3.Connection,
    operation: Callable[[Store], Coroutine[Any, Any, Any]],
    landed: Callable[[Store, Any], Coroutine[Any, Any, Any]],
) -> None:
    store = Store.from_url(f"sqlite:///{path}")
    try:
        raw.execute("BEGIN IMMEDIATE")  # holds the write lock
        task = asyncio.create_task(operation(store))
        assert await still_pending(task)
        raw.execute("COMMIT")
        result = await asyncio.wait_for(task, WAIT)
        assert await landed(store, result) == result
    finally:
        await store.close()


async def test_reads_run_inline_while_another_connection_writes(
    inline: InlineRunner, raw: sqlite3.Connection
) -> None:
    await inline.write_one(execute, _INSERT, token("a"))
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("INSERT INTO used_tokens (key, expires_at) VALUES ('b', '2030-01-01')")
    assert finish_without_yielding(inline.read(count)) == 1  # WAL: the last committed state
    raw.execute("COMMIT")
    assert finish_without_yielding(inline.read(count)) == 2


async def test_busy_in_mid_transaction_is_rolled_back_before_the_retry(
    inline: InlineRunner, raw: sqlite3.Connection
) -> None:
    threads: list[int] = []

    def insert_then_meet_a_lock(conn: Connection) -> int:
        threads.append(threading.get_ident())
        conn.execute(_INSERT, token("k"))
        if len(threads) == 1:  # we hold the write lock: raw's BEGIN IMMEDIATE is refused
            raw.execute("BEGIN IMMEDIATE")
        return count(conn)

    assert await asyncio.wait_for(inline.write(insert_then_meet_a_lock), WAIT) == 1
    assert len(threads) == 2
    assert threads[0] == threading.get_ident() != threads[1]  # inline, then on the writer thread


async def test_inline_write_queues_behind_a_threaded_write(
    inline: InlineRunner, raw: sqlite3.Connection
) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold_the_lock(conn: Connection) -> str:
        conn.execute(_INSERT, token("a"))
        entered.set()
        release.wait(WAIT)
        return "a"

    raw.execute("BEGIN IMMEDIATE")
    held = asyncio.create_task(inline.write(hold_the_lock))  # busy: goes to the writer thread
    assert await still_pending(held)
    raw.execute("COMMIT")
    assert await asyncio.to_thread(entered.wait, WAIT)  # the writer thread holds the lock now
    queued = asyncio.create_task(inline.write_one(rowcount, _INSERT, token("b")))
    assert await still_pending(queued)  # busy inline, so it waits for the writer thread too
    release.set()
    assert list(await asyncio.wait_for(asyncio.gather(held, queued), WAIT)) == ["a", 1]
    assert [tuple(row) for row in await inline.read(every, _ALL, {})] == [("a", NOW), ("b", NOW)]


async def test_inline_and_threaded_writers_race_with_one_winner(
    engine: AsyncEngine, inline: InlineRunner
) -> None:
    threaded = ThreadRunner(engine)
    try:
        for round_ in range(5):
            await inline.write_one(execute, _INSERT, token("k"))
            runners: list[Runner] = [inline, threaded]
            results = await asyncio.wait_for(
                asyncio.gather(*(runners[i % 2].write_one(first, _TAKE, {}) for i in range(20))),
                WAIT,
            )
            assert [r for r in results if r is not None] == [("k",)], round_
    finally:
        await threaded.close()


async def test_close_closes_every_connection(path: Path, raw: sqlite3.Connection) -> None:
    engine = create_engine(f"sqlite:///{path}")
    runner = InlineRunner(engine)
    await runner.write_one(execute, _INSERT, token("inline"))
    raw.execute("BEGIN IMMEDIATE")
    task = asyncio.create_task(runner.write_one(execute, _INSERT, token("thread")))
    assert await still_pending(task)
    raw.execute("COMMIT")
    await asyncio.wait_for(task, WAIT)
    raw.close()
    wal = path.with_name(path.name + "-wal")
    assert wal.exists()
    await runner.close()
    await engine.dispose()
    assert not wal.exists()  # SQLite removes the WAL when its last connection closes
