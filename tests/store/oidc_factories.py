"""Builders the OpenID Connect store tests share: a user and a client, codes, grants."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from keyfob.core.tokens import hash_refresh_token
from keyfob.store import Store
from keyfob.store.records_oidc import OidcCodeRecord, OidcGrantRecord
from tests.store.admin_fixtures import client_record
from tests.store.factories import DAY, NOW, sign_in

CLIENT = "c0a1e1e5-0000-4000-8000-000000000001"
OTHER_CLIENT = "c0a1e1e5-0000-4000-8000-000000000002"
CODE_TTL = timedelta(minutes=1)
GRANT_TTL = 30 * DAY
SID = "sid-" + "a" * 40


def code_hash(name: str) -> str:
    """The stored form of the code (or refresh token) ``name``."""
    return hash_refresh_token(name)


@dataclass(frozen=True)
class Party:
    """A user signed in and two clients, stored."""

    user_id: str
    client_id: str = CLIENT
    other_client_id: str = OTHER_CLIENT


async def party(store: Store, address: str = "0xA11CE") -> Party:
    """A user (signed in with ``address``) and the clients :data:`CLIENT` and
    :data:`OTHER_CLIENT` (stored if they are not yet)."""
    user, _ = await sign_in(store, address)
    for client_id, name in ((CLIENT, "notes"), (OTHER_CLIENT, "wiki")):
        if await store.get_client(client_id) is None:
            await store.add_client(client_record(client_id, name=name))
    return Party(user.id)


def code_record(who: Party, name: str = "code-1", **changes: Any) -> OidcCodeRecord:
    """An unused code of ``who`` (for :data:`CLIENT`), valid for a minute from NOW."""
    values: dict[str, Any] = {
        "code_hash": code_hash(name),
        "client_id": who.client_id,
        "user_id": who.user_id,
        "redirect_uri": "https://notes.example/callback",
        "scope": ("openid", "profile", "offline_access"),
        "nonce": "n-0S6_WzA2Mj",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "resource": "https://api.notes.example",
        "sid": SID,
        "auth_time": NOW - timedelta(minutes=5),
        "amr": ("passkey", "user_verified"),
        "created_at": NOW,
        "expires_at": NOW + CODE_TTL,
    }
    values.update(changes)
    return OidcCodeRecord(**values)


def grant_record(code: OidcCodeRecord, grant_id: str, **changes: Any) -> OidcGrantRecord:
    """The grant exchanging ``code`` starts, for 30 days from NOW."""
    values: dict[str, Any] = {
        "id": grant_id,
        "client_id": code.client_id,
        "user_id": code.user_id,
        "sid": code.sid,
        "scope": code.scope,
        "resource": code.resource,
        "auth_time": code.auth_time,
        "amr": code.amr,
        "created_at": NOW,
        "expires_at": NOW + GRANT_TTL,
    }
    values.update(changes)
    return OidcGrantRecord(**values)


async def exchange(
    store: Store,
    who: Party,
    name: str = "code-1",
    grant_id: str = "9a7b0000-0000-4000-8000-000000000001",
    refresh: str | None = "rt-0",
    **changes: Any,
) -> OidcGrantRecord:
    """Store a code, consume it and start its grant with the first refresh token
    ``refresh`` (hashed); return the grant."""
    code = code_record(who, name, **changes)
    await store.add_code(code)
    use = await store.consume_code(code.code_hash, now=NOW)
    assert use.code == replace(code, used_at=NOW)
    grant = grant_record(code, grant_id)
    await store.start_grant(
        code.code_hash,
        grant,
        refresh_token_hash=None if refresh is None else code_hash(refresh),
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    return grant
