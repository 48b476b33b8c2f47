"""Tests for keyfob.integrations.asgi: the allowlist middleware around a real Starlette app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from keyfob.core.keys import generate_signing_key
from keyfob.errors import InvalidToken
from keyfob.integrations.asgi import KeyfobAuthMiddleware, bearer_token, claims_of
from keyfob.integrations.verifier import TokenVerifier
from tests.integrations.test_verifier import AUD, ISS, KeyfobStub, issue

KEY = generate_signing_key("ES256")
ALLOW = ["/health", "/public/*", "/docs"]


async def whoami(request: Request) -> JSONResponse:
    claims = getattr(request.state, "keyfob", None)
    return JSONResponse({"sub": claims.subject if claims else None, "path": request.url.path})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"sub": claims_of(websocket).subject})
    await websocket.close()


def make_app(stub: KeyfobStub) -> KeyfobAuthMiddleware:
    routes = [
        Route("/{path:path}", whoami),
        WebSocketRoute("/ws", echo),
    ]
    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url)
    return KeyfobAuthMiddleware(Starlette(routes=routes), verifier=verifier, allow=ALLOW)


@pytest.fixture
def stub() -> Iterator[KeyfobStub]:
    with KeyfobStub() as server:
        server.publish(KEY)
        yield server


@pytest.fixture
async def client(stub: KeyfobStub) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(stub))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


@pytest.mark.parametrize("path", ["/health", "/public", "/public/", "/public/a/b", "/docs"])
async def test_allowlisted_paths_need_no_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json()["sub"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/private",
        "/health/",
        "/healthz",
        "/publicity",
        "/docs/x",
    ],
)
async def test_other_paths_need_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "invalid_token",
        "message": "This needs a Bearer access token in the Authorization header.",
    }


@pytest.mark.parametrize("path", ["/public/../private", "/public/./x", "/public/x/.."])
async def test_dot_segments_never_match_a_prefix(stub: KeyfobStub, path: str) -> None:
    # HTTP clients normalise such paths; a raw request (or a proxy) may not.
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await make_app(stub)(_http_scope(path, []), _no_messages, send)
    assert sent[0]["status"] == 401


async def test_valid_token_reaches_the_app_with_claims(client: httpx.AsyncClient) -> None:
    response = await client.get("/private", headers={"Authorization": f"Bearer {issue(KEY)}"})
    assert response.status_code == 200
    assert response.json() == {"sub": "user-1", "path": "/private"}


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer nope", "well-formed"),
        ("Token abc", "Bearer <access token>"),
        (f"Bearer {issue(generate_signing_key('EdDSA'))}", "key we do not know"),
        (f"Bearer {issue(KEY, issuer='https://evil.example.com')}", "someone else"),
    ],
    ids=["garbage", "other-scheme", "unknown-key", "wrong-issuer"],
)
async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient, authorization: str, reason: str
) -> None:
    response = await client.get("/private", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["message"]


async def test_errors_raised_by_the_app_are_not_turned_into_401(stub: KeyfobStub) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise InvalidToken("raised by the app itself")

    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url)
    middleware = KeyfobAuthMiddleware(app, verifier=verifier)
    scope = _http_scope("/x", [(b"authorization", f"Bearer {issue(KEY)}".encode())])
    with pytest.raises(InvalidToken, match="raised by the app itself"):
        await middleware(scope, _no_messages, _discard)


def _http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "path": path, "headers": headers, "method": "GET"}


async def _no_messages() -> dict[str, Any]:
    raise AssertionError("nothing should be received")


async def _discard(message: Any) -> None:
    pass


async def test_lifespan_and_shared_state_are_left_alone(stub: KeyfobStub) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url)
    middleware = KeyfobAuthMiddleware(app, verifier=verifier)
    lifespan = {"type": "lifespan", "state": {}}
    await middleware(lifespan, _no_messages, _discard)
    assert seen == [lifespan]

    shared_state = {"db": "pool"}
    scope = _http_scope("/x", [(b"authorization", f"Bearer {issue(KEY)}".encode())])
    scope["state"] = shared_state
    await middleware(scope, _no_messages, _discard)
    assert seen[1]["state"]["db"] == "pool"
    assert claims_of(seen[1]).subject == "user-1"
    assert shared_state == {"db": "pool"}  # the lifespan state dict itself is not mutated


async def _run_websocket(
    stub: KeyfobStub, headers: list[tuple[bytes, bytes]], extensions: dict[str, Any]
) -> list[dict[str, Any]]:
    """Drive a WebSocket handshake through the middleware and the real Starlette app."""
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": headers,
        "subprotocols": [],
        "extensions": extensions,
    }
    await make_app(stub)(scope, receive, send)
    return sent


async def test_websocket_with_token_reaches_the_app(stub: KeyfobStub) -> None:
    headers = [(b"authorization", f"Bearer {issue(KEY)}".encode())]
    sent = await _run_websocket(stub, headers, {})
    assert sent[0]["type"] == "websocket.accept"
    assert json.loads(sent[1]["text"]) == {"sub": "user-1"}


async def test_websocket_denial_is_a_real_401_when_the_server_allows(stub: KeyfobStub) -> None:
    sent = await _run_websocket(stub, [], {"websocket.http.response": {}})
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 401
    assert (b"www-authenticate", b"Bearer") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"] == "invalid_token"


async def test_websocket_without_denial_extension_is_closed_with_1008(stub: KeyfobStub) -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url=stub.jwks_url)
    middleware = KeyfobAuthMiddleware(app, verifier=verifier)
    scope = {"type": "websocket", "path": "/ws", "headers": [(b"authorization", b"Bearer x")]}
    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "invalid_token"}]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("BEARER abc", "abc"),
    ],
)
def test_bearer_token_parsing(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   ", "abc"])
def test_bearer_token_refusals(header: str) -> None:
    with pytest.raises(InvalidToken):
        bearer_token(header)


def test_claims_of_without_middleware() -> None:
    with pytest.raises(InvalidToken):
        claims_of({"type": "http"})
