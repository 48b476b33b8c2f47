"""What every part of the store shares: the engine, its runner, per-dialect statements, and
the helpers that run one statement (from :mod:`keyfob.store.fastsql`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from keyfob.errors import ConfigurationError
from keyfob.store.fastsql import every, execute, first, one, rowcount, scalar
from keyfob.store.runner import make_runner
from keyfob.store.schema import denied_tokens, identities, session_keys, used_tokens


@dataclass(frozen=True, slots=True)
class DialectStatements:
    """The statements whose SQL differs between SQLite and PostgreSQL (upserts)."""

    mark_used: Any
    deny_token: Any
    insert_identity: Any
    upsert_session_key: Any


def _build(insert: Callable[[Any], Any]) -> DialectStatements:
    mark = insert(used_tokens).on_conflict_do_nothing(index_elements=["key"])
    deny = insert(denied_tokens).on_conflict_do_nothing(index_elements=["jti"])
    identity = insert(identities).on_conflict_do_nothing(index_elements=["kind", "address"])
    key = insert(session_keys)
    old, new = session_keys.c, key.excluded
    # Re-authorising a key never lowers its replay watermark: proofs seen once stay spent.
    upsert_key = key.on_conflict_do_update(
        index_elements=["thumbprint"],
        set_={
            "session_id": new.session_id,
            "jwk": new.jwk,
            "created_at": new.created_at,
            "expires_at": new.expires_at,
            "revoked_at": new.revoked_at,
            "last_timestamp_ms": case(
                (old.last_timestamp_ms > new.last_timestamp_ms, old.last_timestamp_ms),
                else_=new.last_timestamp_ms,
            ),
        },
        where=old.user_id == new.user_id,
    )
    return DialectStatements(
        mark_used=mark.returning(used_tokens.c.key),
        deny_token=deny,
        insert_identity=identity.returning(*identities.c),
        upsert_session_key=upsert_key.returning(session_keys.c.thumbprint),
    )


__all__ = [
    "DialectStatements",
    "StoreBase",
    "every",
    "execute",
    "first",
    "one",
    "rowcount",
    "scalar",
]

_DIALECTS = {"sqlite": _build(sqlite.insert), "postgresql": _build(postgresql.insert)}


class StoreBase:
    """Holds the engine, the runner that executes operations on it, and the dialect's upserts."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Wrap ``engine`` (SQLite via aiosqlite or PostgreSQL via asyncpg)."""
        name = engine.dialect.name
        if name not in _DIALECTS:
            raise ConfigurationError(f"keyfob cannot store its data in {name!r}.")
        self._engine = engine
        self._sql = _DIALECTS[name]
        self._run = make_runner(engine)

    @property
    def dialect_statements(self) -> DialectStatements:
        """The statements of this store's dialect (for functions run inside its transactions)."""
        return self._sql

    @property
    def engine(self) -> AsyncEngine:
        """The async engine this store was made with (migrations, tests, ad-hoc queries)."""
        return self._engine

    async def close(self) -> None:
        """Close every connection and worker thread."""
        await self._run.close()
        await self._engine.dispose()
