"""App session keys (seed 001) with WebCrypto keys made by Node, authorised by a viem signature."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from keyfob.server.services.tokens import verify_bearer
from tests.node_clients import NodeClients, SessionKey
from tests.server.conftest import Server
from tests.server.signin import (
    ETH_KEY,
    account,
    bearer,
    eth_signed,
    login,
    nonce,
    siwe_fields,
    wallet_step_up,
)

DOMAIN = "localhost:8000"


def tokens_sid(tokens: dict[str, Any]) -> str | None:
    """The ``sid`` of a token response's access token (read without verifying)."""
    sid = jwt.decode(tokens["accessToken"], options={"verify_signature": False}).get("sid")
    return sid if isinstance(sid, str) else None


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
    # An app token (aud: the apps' audience, as apps verify it): keyfob's account API refuses it.
    claims = await verify_bearer(server.runtime, access)
    assert (claims.subject, claims.session_id) == (tokens["user"]["id"], tokens_sid(tokens))
    assert claims.amr == ("pop", "session_key")
    me = await server.client.get("/auth/me", headers=bearer(access))
    assert me.status_code == 401, me.text
    assert "account token" in me.json()["message"]
    listed = (await server.client.get("/auth/session-keys", headers=account(tokens))).json()
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
            f"/auth/session-keys/{thumbprint}", headers=account(tokens)
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
        f"/auth/session-keys/{thumbprint}", headers=account(other.json())
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_revoking_a_key_of_another_session_needs_a_step_up(
    server: Server, node_clients: NodeClients
) -> None:
    """A key of this session goes with the account token alone; one of another session of the
    same user needs a step-up grant (without it, a stolen token could cut the user's apps off:
    this test fails on the version before step-up, which revoked it at once)."""
    _, first, thumbprint = await authorised(server, node_clients, "Ed25519")
    second = (await login(server, await eth_signed(server, node_clients))).json()
    path = f"/auth/session-keys/{thumbprint}"
    refused = await server.client.delete(path, headers=account(second))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "step_up_required"
    # An app token is refused before the step-up is even looked at.
    app = await server.client.delete(path, headers=bearer(second["accessToken"]))
    assert (app.status_code, app.json()["error"]) == (401, "invalid_token")
    assert [
        k["thumbprint"]
        for k in (await server.client.get("/auth/session-keys", headers=account(first))).json()
    ] == [thumbprint]
    grant = await wallet_step_up(server, node_clients, second)
    done = await server.client.delete(path, headers=account(second, grant))
    assert done.status_code == 204, done.text
    assert (await server.client.get("/auth/session-keys", headers=account(first))).json() == []
