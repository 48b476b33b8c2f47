"""Health, JWKS, OpenAPI, and the error contract: bad input never yields a 500."""

from __future__ import annotations

import pytest

from tests.server.conftest import Server


async def test_healthz_and_docs(server: Server) -> None:
    assert (await server.client.get("/healthz")).json() == {"status": "ok"}
    assert (await server.client.get("/docs")).status_code == 200
    spec = (await server.client.get("/openapi.json")).json()
    assert "/auth/login" in spec["paths"]


async def test_jwks_lists_the_current_keys(server: Server) -> None:
    """The token key, and OpenID Connect's ID-token keys once made (RS256 on its first ID
    token; EdDSA is shared with the token key), each kid once, no private member."""
    keys = (await server.client.get("/.well-known/jwks.json")).json()["keys"]
    assert [key["alg"] for key in keys] == ["EdDSA"]
    assert keys[0]["kid"] == server.runtime.keyring.current.current.kid
    await server.app.state.oidc.keys.id_token_key("RS256", now=server.clock())
    await server.app.state.oidc.keys.id_token_key("ES256", now=server.clock())
    keys = (await server.client.get("/.well-known/jwks.json")).json()["keys"]
    assert sorted(key["alg"] for key in keys) == ["ES256", "EdDSA", "RS256"]
    assert len({key["kid"] for key in keys}) == 3
    assert all("d" not in key and "p" not in key for key in keys)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/auth/nonce", b"{not json", 422, "invalid_request"),
        ("POST", "/auth/nonce", b'{"chain": "bitcoin"}', 422, "invalid_request"),
        ("POST", "/auth/nonce", b'{"chain": "ethereum", "extra": 1}', 422, "invalid_request"),
        (
            "POST",
            "/auth/nonce",
            b'{"chain": "ethereum", "address": "0x12"}',
            422,
            "invalid_request",
        ),
        ("POST", "/auth/nonce", b'{"chain": "ethereum", "chainId": 5}', 401, "message_mismatch"),
        (
            "POST",
            "/auth/nonce",
            b'{"chain": "nimiq", "address": "NQ00 0000"}',
            422,
            "invalid_request",
        ),
        ("POST", "/auth/nonce", b'{"chain": "solana", "address": "0OIl"}', 422, "invalid_request"),
        (
            "POST",
            "/auth/nonce",
            b'{"chain": "ethereum", "sessionKey": {"kty": "RSA"}}',
            401,
            "invalid_session_key",
        ),
        ("POST", "/auth/login", b"[]", 422, "invalid_request"),
        (
            "POST",
            "/auth/login",
            b'{"chain": "ethereum", "message": "hi", "signature": "0x"}',
            400,
            "invalid_message",
        ),
        (
            "POST",
            "/auth/login",
            b'{"chain": "nimiq", "message": "hi", "signature": "00"}',
            422,
            "invalid_request",
        ),
        ("POST", "/auth/refresh", b'{"refreshToken": "kfr_nope"}', 401, "invalid_token"),
        ("POST", "/auth/logout", b"{}", 401, "invalid_token"),
        ("GET", "/auth/me", None, 401, "invalid_token"),
        (
            "POST",
            "/auth/session-key/token",
            b'{"thumbprint": "x", "timestamp": 1, "signature": "AA"}',
            401,
            "invalid_session_key",
        ),
        ("GET", "/nowhere", None, 404, "not_found"),
        ("DELETE", "/auth/nonce", None, 405, "method_not_allowed"),
    ],
)
async def test_bad_input_gets_a_clear_error(
    server: Server, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    response = await server.client.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["error"] == code
    assert payload["message"].endswith((".", "!"))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not.a.jwt", "Basic abc", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
async def test_bad_bearer_is_401(server: Server, authorization: str) -> None:
    response = await server.client.get("/auth/me", headers={"authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_body_over_64_kib_is_413(server: Server) -> None:
    body = b'{"chain": "ethereum", "address": "' + b"a" * 70_000 + b'"}'
    response = await server.client.post(
        "/auth/nonce", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_rate_limit_answers_429(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server(rate_limit=3) as server:
        statuses = [
            (await server.post("/auth/nonce", {"chain": "ethereum"})).status_code for _ in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]
