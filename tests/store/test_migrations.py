"""Migrations: upgrade an empty database, idempotently and concurrently; schema == metadata."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from keyfob.store import Store, create_engine
from keyfob.store.migrate import (
    VERSION_TABLE,
    SchemaState,
    alembic_config,
    migrate,
    schema_state,
)
from keyfob.store.records import ClientRecord
from keyfob.store.rows_admin import client_from
from keyfob.store.schema import metadata
from tests.store.factories import NOW

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def run(url: str, check: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def version(connection: Connection) -> Any:
    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_creates_every_table(empty_database_url: str) -> None:
    assert HEAD == "0008"
    await migrate(empty_database_url)
    assert await run(empty_database_url, tables) == {*metadata.tables, VERSION_TABLE}
    assert await run(empty_database_url, version) == HEAD
    store = Store.from_url(empty_database_url)
    try:
        user, _ = await store.sign_in_identity(
            kind="ethereum", address="0x1", public_key=None, now=NOW
        )
    finally:
        await store.close()
    await migrate(empty_database_url)  # nothing to do, nothing lost
    store = Store.from_url(empty_database_url)
    try:
        assert await store.get_user(user.id) == user
    finally:
        await store.close()


async def test_schema_matches_metadata(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    assert await run(empty_database_url, differences) == []


async def test_concurrent_migrations_queue_up(empty_database_url: str) -> None:
    await asyncio.gather(*(migrate(empty_database_url) for _ in range(3)))
    assert await run(empty_database_url, version) == HEAD


async def test_migrations_from_several_processes_queue_up(empty_database_url: str) -> None:
    code = "import sys; from keyfob.store.migrate import upgrade; upgrade(sys.argv[1])"
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", code, empty_database_url)
        for _ in range(3)
    ]
    assert [await p.wait() for p in processes] == [0, 0, 0]
    assert await run(empty_database_url, differences) == []


def downgrade_and_upgrade(connection: Connection) -> set[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")
    left = tables(connection)
    command.upgrade(config, "head")
    connection.commit()
    return left


async def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    assert await run(empty_database_url, downgrade_and_upgrade) == {VERSION_TABLE}
    assert await run(empty_database_url, differences) == []


async def test_foreign_keys_are_enforced(database_url: str) -> None:
    def orphan(connection: Connection) -> str:
        try:
            connection.execute(
                text(
                    "INSERT INTO identities (id, user_id, kind, address, created_at) "
                    "VALUES ('i', 'no-such-user', 'ethereum', '0x', '2030-01-01 00:00:00')"
                )
            )
        except Exception as exc:  # the driver's IntegrityError, wrapped
            return type(exc).__name__
        return "accepted"

    assert await run(database_url, orphan) == "IntegrityError"


def _client_row_across_0003(connection: Connection) -> Any:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0002")
    connection.execute(
        text(
            "INSERT INTO clients (id, name, sealed_secret, redirect_uris, registration_enabled, "
            "open_to_all, token_lifetime_minutes, authorized_client_lifetime_minutes, "
            "token_delivery, created_at, updated_at) VALUES ('c', 'seed app', :secret, '[]', "
            ":no, :no, 5, 1440, 'query', '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
        ),
        {"secret": b"s", "no": False},
    )
    command.upgrade(config, "head")
    connection.commit()
    return connection.execute(text("SELECT require_state FROM clients WHERE id = 'c'")).scalar()


async def test_0003_keeps_existing_clients_without_required_state(
    empty_database_url: str,
) -> None:
    """A client from before 0003 keeps seed 003's behaviour (state optional)."""
    await migrate(empty_database_url)
    assert not await run(empty_database_url, _client_row_across_0003)


def _rows_across_0004(connection: Connection) -> Any:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0003")
    connection.execute(
        text(
            "INSERT INTO users (id, created_at, disabled, roles) "
            "VALUES ('u', '2030-01-01 00:00:00', :no, '')"
        ),
        {"no": False},
    )
    connection.execute(
        text(
            "INSERT INTO clients (id, name, sealed_secret, redirect_uris, registration_enabled, "
            "open_to_all, token_lifetime_minutes, authorized_client_lifetime_minutes, "
            "token_delivery, created_at, updated_at) VALUES ('c', 'seed app', :secret, '[]', "
            ":no, :no, 5, 1440, 'query', '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
        ),
        {"secret": b"s", "no": False},
    )
    connection.execute(
        text(
            "INSERT INTO sso_sessions (token_hash, user_id, amr, authenticated_at, expires_at) "
            "VALUES ('h', 'u', 'passkey', '2030-01-01 00:00:00', '2030-01-02 00:00:00')"
        )
    )
    command.upgrade(config, "head")
    connection.commit()
    return connection.execute(text("SELECT * FROM clients WHERE id = 'c'")).one()._mapping, (
        connection.execute(text("SELECT sid FROM sso_sessions")).scalar()
    )


