"""Signing-key rotation: new tokens use the new key, old ones verify until they expire."""

from __future__ import annotations

from typing import Any

import jwt

from keyfob.server.auth import verify_bearer
from keyfob.server.keyring import rotate_signing_key
from tests.node_clients import NodeClients
from tests.server.conftest import SECRET, Server
from tests.server.signin import signed_in


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
