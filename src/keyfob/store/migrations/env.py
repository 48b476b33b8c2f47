"""Alembic environment for keyfob: runs on the connection :mod:`keyfob.store.migrate` passes in.

Run standalone (``alembic -x url=... upgrade head`` with ``script_location`` set to this folder)
it makes its own engine through :func:`keyfob.store.engine.create_engine`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from keyfob.store.engine import create_engine
from keyfob.store.migrate import VERSION_TABLE
from keyfob.store.schema import metadata

# Any constant will do: it only has to be the same in every keyfob process.
_ADVISORY_LOCK = 0x6B6579666F62  # "keyfob"


def run_on(connection: Connection) -> None:
    """Upgrade inside one transaction, holding a lock so concurrent migrators queue up."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transactional_ddl=True,  # SQLite too: the engine leaves BEGIN/COMMIT to SQLAlchemy
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("keyfob migrations need a database: pass -x url=<database URL>")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_standalone(url))


_main()