async def test_0004_gives_existing_clients_the_oidc_defaults(empty_database_url: str) -> None:
    """A client from before 0004 reads as the record's defaults; an SSO session has no sid."""
    await migrate(empty_database_url)
    client, sid = await run(empty_database_url, _rows_across_0004)
    assert sid is None
    assert client_from(client) == ClientRecord(
        id="c",
        name="seed app",
        sealed_secret=b"s",
        redirect_uris=(),
        registration_enabled=False,
        open_to_all=False,
        token_lifetime_minutes=5,
        authorized_client_lifetime_minutes=1440,
        token_delivery="query",
        created_at=client["created_at"],
        updated_at=client["updated_at"],
    )


def _permissions_across_downgrades(connection: Connection) -> Any:
    connection.execute(
        text(
            "INSERT INTO users (id, created_at, disabled, roles) "
            "VALUES ('u', '2030-01-01 00:00:00', :no, '')"
        ),
        {"no": False},
    )
    connection.execute(
        text(
            "INSERT INTO clients (id, name, sealed_secret, redirect_uris, registration_enabled, "
            "open_to_all, token_lifetime_minutes, authorized_client_lifetime_minutes, "
            "token_delivery, created_at, updated_at) VALUES ('c', 'app', :secret, '[]', "
            ":no, :no, 5, 1440, 'query', '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
        ),
        {"secret": b"s", "no": False},
    )
    connection.execute(
        text("INSERT INTO client_permissions VALUES ('u', 'c', '2030-01-01 00:00:00')")
    )
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0002")
    left = connection.execute(text("SELECT user_id, client_id FROM client_permissions")).all()
    command.upgrade(config, "head")
    connection.commit()
    return left


async def test_downgrades_keep_client_permissions(empty_database_url: str) -> None:
    """Dropping the 0003 and 0004 columns of clients must not recreate the table: on SQLite,
    dropping the old copy would cascade into client_permissions."""
    await migrate(empty_database_url)
    assert await run(empty_database_url, _permissions_across_downgrades) == [("u", "c")]


def _sessions_across_0007(connection: Connection) -> Any:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0006")
    for statement in (
        "INSERT INTO users (id, created_at, disabled, roles) "
        "VALUES ('u', '2030-01-01 00:00:00', :no, '')",
        "INSERT INTO identities (id, user_id, kind, address, created_at) "
        "VALUES ('i', 'u', 'ethereum', '0x1', '2030-01-01 00:00:00')",
        "INSERT INTO sessions (id, user_id, identity_id, amr, created_at) "
        "VALUES ('s', 'u', 'i', 'ethereum', '2030-01-01 00:00:00')",
        "INSERT INTO sso_sessions (token_hash, user_id, amr, authenticated_at, expires_at, sid) "
        "VALUES ('h', 'u', 'ethereum', '2030-01-01 00:00:00', '2030-01-02 00:00:00', 'p')",
    ):
        connection.execute(text(statement), {"no": False})
    command.upgrade(config, "head")
    connection.commit()
    seen = "device, ip_area, last_used_at"
    return (
        tuple(connection.execute(text(f"SELECT {seen} FROM sessions")).one()),
        tuple(connection.execute(text(f"SELECT {seen} FROM sso_sessions")).one()),
    )


async def test_0007_leaves_earlier_sessions_unknown_until_used(empty_database_url: str) -> None:
    """A session from before 0007 keeps working, its device, area and last use unknown."""
    await migrate(empty_database_url)
    unknown = (None, None, None)
    assert await run(empty_database_url, _sessions_across_0007) == (unknown, unknown)


def _upgrade_to(revision: str) -> Any:
    def upgrade_to(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()

    return upgrade_to


async def test_schema_state_says_what_is_pending(empty_database_url: str) -> None:
    url = empty_database_url
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    every = tuple(
        reversed(
            [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
        )
    )
    assert await schema_state(url) == SchemaState((), every, ())
    await run(url, _upgrade_to(every[1]))
    assert await schema_state(url) == SchemaState((every[1],), every[2:], ())
    await migrate(url)
    assert await schema_state(url) == SchemaState((every[-1],), (), ())

    def from_a_newer_keyfob(connection: Connection) -> None:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
        connection.commit()

    await run(url, from_a_newer_keyfob)
    assert await schema_state(url) == SchemaState(("9999",), (), ("9999",))


def _client_across_0008(connection: Connection) -> Any:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0007")
    connection.execute(
        text(
            "INSERT INTO clients (id, name, sealed_secret, redirect_uris, registration_enabled, "
            "open_to_all, token_lifetime_minutes, authorized_client_lifetime_minutes, "
            "token_delivery, created_at, updated_at) VALUES ('c', 'app', :secret, '[]', "
            ":no, :no, 5, 1440, 'query', '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
        ),
        {"secret": b"s", "no": False},
    )
    command.upgrade(config, "head")
    connection.commit()
    return connection.execute(text("SELECT logo_uri FROM clients WHERE id = 'c'")).one()


async def test_0008_gives_existing_clients_no_logo(empty_database_url: str) -> None:
    """A client from before 0008 has no logo: its pages look as they did."""
    await migrate(empty_database_url)
    assert await run(empty_database_url, _client_across_0008) == (None,)
