"""The authorization code flow end to end over ASGI, on both databases."""

from __future__ import annotations

import jwt
import pytest

from keyfob.core.oidc_core import at_hash
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.oidc.flow import code_for, exchange, pkce, register

pytestmark = pytest.mark.usefixtures("node_clients")


@pytest.fixture
def routing() -> str:
    return "fastpath"  # OIDC does not go through the JSON API's fast path


async def test_code_flow_with_pkce(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    verifier, challenge = pkce()
    params = await code_for(
        server, node_clients, rp, code_challenge=challenge, code_challenge_method="S256"
    )
    assert params["state"] == "st-1"
    assert params["iss"] == PUBLIC_URL
    response = await exchange(server, rp, params["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    jwks = (await server.client.get("/.well-known/jwks.json")).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=rp.id,
        issuer=PUBLIC_URL,
    )
    assert claims["nonce"] == "n-1"
    assert claims["at_hash"] == at_hash(tokens["access_token"], alg="RS256")
    assert "sid" in claims
    assert "auth_time" in claims
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["preferred_username"].startswith("0x")
    again = await exchange(server, rp, params["code"], verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    revoked = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"].startswith("Bearer")


async def test_discovery(server: Server) -> None:
    document = (await server.client.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == PUBLIC_URL
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["request_parameter_supported"] is False
    assert document["authorization_response_iss_parameter_supported"] is True
    oauth = (await server.client.get("/.well-known/oauth-authorization-server")).json()
    assert oauth == document
