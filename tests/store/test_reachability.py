"""Which errors mean the database could not be reached, and the words that say why."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from keyfob.store.engine import create_engine
from keyfob.store.migrate import migrate
from keyfob.store.reachability import connection_problem, display_url
from tests.db_fixtures import PostgresServer


async def failure_of(url: str) -> BaseException:
    with pytest.raises(Exception) as raised:
        await migrate(url)
    return raised.value


async def test_a_refused_connection() -> None:
    error = await failure_of("postgresql://127.0.0.1:1/x")
    assert connection_problem(error) == "connection refused"


async def test_an_unknown_host() -> None:
    error = await failure_of("postgresql://keyfob@no-such-host.invalid/x")
    assert connection_problem(error) == "unknown host"


async def test_a_sqlite_file_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    error = await failure_of(f"sqlite+aiosqlite:///{tmp_path / 'file' / 'keyfob.db'}")
    assert connection_problem(error)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("database", 'database "no_such_database_kf" does not exist'),
        ("user", 'role "no_such_role_kf" does not exist'),
    ],
)
async def test_postgresql_refusing_a_role_or_a_database(
    postgres_server: PostgresServer, target: str, reason: str
) -> None:
    url = postgres_server.url("no_such_database_kf" if target == "database" else "test")
    if target == "user":
        url = url.replace(f"//{postgres_server.user}@", "//no_such_role_kf@")
    assert connection_problem(await failure_of(url)) == reason


async def test_errors_of_a_reachable_database_are_not_connection_problems(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(Exception) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()
    assert connection_problem(raised.value) is None


@pytest.mark.parametrize(
    "error",
    [ValueError("x"), sqlite3.OperationalError("database is locked"), RuntimeError("no")],
)
def test_other_errors_are_not_connection_problems(error: BaseException) -> None:
    assert connection_problem(error) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://keyfob:hunter2@db/keyfob", "postgresql://keyfob:***@db/keyfob"),
        ("postgresql://127.0.0.1:1/x", "postgresql://127.0.0.1:1/x"),
        ("sqlite+aiosqlite:////data/keyfob.db", "sqlite+aiosqlite:////data/keyfob.db"),
        ("not a url", "the database URL"),
    ],
)
def test_display_url_hides_the_password(url: str, shown: str) -> None:
    assert display_url(url) == shown
