"""Sealed blobs bound to their row: a client secret or signing key copied into another row of the
database no longer unseals (it used to, silently handing out the other row's secret), and the
blobs of a database from before rows were bound are upgraded once, at start."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keyfob.core.client_tokens import verify_client_token
from keyfob.core.keys import generate_signing_key, private_key_bytes, public_jwk
from keyfob.core.secretbox import SealedDataError, derive_key, is_legacy
from keyfob.errors import ConfigurationError
from keyfob.server.infra.keyring import rotate_signing_key
from keyfob.server.services.clients import (
    client_secret,
    create_client,
    get_client,
    mint_client_token,
)
from keyfob.server.services.tokens import verify_bearer
from keyfob.store import SigningKeyRecord, Store
from keyfob.store.records import ClientRecord
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, SECRET, Server
from tests.server.signin import signed_in


def _format_1(plaintext: bytes, purpose: str) -> bytes:
    """A blob as keyfob sealed it before format 2: the purpose alone as associated data."""
    nonce = os.urandom(12)
    cipher = AESGCM(derive_key(SECRET, purpose))
    return b"\x01" + nonce + cipher.encrypt(nonce, plaintext, purpose.encode())


async def _two_clients(server: Server) -> tuple[ClientRecord, ClientRecord]:
    runtime = server.runtime
    first, _ = await create_client(runtime, name="First", redirect_uris=["https://a.example/cb"])
    second, _ = await create_client(runtime, name="Second", redirect_uris=["https://b.example/cb"])
    return first, second


async def test_swapped_client_secrets_fail_for_both_clients(server: Server) -> None:
    runtime = server.runtime
    first, second = await _two_clients(server)
    assert client_secret(runtime, first) != client_secret(runtime, second)
    # Someone with write access to the database swaps the two sealed secrets...
    now = runtime.now()
    await runtime.store.set_client_secret(first.id, second.sealed_secret, now=now)
    await runtime.store.set_client_secret(second.id, first.sealed_secret, now=now)
    for client_id in (first.id, second.id):
        client = await get_client(runtime, client_id)
        # ...and neither client's token is signed with the other one's secret: both refuse.
        with pytest.raises(SealedDataError) as info:
            mint_client_token(runtime, client, "user-1")
        assert isinstance(info.value, ConfigurationError)
        assert client_id in info.value.message
        assert "another row" in info.value.message


async def test_swapped_signing_keys_do_not_load(server: Server) -> None:
    runtime = server.runtime
    old = (await runtime.store.signing_keys())[0]
    new_key = await rotate_signing_key(runtime.store, "EdDSA", SECRET, now=runtime.now())
    new = next(r for r in await runtime.store.signing_keys() if r.kid == new_key.kid)
    assert await runtime.store.reseal_signing_key(
        old.kid, old.sealed_private_key, new.sealed_private_key
    )
    with pytest.raises(SealedDataError, match=old.kid):
        await runtime.keyring.load(now=runtime.now())


async def test_a_database_sealed_the_old_way_is_upgraded_at_start(
    make_server: Any, node_clients: NodeClients, store: Store
) -> None:
    now = datetime.now(UTC)
    key = generate_signing_key("EdDSA")
    await store.add_signing_key(
        SigningKeyRecord(
            kid=key.kid,
            alg="EdDSA",
            sealed_private_key=_format_1(private_key_bytes(key), "signing-key"),
            public_jwk=json.dumps(public_jwk(key)),
            created_at=now,
            retired_at=None,
        )
    )
    secrets = {"old-a": "a" * 43, "old-b": "b" * 43}
    for client_id, secret in secrets.items():
        await store.add_client(
            ClientRecord(
                id=client_id,
                name=client_id,
                sealed_secret=_format_1(secret.encode(), "client-secret"),
                redirect_uris=("https://app.example/cb",),
                registration_enabled=False,
                open_to_all=True,
                token_lifetime_minutes=5,
                authorized_client_lifetime_minutes=60,
                token_delivery="query",
                created_at=now,
                updated_at=now,
            )
        )

    async with make_server() as server:
        runtime = server.runtime
        # The old signing key still signs and verifies, and each client keeps its secret...
        tokens = await signed_in(server, node_clients)
        verified = await verify_bearer(runtime, tokens["accessToken"])
        assert verified.subject == tokens["user"]["id"]
        assert runtime.keyring.current.current.kid == key.kid
        a = await get_client(runtime, "old-a")
        b = await get_client(runtime, "old-b")
        for client in (a, b):
            token = mint_client_token(runtime, client, "user-1")
            claims = verify_client_token(
                token,
                secrets[client.id],
                expected_issuer=PUBLIC_URL,
                expected_client_id=client.id,
                now=runtime.now(),
            )
            assert claims.user_id == "user-1"
            assert not is_legacy(client.sealed_secret)
        assert not is_legacy((await runtime.store.signing_keys())[0].sealed_private_key)
        assert a.updated_at == b.updated_at == now  # the upgrade is no secret change

        # ...and now that they are bound, moving one to the other row fails.
        await runtime.store.set_client_secret(a.id, b.sealed_secret, now=runtime.now())
        with pytest.raises(SealedDataError, match="another row"):
            client_secret(runtime, await get_client(runtime, a.id))


async def test_format_1_is_read_by_the_upgrade_alone(server: Server) -> None:
    """A format-1 blob a running server meets (none is written any more) is refused, not read."""
    runtime = server.runtime
    client, _ = await create_client(runtime, name="App", redirect_uris=["https://a.example/cb"])
    legacy = _format_1(b"c" * 43, "client-secret")
    await runtime.store.set_client_secret(client.id, legacy, now=runtime.now())
    with pytest.raises(SealedDataError, match="format 1"):
        client_secret(runtime, await get_client(runtime, client.id))
