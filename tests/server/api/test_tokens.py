"""Refresh rotation, reuse detection, logout, and tokens of the wrong kind at the Bearer door."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from keyfob.core.challenge import issue_challenge
from keyfob.core.tokens import AccessTokenClaims
from keyfob.errors import InvalidToken, TokenRevoked
from keyfob.server.api.login import challenge_audience
from keyfob.server.services.tokens import verify_account_token, verify_bearer
from tests.node_clients import NodeClients
from tests.server.conftest import Server
from tests.server.signin import bearer, signed_in


async def verify_any(server: Server, token: str) -> AccessTokenClaims:
    """The server's check of the token: account tokens as the account API, others as apps'."""
    if jwt.get_unverified_header(token)["kid"] == "keyfob-account":
        return await verify_account_token(server.runtime, token)
    return await verify_bearer(server.runtime, token)


async def refresh(server: Server, token: str) -> Any:
    return await server.post("/auth/refresh", {"refreshToken": token})


async def test_refresh_rotates_and_keeps_the_user(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    response = await refresh(server, tokens["refreshToken"])
    assert response.status_code == 200, response.text
    renewed = response.json()
    assert renewed["refreshToken"] != tokens["refreshToken"]
    assert renewed["user"]["id"] == tokens["user"]["id"]
    old = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    new = jwt.decode(renewed["accessToken"], options={"verify_signature": False})
    assert new["sid"] == old["sid"]
    assert new["jti"] != old["jti"]
    account_claims = jwt.decode(renewed["accountToken"], options={"verify_signature": False})
    assert account_claims["sid"] == old["sid"]
    assert (
        await server.client.get("/auth/me", headers=bearer(renewed["accountToken"]))
    ).status_code == 200


async def test_immediate_predecessor_within_grace_is_superseded_not_revoked(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    renewed = (await refresh(server, tokens["refreshToken"])).json()
    raced = await refresh(server, tokens["refreshToken"])
    assert raced.status_code == 401
    assert raced.json()["error"] == "refresh_token_superseded"
    # The session survives: the newer token still works.
    assert (await refresh(server, renewed["refreshToken"])).status_code == 200


async def test_reused_refresh_token_revokes_the_whole_family(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    renewed = (await refresh(server, tokens["refreshToken"])).json()
    server.clock.advance(11)  # past the 10 s grace
    reused = await refresh(server, tokens["refreshToken"])
    assert reused.status_code == 401
    assert reused.json()["error"] == "refresh_token_reused"
    after = await refresh(server, renewed["refreshToken"])
    assert after.status_code == 401
    assert after.json()["error"] in ("token_revoked", "refresh_token_reused")
    me = await server.client.get("/auth/me", headers=bearer(renewed["accountToken"]))
    assert me.status_code == 401
    assert me.json()["error"] == "token_revoked"


async def test_older_ancestor_is_reuse_even_within_grace(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    second = (await refresh(server, tokens["refreshToken"])).json()
    (await refresh(server, second["refreshToken"])).json()
    reused = await refresh(server, tokens["refreshToken"])
    assert reused.json()["error"] == "refresh_token_reused"


async def test_refresh_token_expires(make_server: Any, node_clients: NodeClients) -> None:
    async with make_server(refresh_token_ttl=120) as server:
        tokens = await signed_in(server, node_clients)
        server.clock.advance(121)
        response = await refresh(server, tokens["refreshToken"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_logout_revokes_access_and_refresh(server: Server, node_clients: NodeClients) -> None:
    tokens = await signed_in(server, node_clients)
    other = await signed_in(server, node_clients)
    out = await server.post(
        "/auth/logout",
        {"refreshToken": tokens["refreshToken"]},
        headers=bearer(tokens["accessToken"]),
    )
    assert out.status_code == 204
    for token in (tokens["accountToken"], tokens["accessToken"]):
        with pytest.raises(TokenRevoked):
            await verify_any(server, token)
    me = await server.client.get("/auth/me", headers=bearer(tokens["accountToken"]))
    assert me.status_code == 401
    assert me.json()["error"] == "token_revoked"
    assert (await refresh(server, tokens["refreshToken"])).status_code == 401
    denied = (await server.client.get("/auth/denylist")).json()["revoked"]
    jti = jwt.decode(tokens["accessToken"], options={"verify_signature": False})["jti"]
    assert jti in [entry["jti"] for entry in denied]
    # Another session of the same user is untouched.
    assert (
        await server.client.get("/auth/me", headers=bearer(other["accountToken"]))
    ).status_code == 200


async def test_logout_takes_the_account_token_too(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    out = await server.post("/auth/logout", headers=bearer(tokens["accountToken"]))
    assert out.status_code == 204, out.text
    with pytest.raises(TokenRevoked):
        await verify_bearer(server.runtime, tokens["accessToken"])
    assert (await refresh(server, tokens["refreshToken"])).status_code == 401


async def test_access_token_expires(server: Server, node_clients: NodeClients) -> None:
    tokens = await signed_in(server, node_clients)
    server.clock.advance(901)
    for token in (tokens["accountToken"], tokens["accessToken"]):
        with pytest.raises(InvalidToken, match="expired"):
            await verify_any(server, token)
    me = await server.client.get("/auth/me", headers=bearer(tokens["accountToken"]))
    assert me.status_code == 401
    assert me.json()["error"] == "invalid_token"


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _private_key(server: Server) -> Ed25519PrivateKey:
    key = server.runtime.keyring.current.current.private_key
    assert isinstance(key, Ed25519PrivateKey)
    return key


async def _wrong_kind(server: Server, clients: NodeClients, kind: str) -> str:
    tokens = await signed_in(server, clients)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["accessToken"])["kid"]
    if kind == "alg none":
        return _b64({"alg": "none", "typ": "at+jwt", "kid": kid}) + "." + _b64(claims) + "."
    if kind == "HS256 signed with our public key":
        jwk = (await server.client.get("/.well-known/jwks.json")).json()["keys"][0]
        raw = base64.urlsafe_b64decode(jwk["x"] + "==")
        pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = _b64({"alg": "HS256", "typ": "at+jwt", "kid": kid})
        body = _b64(claims)
        import hashlib
        import hmac

        mac = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    if kind == "refresh token":
        return str(tokens["refreshToken"])
    if kind == "challenge":
        # Minted as the (off by default) seed 000 endpoint would: never an access token either.
        return issue_challenge(
            key=server.runtime.challenge_key,
            issuer=server.runtime.settings.issuer,
            audience=challenge_audience(server.runtime),
            now=server.clock(),
            ttl=300,
        ).token
    if kind == "tampered payload":
        header, _, signature = tokens["accessToken"].split(".")
        return f"{header}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}"
    if kind == "wrong audience":
        return jwt.encode(
            {**claims, "aud": "https://other.example"},
            _private_key(server),
            algorithm="EdDSA",
            headers={"kid": kid, "typ": "at+jwt"},
        )
    if kind == "wrong typ":
        return jwt.encode(
            claims, _private_key(server), algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"}
        )
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "alg none",
        "HS256 signed with our public key",
        "refresh token",
        "challenge",
        "tampered payload",
        "wrong audience",
        "wrong typ",
    ],
)
async def test_wrong_kind_of_token_is_not_an_access_token(
    server: Server, node_clients: NodeClients, kind: str
) -> None:
    token = await _wrong_kind(server, node_clients, kind)
    # Neither the app-token check (what apps' tokens pass) nor the account API takes it.
    with pytest.raises(InvalidToken):
        await verify_bearer(server.runtime, token)
    me = await server.client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 401, me.text
    assert me.json()["error"] == "invalid_token"
