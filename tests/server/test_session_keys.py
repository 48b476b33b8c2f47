"""App session keys (seed 001) with WebCrypto keys made by Node, authorised by a viem signature."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node_clients import NodeClients, SessionKey
from tests.server.conftest import Server
from tests.server.signin import ETH_KEY, bearer, eth_signed, login, nonce, siwe_fields

DOMAIN = "localhost:8000"


def proof(clients: NodeClients, key: SessionKey, timestamp: int, domain: str = DOMAIN) -> str:
    return clients.session_key_sign(key, f"keyfob-session-key:{domain}:{timestamp}")


async def authorised(
    server: Server, clients: NodeClients, alg: str
) -> tuple[SessionKey, dict[str, Any], str]:
    key = clients.session_key(alg)
    body = await eth_signed(server, clients, sessionKey=key.public_jwk)
    response = await login(server, body)
    assert response.status_code == 200, response.text
    thumbprint = body["message"].split("urn:keyfob:session-key:")[1].split("\n")[0]
    return key, response.json(), thumbprint


def now_ms(server: Server) -> int:
    return int(server.clock().timestamp() * 1000)


async def token(server: Server, thumbprint: str, timestamp: int, signature: str) -> Any:
    return await server.post(
        "/auth/session-key/token",
        {"thumbprint": thumbprint, "timestamp": timestamp, "signature": signature},
    )


@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
async def test_session_key_mints_fresh_access_tokens(
    server: Server, node_clients: NodeClients, alg: str
) -> None:
    key, tokens, thumbprint = await authorised(server, node_clients, alg)
    stamp = now_ms(server)
    response = await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
    assert response.status_code == 200, response.text
    access = response.json()["accessToken"]
    me = await server.client.get("/auth/me", headers=bearer(access))
    assert me.json()["id"] == tokens["user"]["id"]
    listed = (await server.client.get("/auth/session-keys", headers=bearer(access))).json()
    assert [entry["thumbprint"] for entry in listed] == [thumbprint]


async def test_client_built_message_carries_the_resource(
    server: Server, node_clients: NodeClients
) -> None:
    key = node_clients.session_key("Ed25519")
    issued = await nonce(server, "ethereum", sessionKey=key.public_jwk)
    resource = issued["fields"]["resources"][0]
    signed = node_clients.viem_siwe(ETH_KEY, siwe_fields(issued, resources=[resource]))
    body = {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    missing = await login(server, dict(body))
    assert missing.json()["error"] == "invalid_session_key"
    issued = await nonce(server, "ethereum", sessionKey=key.public_jwk)
    signed = node_clients.viem_siwe(ETH_KEY, siwe_fields(issued, resources=[resource]))
    body = {"chain": "ethereum", "message": signed.message, "signature": signed.signature}
    response = await login(server, {**body, "sessionKey": key.public_jwk})
    assert response.status_code == 200, response.text


async def test_session_key_not_in_the_message_is_refused(
    server: Server, node_clients: NodeClients
) -> None:
    key = node_clients.session_key("Ed25519")
    body = await eth_signed(server, node_clients)
    response = await login(server, {**body, "sessionKey": key.public_jwk})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_session_key"


NEGATIVE = [
    "replayed timestamp",
    "older timestamp",
    "stale clock",
    "future clock",
    "other domain",
    "other key's signature",
    "unknown thumbprint",
    "revoked",
    "after logout",
]


@pytest.mark.parametrize("case", NEGATIVE)
async def test_session_key_proof_is_refused(
    server: Server, node_clients: NodeClients, case: str
) -> None:
    key, tokens, thumbprint = await authorised(server, node_clients, "Ed25519")
    stamp = now_ms(server)
    if case in ("replayed timestamp", "older timestamp"):
        assert (
            await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
        ).status_code == 200
        if case == "older timestamp":
            stamp -= 1000
    elif case == "stale clock":
        stamp -= 31_000
    elif case == "future clock":
        stamp += 31_000
    elif case == "revoked":
        gone = await server.client.delete(
            f"/auth/session-keys/{thumbprint}", headers=bearer(tokens["accessToken"])
        )
        assert gone.status_code == 204
    elif case == "after logout":
        out = await server.post("/auth/logout", headers=bearer(tokens["accessToken"]))
        assert out.status_code == 204
    signature = proof(node_clients, key, stamp)
    if case == "other domain":
        signature = proof(node_clients, key, stamp, domain="evil.example")
    if case == "other key's signature":
        signature = proof(node_clients, node_clients.session_key("Ed25519"), stamp)
    if case == "unknown thumbprint":
        thumbprint = "A" * 43
    response = await token(server, thumbprint, stamp, signature)
    assert response.status_code == 401, response.text
    bad_proof = case in ("other domain", "other key's signature")
    assert response.json()["error"] == ("invalid_signature" if bad_proof else "invalid_session_key")


async def test_revoking_someone_elses_key_is_404(server: Server, node_clients: NodeClients) -> None:
    _, _, thumbprint = await authorised(server, node_clients, "Ed25519")
    other = await login(server, await eth_signed(server, node_clients, "0x" + "33" * 32))
    response = await server.client.delete(
        f"/auth/session-keys/{thumbprint}", headers=bearer(other.json()["accessToken"])
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
