"""Engine creation: URL normalisation and SQLite connection settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from keyfob.errors import ConfigurationError, KeyfobError
from keyfob.store import Store, create_engine
from keyfob.store.engine import create_sqlite_inline_engine, is_sqlite_busy, normalize_url
from keyfob.store.schema import metadata
from tests.store.factories import NOW


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/keyfob/keyfob.db", "sqlite+aiosqlite:////var/lib/keyfob/keyfob.db"),
        ("sqlite:///keyfob.db", "sqlite+aiosqlite:///keyfob.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgres://u:p@db:5432/keyfob", "postgresql+asyncpg://u:p@db:5432/keyfob"),
        ("postgresql://u@db/keyfob", "postgresql+asyncpg://u@db/keyfob"),
        ("postgresql+asyncpg://u@db/keyfob", "postgresql+asyncpg://u@db/keyfob"),
        ("postgresql://u@db/k?sslmode=require", "postgresql+asyncpg://u@db/k?ssl=require"),
    ],
)
def test_urls_get_async_drivers(url: str, expected: str) -> None:
    assert normalize_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    ["mysql://u@db/k", "postgresql+psycopg2://u@db/k", "sqlite+pysqlite:///x.db", "not a url", ""],
)
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        normalize_url(url)


async def test_sqlite_connection_settings(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/k.db")
    try:
        async with engine.connect() as conn:
            values = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 5000, 1]


def test_inline_sqlite_engine_never_waits(tmp_path: object) -> None:
    engine = create_sqlite_inline_engine(normalize_url(f"sqlite:///{tmp_path}/k.db"))
    try:
        with engine.connect() as conn:
            values = [
                conn.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
    finally:
        engine.dispose()
    assert values == ["wal", 1, 0, 1]


async def test_in_memory_sqlite_keeps_its_data() -> None:
    engine = create_engine("sqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    store = Store(engine)
    try:
        user, _ = await store.sign_in_identity(
            kind="nimiq", address="NQ1", public_key=None, now=NOW
        )
        assert await store.get_user(user.id) == user
    finally:
        await store.close()


def _busy_error(path: Path) -> BaseException:
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        other.close()
    raise AssertionError("no busy error")


def _error_of(path: Path, sql: str) -> BaseException:
    connection = sqlite3.connect(path)
    try:
        connection.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError(f"{sql} did not fail")


def _wrapped(error: BaseException) -> BaseException:
    return OperationalError("BEGIN IMMEDIATE", None, error)


@pytest.mark.parametrize(
    ("make", "busy"),
    [
        (_busy_error, True),
        (lambda p: _wrapped(_busy_error(p)), True),
        (lambda p: _error_of(p, "SELECT * FROM no_such_table"), False),
        (lambda p: _wrapped(_error_of(p, "SELECT * FROM no_such_table")), False),
        (lambda p: _error_of(p, "INSERT INTO t (k) VALUES (NULL)"), False),  # IntegrityError
        (lambda p: sqlite3.OperationalError("database is locked"), True),  # no sqlite_errorname
        (lambda p: sqlite3.OperationalError("no such column: busy"), False),
        (lambda p: ValueError("database is locked"), False),
        (lambda p: KeyfobError("database is locked"), False),
    ],
)
def test_is_sqlite_busy(tmp_path: Path, make: Callable[[Path], BaseException], busy: bool) -> None:
    path = tmp_path / "k.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (k TEXT NOT NULL)")
    connection.close()
    assert is_sqlite_busy(make(path)) is busy
