"""Tests for keyfob.integrations.fastapi: the KeyfobBearer dependency in a real FastAPI app.

No ``from __future__ import annotations`` here: FastAPI must see the real ``Annotated`` objects of
routes defined inside a function.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from keyfob.core.keys import SigningKey, generate_signing_key
from keyfob.core.tokens import AccessTokenClaims
from keyfob.integrations.denylist import StaticDenylist
from keyfob.integrations.fastapi import KeyfobBearer, install_error_handler
from keyfob.integrations.verifier import TokenVerifier
from tests.integrations.test_verifier import AUD, ISS, KeyfobStub, issue

KEY = generate_signing_key("EdDSA")
DENYLIST = StaticDenylist()


@pytest.fixture
def stub() -> Iterator[KeyfobStub]:
    with KeyfobStub() as server:
        server.publish(KEY)
        yield server


def make_app(stub: KeyfobStub, *, flat_errors: bool) -> FastAPI:
    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url, denylist=DENYLIST)
    bearer = KeyfobBearer(verifier)
    app = FastAPI()
    if flat_errors:
        install_error_handler(app)

    @app.get("/profile")
    async def profile(claims: Annotated[AccessTokenClaims, Depends(bearer)]) -> dict[str, Any]:
        return {"sub": claims.subject, "address": claims.address, "amr": list(claims.amr)}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.fixture
async def client(stub: KeyfobStub) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(stub, flat_errors=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


async def test_valid_token_gives_claims(client: httpx.AsyncClient) -> None:
    response = await client.get("/profile", headers={"Authorization": f"Bearer {issue(KEY)}"})
    assert response.status_code == 200
    assert response.json() == {
        "sub": "user-1",
        "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "amr": ["ethereum"],
    }
    # The scheme name is case-insensitive (RFC 7235).
    response = await client.get("/profile", headers={"Authorization": f"bearer {issue(KEY)}"})
    assert response.status_code == 200


async def test_unguarded_route_needs_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/open")).json() == {"ok": "yes"}


async def test_missing_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/profile")
    assert response.status_code == 401
    # RFC 6750 section 3.1: no error code when the request had no credentials at all.
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": "invalid_token",
        "message": "This needs a Bearer access token in the Authorization header.",
    }


OTHER = generate_signing_key("EdDSA")
REVOKED_TOKEN = issue(KEY)


def _revoked() -> str:
    DENYLIST.add(jwt.decode(REVOKED_TOKEN, options={"verify_signature": False})["jti"])
    return f"Bearer {REVOKED_TOKEN}"


NEGATIVE: list[tuple[str, Any, str, str]] = [
    ("garbage", lambda: "Bearer not-a-token", "invalid_token", "well-formed"),
    ("basic-scheme", lambda: "Basic dXNlcjpwYXNz", "invalid_token", "Bearer <access token>"),
    ("bearer-without-token", lambda: "Bearer ", "invalid_token", "Bearer <access token>"),
    ("unknown-key", lambda: f"Bearer {issue(OTHER)}", "invalid_token", "key we do not know"),
    ("wrong-audience", lambda: f"Bearer {issue(KEY, audience='x')}", "invalid_token", "audience"),
    ("expired", lambda: f"Bearer {_expired(KEY)}", "invalid_token", "has expired"),
    ("revoked", _revoked, "token_revoked", "revoked"),
]


def _expired(key: SigningKey) -> str:
    return issue(key, now=datetime.now(UTC) - timedelta(hours=1), ttl=60)


@pytest.mark.parametrize(
    ("authorization", "code", "reason"),
    [(a, c, r) for _, a, c, r in NEGATIVE],
    ids=[n for n, *_ in NEGATIVE],
)
async def test_refused(
    client: httpx.AsyncClient, authorization: Any, code: str, reason: str
) -> None:
    response = await client.get("/profile", headers={"Authorization": authorization()})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == code
    assert reason in body["message"]


async def test_without_the_handler_fastapi_nests_the_error(stub: KeyfobStub) -> None:
    transport = httpx.ASGITransport(app=make_app(stub, flat_errors=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/profile", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"]["error"] == "invalid_token"


async def test_openapi_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["keyfob"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "keyfob access token",
    }
    assert schema["paths"]["/profile"]["get"]["security"] == [{"keyfob": []}]
    assert "security" not in schema["paths"]["/open"]["get"]
