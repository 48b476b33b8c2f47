"""Run keyfob's Alembic migrations programmatically (they ship inside the package)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from keyfob.store.engine import SQLITE_BEGIN, create_engine, is_memory_sqlite, normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: keyfob's own version table, so that it can share a database with an app that uses Alembic.
VERSION_TABLE = "keyfob_alembic_version"

# Alembic keeps its migration context in a module global, so one process (one event loop) must
# run one migration at a time; between processes the database lock in env.py does the queueing.
_LOCKS: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations in this package (no .ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


async def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest schema (creating a SQLite file's folder).

    Safe to run from several processes at once: they queue on a lock and the later ones find
    nothing left to do.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(parsed):
        await asyncio.to_thread(_make_parent, str(parsed.database))
    lock = _LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    engine = create_engine(url)
    try:
        async with lock, engine.connect() as connection:
            await connection.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


def upgrade(url: str) -> None:
    """Synchronous :func:`migrate`, for the command line."""
    asyncio.run(migrate(url))


def _make_parent(database: str) -> None:
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands: the revisions it is at, those this keyfob would still
    apply (oldest first), and those it is at that this keyfob does not know (a newer keyfob's)."""

    current: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]


async def schema_state(url: str) -> SchemaState:
    """The :class:`SchemaState` of the database at ``url``, read without changing anything."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
    finally:
        await engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    known = [revision.revision for revision in script.walk_revisions()]  # newest first
    unknown = tuple(head for head in current if head not in known)
    if unknown:
        return SchemaState(current, (), unknown)
    applied = {
        revision.revision
        for head in current
        for revision in script.iterate_revisions(head, "base")
        if revision is not None
    }
    pending = tuple(reversed([revision for revision in known if revision not in applied]))
    return SchemaState(current, pending, ())


def _current_heads(connection: Connection) -> tuple[str, ...]:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return tuple(context.get_current_heads())
