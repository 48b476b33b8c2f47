"""Signing-key rotation: new tokens use the new key, old ones verify until they expire."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from typing import Any

import jwt
import pytest

from keyfob.server.infra.housekeeping import housekeeping
from keyfob.server.infra.keyring import RELOAD_INTERVAL, UNKNOWN_KID_COOLDOWN, rotate_signing_key
from keyfob.server.services.tokens import verify_bearer
from keyfob.store import SigningKeyRecord
from tests.node_clients import NodeClients
from tests.server.conftest import SECRET, Server
from tests.server.signin import bearer, signed_in


async def test_rotation_keeps_the_old_key_until_its_tokens_expire(
    server: Server, node_clients: NodeClients
) -> None:
    runtime = server.runtime
    before = await signed_in(server, node_clients)
    old_kid = jwt.get_unverified_header(before["accessToken"])["kid"]
    new_key = await rotate_signing_key(runtime.store, "EdDSA", SECRET, now=runtime.now())
    await runtime.keyring.load(now=runtime.now())

    kids = [
        key["kid"] for key in (await server.client.get("/.well-known/jwks.json")).json()["keys"]
    ]
    assert sorted(kids) == sorted([old_kid, new_key.kid])
    after = await signed_in(server, node_clients)
    assert jwt.get_unverified_header(after["accessToken"])["kid"] == new_key.kid
    # The server's check of app tokens still takes the old key's (/auth/me takes account tokens).
    assert (await verify_bearer(runtime, before["accessToken"])).subject == before["user"]["id"]

    server.clock.advance(901)
    await runtime.keyring.load(now=runtime.now())
    kids = [
        key["kid"] for key in (await server.client.get("/.well-known/jwks.json")).json()["keys"]
    ]
    assert kids == [new_key.kid]


async def test_a_server_meeting_an_unknown_kid_reloads_its_keys(
    server: Server, node_clients: NodeClients, make_server: Any
) -> None:
    runtime = server.runtime
    await rotate_signing_key(runtime.store, "EdDSA", SECRET, now=runtime.now())
    # Another instance (same database) loaded the rotated key and signs with it...
    async with make_server() as other:
        tokens = await signed_in(other, node_clients)
    # ...and this instance, still holding the old set, accepts its token all the same.
    assert (await verify_bearer(runtime, tokens["accessToken"])).subject == tokens["user"]["id"]


async def test_es256_keys(make_server: Any, node_clients: NodeClients) -> None:
    async with make_server(token_algorithm="ES256") as server:
        tokens = await signed_in(server, node_clients)
        jwks = (await server.client.get("/.well-known/jwks.json")).json()
        key = jwt.PyJWK(jwks["keys"][0])
        claims = jwt.decode(
            tokens["accessToken"], key, algorithms=["ES256"], audience="http://localhost:8000"
        )
        assert claims["sub"] == tokens["user"]["id"]


class _Monotonic:
    """The keyring's interval clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _unknown_kid_token() -> str:
    """A token-shaped string naming a kid no keyring holds (its signature is garbage)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = {"alg": "EdDSA", "typ": "at+jwt", "kid": secrets.token_urlsafe(16)}
    return f"{part(header)}.{part({'sub': 'x'})}.{secrets.token_urlsafe(64)}"


async def test_unknown_kids_cause_one_shared_reload_per_cooldown(
    server: Server,
    node_clients: NodeClients,
    make_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, every token with an unknown kid forced a database read (50 here). Logout is the
    endpoint that takes apps' access tokens, the ones the keyring verifies."""
    runtime = server.runtime
    clock = _Monotonic()
    runtime.keyring.monotonic = clock
    reads = 0
    real_read = runtime.store.signing_keys

    async def counted_read() -> list[SigningKeyRecord]:
        nonlocal reads
        reads += 1
        return await real_read()

    monkeypatch.setattr(runtime.store, "signing_keys", counted_read)
    responses = await asyncio.gather(
        *(
            server.post("/auth/logout", None, headers=bearer(_unknown_kid_token()))
            for _ in range(50)
        )
    )
    assert [r.status_code for r in responses] == [401] * 50
    assert reads == 1

    # A real rotation elsewhere: within the cooldown this instance does not look again...
    await rotate_signing_key(runtime.store, "EdDSA", SECRET, now=runtime.now())
    async with make_server() as other:
        rotated = (await signed_in(other, node_clients))["accessToken"]
    assert (await server.post("/auth/logout", None, headers=bearer(rotated))).status_code == 401
    assert reads == 1
    # ...and once it is over, the first token with the new kid loads the new key.
    clock.now += UNKNOWN_KID_COOLDOWN
    out = await server.post("/auth/logout", None, headers=bearer(rotated))
    assert out.status_code == 204, out.text
    assert reads == 2


async def test_a_running_server_reloads_its_keys_on_its_own(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a rotation reached a running server only through a JWKS fetch or an unknown kid
    (never with HS256, whose JWKS is empty and whose apps cannot sign)."""
    runtime = server.runtime
    clock = _Monotonic()
    runtime.keyring.monotonic = clock
    clock.now = time.monotonic() + RELOAD_INTERVAL + 1  # the keys loaded at start are stale
    new_key = await rotate_signing_key(runtime.store, "EdDSA", SECRET, now=runtime.now())
    reloaded = asyncio.Event()
    real_load = runtime.keyring.load

    async def load(**kwargs: Any) -> Any:
        keys = await real_load(**kwargs)
        reloaded.set()
        return keys

    monkeypatch.setattr(runtime.keyring, "load", load)
    async with housekeeping(runtime, key_interval=0.01):
        await asyncio.wait_for(reloaded.wait(), timeout=10)
    assert runtime.keyring.current.current.kid == new_key.kid
