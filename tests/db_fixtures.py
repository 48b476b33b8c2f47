"""Database fixtures for every test that needs one, on SQLite and on PostgreSQL.

``database_url`` is a migrated, empty database: a fresh SQLite file per test, or one PostgreSQL
database per test session (``keyfob_test_<random>``, dropped at the end) truncated before each
test. ``store`` is a :class:`keyfob.store.Store` on it. ``empty_database_url`` has no tables.
PostgreSQL is the server on 127.0.0.1:5432 (trust auth); if it is unreachable its tests skip,
or fail when ``KEYFOB_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from keyfob.store import Store
from keyfob.store.migrate import upgrade
from keyfob.store.schema import metadata

DATABASES = ["sqlite", "postgresql"]
PG_HOST, PG_PORT = "127.0.0.1", 5432


class PostgresServer:
    """The test server: creates and drops throwaway databases as the first user that works."""

    def __init__(self, user: str) -> None:
        self.user = user

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+asyncpg://{self.user}@{PG_HOST}:{PG_PORT}/{database}"

    def execute(self, sql: str, database: str = "test") -> None:
        """Run one statement outside any transaction (CREATE/DROP DATABASE need that)."""

        async def run() -> None:
            connection = await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=self.user, database=database, timeout=5
            )
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        asyncio.run(run())

    def create_database(self) -> str:
        """Create an empty ``keyfob_test_<random>`` database; return its name."""
        name = f"keyfob_test_{secrets.token_hex(6)}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections are left on it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _connect_postgres() -> PostgresServer | None:
    for user in ("postgres", getpass.getuser()):
        server = PostgresServer(user)
        try:
            server.execute("SELECT 1")
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
        return server
    return None


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The PostgreSQL server, or skip (fail with KEYFOB_REQUIRE_SERVICES=1) if unreachable."""
    server = _connect_postgres()
    if server is None:
        message = f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}"
        if os.environ.get("KEYFOB_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return server


@pytest.fixture(scope="session")
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """One migrated database for the whole test session; its URL."""
    name = postgres_server.create_database()
    try:
        url = postgres_server.url(name)
        upgrade(url)
        yield url
    finally:
        postgres_server.drop_database(name)


_TRUNCATE = "TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables) + " CASCADE"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty keyfob database on each of SQLite and PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}"
        upgrade(url)
        return url
    shared: str = request.getfixturevalue("postgres_database")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    server.execute(_TRUNCATE, database=shared.rsplit("/", 1)[1])
    return shared


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (SQLite: not even the file)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'new' / 'keyfob.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A :class:`Store` on ``database_url``."""
    opened = Store.from_url(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def stores(store: Store, database_url: str) -> AsyncIterator[list[Store]]:
    """``store`` and three more stores on the same database, each with its own connections
    (and on SQLite its own writer thread), as separate processes would be: for races."""
    others = [Store.from_url(database_url) for _ in range(3)]
    try:
        yield [store, *others]
    finally:
        for other in others:
            await other.close()
