"""Engine creation: URL normalisation and SQLite connection settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from keyfob.errors import ConfigurationError
from keyfob.store import Store, create_engine
from keyfob.store.engine import normalize_url
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
