"""Cache-Control on every response that carries a token or secret; HSTS on https.

Each test runs through the ASGI fast path and through FastAPI's routes (the ``routing``
fixture); without :class:`keyfob.server.infra.headers.SecurityHeadersMiddleware` the token responses
carry no Cache-Control at all and no response carries HSTS.
"""

from __future__ import annotations

import httpx

from keyfob.server.infra.headers import HSTS
from keyfob.server.services.clients import create_client
from tests.node_clients import NodeClients
from tests.server.admin.panel import sign_in_panel
from tests.server.api.test_passkeys import (
    AUTH_CHALLENGE,
    REG_CHALLENGE,
    assertion_of,
    issue,
    register_vector,
    sign_in_vector,
    vector_server,
)
from tests.server.api.test_session_keys import now_ms, proof, token
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import bearer, eth_signed, login


def assert_not_stored(response: httpx.Response, status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_wallet_token_responses_are_not_stored(
    server: Server, node_clients: NodeClients
) -> None:
    key = node_clients.session_key("Ed25519")
    body = await eth_signed(server, node_clients, sessionKey=key.public_jwk)
    signed_in = await login(server, body)
    assert_not_stored(signed_in)
    tokens = signed_in.json()
    refreshed = await server.post("/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert_not_stored(refreshed)
    thumbprint = body["message"].split("urn:keyfob:session-key:")[1].split("\n")[0]
    stamp = now_ms(server)
    minted = await token(server, thumbprint, stamp, proof(node_clients, key, stamp))
    assert_not_stored(minted)
    assert "accessToken" in minted.json()
    assert_not_stored(await server.post("/auth/challenge"), 404)  # off by default: an error
    assert_not_stored(await server.post("/auth/nonce", {"chain": "ethereum"}))
    assert_not_stored(await server.client.get("/auth/nonce", params={"chain": "solana"}))
    me = await server.client.get("/auth/me", headers=bearer(refreshed.json()["accountToken"]))
    assert_not_stored(me)
    # errors too: a refused refresh token says nothing a cache should keep
    assert_not_stored(await server.post("/auth/refresh", {"refreshToken": "kfr_x"}), 401)


async def test_the_legacy_challenge_is_not_stored(make_server: ServerFactory) -> None:
    async with make_server(legacy_nimiq_challenge=True) as server:
        assert_not_stored(await server.post("/auth/challenge"))


async def test_passkey_token_responses_are_not_stored(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        await issue(server, REG_CHALLENGE, "register")
        registered = await register_vector(server)
        assert_not_stored(registered)
        await issue(server, AUTH_CHALLENGE, "login")
        signed_in = await sign_in_vector(server, assertion_of(registered.json()["user"]["id"]))
        assert_not_stored(signed_in)
        options = await server.post("/auth/passkey/login/options", {})
        assert_not_stored(options)


async def test_admin_secret_page_is_not_stored(server: Server) -> None:
    panel = await sign_in_panel(server)
    client, _ = await create_client(server.runtime, name="App", redirect_uris=[])
    rotated = await panel.post(f"/admin/clients/{client.id}/rotate")
    assert_not_stored(rotated)
    assert "secret" in rotated.text.lower()


async def test_public_documents_stay_cacheable(server: Server) -> None:
    for path in ("/.well-known/jwks.json", "/healthz"):
        response = await server.client.get(path)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("cache-control", "")
        assert "pragma" not in response.headers


async def test_hsts_on_every_response_when_public_url_is_https(make_server: ServerFactory) -> None:
    async with make_server(public_url="https://auth.example.test", max_body_bytes=1024) as server:
        responses = [
            await server.client.get("/healthz"),
            await server.post("/auth/nonce", {"chain": "ethereum"}),  # the fast path's route
            await server.post("/auth/refresh", {"refreshToken": "kfr_x"}),  # an error
            await server.client.get("/nowhere"),  # 404
            await server.client.get("/admin/login"),  # a page
            await server.client.get("/static/keyfob.css"),
            await server.post("/auth/login", {"message": "x" * 2048}),  # 413, before routing
        ]
        for response in responses:
            assert response.headers["strict-transport-security"] == HSTS, response.url
        assert responses[-1].status_code == 413


async def test_no_hsts_on_plain_http(server: Server) -> None:
    for response in (
        await server.client.get("/healthz"),
        await server.post("/auth/nonce", {"chain": "ethereum"}),
        await server.client.get("/admin/login"),
    ):
        assert "strict-transport-security" not in response.headers
