"""Wallet sign-in through the API with real clients: viem, siwe + ethers, @nimiq/core, Solana."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.node_clients import NodeClients
from tests.server.conftest import Server
from tests.server.signin import (
    ETH_KEY,
    NIMIQ_KEY,
    SOLANA_SEED,
    bearer,
    eth_address,
    eth_signed,
    login,
    nonce,
    siwe_fields,
    solana_input,
)


async def test_ethereum_server_built_message_signed_by_viem(
    server: Server, node_clients: NodeClients
) -> None:
    response = await login(server, await eth_signed(server, node_clients))
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] == 900
    user = tokens["user"]
    [identity] = user["identities"]
    assert identity == {
        "id": identity["id"],
        "chain": "ethereum",
        "address": eth_address(node_clients),
        "publicKey": identity["publicKey"],
        "createdAt": identity["createdAt"],
        "lastUsedAt": identity["lastUsedAt"],
    }
    assert user["username"] is None
    header = jwt.get_unverified_header(tokens["accessToken"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "EdDSA"
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == user["id"]
    assert claims["iss"] == claims["aud"] == "http://localhost:8000"
    assert claims["address"] == eth_address(node_clients)
    assert claims["amr"] == ["pop"]  # RFC 8176: proof of possession; the chain is its own claim
    assert claims["chain"] == "ethereum"
    for claim in ("iat", "exp", "jti", "sid"):
        assert claim in claims
    # The account token: same session and lifetime, keyfob's account audience, its own key.
    account_claims = jwt.decode(tokens["accountToken"], options={"verify_signature": False})
    assert account_claims["aud"] == "http://localhost:8000/account"
    assert account_claims["sid"] == claims["sid"]
    assert account_claims["exp"] - account_claims["iat"] == claims["exp"] - claims["iat"]
    assert jwt.get_unverified_header(tokens["accountToken"])["alg"] == "HS256"
    assert jwt.get_unverified_header(tokens["accountToken"])["kid"] != header["kid"]
    me = await server.client.get("/auth/me", headers=bearer(tokens["accountToken"]))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    app_token = await server.client.get("/auth/me", headers=bearer(tokens["accessToken"]))
    assert app_token.status_code == 401
    assert app_token.json()["error"] == "invalid_token"


async def test_second_sign_in_is_the_same_user_with_a_newer_last_login(
    server: Server, node_clients: NodeClients
) -> None:
    first = (await login(server, await eth_signed(server, node_clients))).json()["user"]
    server.clock.advance(5)
    second = (await login(server, await eth_signed(server, node_clients))).json()["user"]
    assert second["id"] == first["id"]
    assert second["createdAt"] == first["createdAt"]
    assert second["lastLogin"] > first["lastLogin"]


@pytest.mark.parametrize("library", ["viem", "siwe"])
async def test_ethereum_client_built_message(
    server: Server, node_clients: NodeClients, library: str
) -> None:
    issued = await nonce(server, "ethereum")
    build = node_clients.viem_siwe if library == "viem" else node_clients.siwe_prepare
    signed = build(ETH_KEY, siwe_fields(issued))
    response = await login(
        server, {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["identities"][0]["address"] == signed.address


async def test_ethers_signature_of_server_message(
    server: Server, node_clients: NodeClients
) -> None:
    issued = await nonce(server, "ethereum", address=eth_address(node_clients))
    signature = node_clients.ethers_sign(ETH_KEY, issued["message"]).signature
    response = await login(
        server, {"chain": "ethereum", "message": issued["message"], "signature": signature}
    )
    assert response.status_code == 200, response.text


async def test_nimiq_sign_in_with_keyguard_signature(
    server: Server, node_clients: NodeClients
) -> None:
    address = node_clients.nimiq_sign(NIMIQ_KEY, "x").address
    issued = await nonce(server, "nimiq", address=address.replace(" ", "").lower())
    assert "sign in with your Nimiq account:\n" + address in issued["message"]
    signed = node_clients.nimiq_sign(NIMIQ_KEY, issued["message"])
    response = await login(
        server,
        {
            "chain": "nimiq",
            "message": issued["message"],
            "signature": signed.signature,
            "publicKey": signed.public_key,
        },
    )
    assert response.status_code == 200, response.text
    identity = response.json()["user"]["identities"][0]
    assert (identity["chain"], identity["address"]) == ("nimiq", address)
    assert identity["publicKey"] == signed.public_key


async def test_nimiq_challenge_flow_of_seed_000(
    make_server: Any, node_clients: NodeClients
) -> None:
    async with make_server(legacy_nimiq_challenge=True) as server:
        await _seed_000_sign_in(server, node_clients)


async def _seed_000_sign_in(server: Server, node_clients: NodeClients) -> None:
    challenge = (await server.post("/auth/challenge")).json()["challenge"]
    claims = jwt.decode(challenge, options={"verify_signature": False})
    assert {"iss", "aud", "jti", "iat", "exp"} <= claims.keys()
    assert jwt.get_unverified_header(challenge)["alg"] == "HS256"
    signed = node_clients.nimiq_sign(NIMIQ_KEY, challenge)
    body = {
        "chain": "nimiq",
        "message": challenge,
        "signature": signed.signature,
        "publicKey": signed.public_key,
    }
    first = await login(server, body)
    assert first.status_code == 200, first.text
    assert first.json()["user"]["identities"][0]["address"] == signed.address
    again = await login(server, body)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_nonce"


async def test_seed_000_challenge_flow_is_off_by_default(
    make_server: Any, server: Server, node_clients: NodeClients
) -> None:
    """The challenge names no domain (a phishing site could relay one): without
    KEYFOB_LEGACY_NIMIQ_CHALLENGE=true neither the endpoint nor a login with a challenge works,
    even one a server with the flow on issued under the same secret."""
    off = await server.post("/auth/challenge")
    assert off.status_code == 404, off.text
    assert off.json()["error"] == "legacy_flow_disabled"
    async with make_server(legacy_nimiq_challenge=True) as legacy:
        challenge = (await legacy.post("/auth/challenge")).json()["challenge"]
    signed = node_clients.nimiq_sign(NIMIQ_KEY, challenge)
    body = {
        "chain": "nimiq",
        "message": challenge,
        "signature": signed.signature,
        "publicKey": signed.public_key,
    }
    refused = await login(server, body)
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"] == "legacy_flow_disabled"
    assert await server.runtime.store.count_users() == 0


@pytest.mark.parametrize("encoding", ["base58", "hex"])
async def test_solana_sign_in_with_wallet_standard(
    server: Server, node_clients: NodeClients, encoding: str
) -> None:
    issued = await nonce(server, "solana")
    signed = node_clients.solana_sign_in(SOLANA_SEED, solana_input(issued))
    assert signed.self_verified
    signature = signed.signature if encoding == "base58" else signed.signature_hex
    response = await login(
        server, {"chain": "solana", "message": signed.message, "signature": signature}
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["identities"][0]["address"] == signed.address


async def test_solana_server_built_message(server: Server, node_clients: NodeClients) -> None:
    address = node_clients.solana_sign_in(
        SOLANA_SEED, solana_input(await nonce(server, "solana"))
    ).address
    issued = await nonce(server, "solana", address=address)
    signed = node_clients.solana_sign_in(SOLANA_SEED, solana_input(issued, address=address))
    assert signed.message == issued["message"]
    response = await login(
        server, {"chain": "solana", "message": signed.message, "signature": signed.signature}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("mode", ["stored", "signed"])
async def test_nonce_is_single_use(make_server: Any, node_clients: NodeClients, mode: str) -> None:
    async with make_server(nonce_mode=mode) as server:
        body = await eth_signed(server, node_clients)
        assert (await login(server, body)).status_code == 200
        again = await login(server, body)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_nonce"


@pytest.mark.parametrize("mode", ["stored", "signed"])
async def test_nonce_expires_after_five_minutes(
    make_server: Any, node_clients: NodeClients, mode: str
) -> None:
    async with make_server(nonce_mode=mode) as server:
        issued = await nonce(server, "ethereum")
        # The message itself stays valid (no expiration time); only the nonce's life ends.
        signed = node_clients.viem_siwe(ETH_KEY, siwe_fields(issued, expiration_time=None))
        server.clock.advance(301)
        response = await login(
            server, {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
        )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_nonce"


def _high_s_twin(signature: str) -> str:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    raw = bytes.fromhex(signature[2:])
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    twin_v = {27: 28, 28: 27, 0: 1, 1: 0}[v]
    return "0x" + (raw[:32] + (n - s).to_bytes(32, "big") + bytes([twin_v])).hex()


async def _negative_case(server: Server, clients: NodeClients, case: str) -> dict[str, Any]:
    issued = await nonce(server, "ethereum")
    now = datetime.now(UTC)
    table: dict[str, dict[str, Any]] = {
        "wrong domain": {"domain": "evil.example"},
        "wrong port": {"domain": "localhost:8001"},
        "URI off origin": {"uri": "https://evil.example/login"},
        "URI other scheme": {"uri": "https://localhost:8000"},
        "chain id not allowed": {"chain_id": 5},
        "unknown nonce": {"nonce": "abcdefgh12345678"},
        "expired message": {"expiration_time": now - timedelta(seconds=1)},
        "not valid yet": {"not_before": now + timedelta(minutes=2)},
        "issued before its nonce": {"issued_at": now - timedelta(minutes=10)},
        "issued in the future": {"issued_at": now + timedelta(minutes=10)},
    }
    overrides = table.get(case, {})
    signed = clients.viem_siwe(ETH_KEY, siwe_fields(issued, **overrides))
    body = {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    if case == "tampered message":
        body["message"] = signed.message.replace(
            signed.address, eth_address(clients, "0x" + "22" * 32)
        )
    if case == "signature of another message":
        body["signature"] = clients.viem_sign(ETH_KEY, "something else").signature
    if case == "truncated signature":
        body["signature"] = signed.signature[:-2]
    if case == "high-s twin replayed":
        assert (await login(server, body)).status_code == 200
        body["signature"] = _high_s_twin(signed.signature)
    if case == "wrong chain field":
        body["chain"] = "solana"
    return body


NEGATIVE = [
    ("wrong domain", "message_mismatch"),
    ("wrong port", "message_mismatch"),
    ("URI off origin", "message_mismatch"),
    ("URI other scheme", "message_mismatch"),
    ("chain id not allowed", "message_mismatch"),
    ("unknown nonce", "invalid_nonce"),
    ("expired message", "message_expired"),
    ("not valid yet", "message_expired"),
    ("issued before its nonce", "invalid_nonce"),
    ("issued in the future", "message_expired"),
    ("tampered message", "invalid_signature"),
    ("signature of another message", "invalid_signature"),
    ("truncated signature", "invalid_signature"),
    ("high-s twin replayed", "invalid_signature"),
    ("wrong chain field", "invalid_message"),
]


@pytest.mark.parametrize(("case", "code"), NEGATIVE, ids=[case for case, _ in NEGATIVE])
async def test_ethereum_sign_in_is_refused(
    server: Server, node_clients: NodeClients, case: str, code: str
) -> None:
    body = await _negative_case(server, node_clients, case)
    response = await login(server, body)
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == code, response.text


async def test_nonce_bound_to_an_address_refuses_another(
    server: Server, node_clients: NodeClients
) -> None:
    issued = await nonce(server, "ethereum", address=eth_address(node_clients))
    other = "0x" + "22" * 32
    signed = node_clients.viem_siwe(other, siwe_fields(issued))
    response = await login(
        server, {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_nonce"


async def test_nonce_of_another_chain_is_refused(server: Server, node_clients: NodeClients) -> None:
    issued = await nonce(server, "solana")
    signed = node_clients.viem_siwe(
        ETH_KEY, siwe_fields({"fields": {**issued["fields"], "chainId": "1"}})
    )
    response = await login(
        server, {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_nonce"


async def test_sign_ins_and_failures_are_audited(server: Server, node_clients: NodeClients) -> None:
    signed = await eth_signed(server, node_clients)
    first = await login(server, signed)
    assert first.status_code == 200, first.text
    replay = await login(server, signed)
    assert replay.json()["error"] == "invalid_nonce"
    store = server.runtime.store
    [success] = await store.audit_events(event="sign_in")
    assert success.user_id == first.json()["user"]["id"]
    assert '"method":"ethereum"' in success.detail
    [failure] = await store.audit_events(event="sign_in_failed")
    assert failure.user_id is None
    assert '"error":"invalid_nonce"' in failure.detail
