"""Small builders the store tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, update

from keyfob.store import IdentityRecord, SessionKeyRecord, SessionRecord, Store, UserRecord

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def sign_in(
    store: Store, address: str = "0xA11CE", kind: str = "ethereum"
) -> tuple[UserRecord, IdentityRecord]:
    """A user with one identity."""
    return await store.sign_in_identity(kind=kind, address=address, public_key=None, now=NOW)


async def open_session(
    store: Store, token_hash: str = "rt-0", address: str = "0xA11CE"
) -> SessionRecord:
    """A signed-in user's session whose first refresh token hash is ``token_hash``."""
    user, identity = await sign_in(store, address)
    return await store.create_session(
        user_id=user.id,
        identity_id=identity.id,
        amr=("ethereum",),
        refresh_token_hash=token_hash,
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )


def session_key(
    session: SessionRecord, thumbprint: str = "tp-1", **changes: Any
) -> SessionKeyRecord:
    """A session key record on ``session``."""
    values: dict[str, Any] = {
        "thumbprint": thumbprint,
        "user_id": session.user_id,
        "session_id": session.id,
        "jwk": '{"kty":"OKP","crv":"Ed25519","x":"AAAA"}',
        "created_at": NOW,
        "expires_at": NOW + DAY,
        "last_timestamp_ms": 0,
        "revoked_at": None,
    }
    values.update(changes)
    return SessionKeyRecord(**values)


async def set_row(store: Store, table: Table, key: Any, **values: Any) -> None:
    """Change one row behind the store's back (e.g. disable a user)."""
    primary = next(iter(table.primary_key.columns))
    async with store.engine.begin() as conn:
        await conn.execute(update(table).where(primary == key).values(**values))
