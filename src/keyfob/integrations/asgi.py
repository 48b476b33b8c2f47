"""A pure ASGI middleware that asks for a keyfob access token on every route but an allowlist.

Seed 002's ``GlobalJwtGuard``: wrap the whole app, list the public paths, and every other HTTP
request and WebSocket handshake needs ``Authorization: Bearer <access token>``. The verified
:class:`~keyfob.core.tokens.AccessTokenClaims` go in ``scope["state"]["keyfob"]`` (in Starlette
and FastAPI: ``request.state.keyfob``, or :func:`claims_of`); ``scope["user"]`` is left alone, as
Starlette's ``AuthenticationMiddleware`` owns it. Lifespan and other scopes pass straight through.

Put CORS middleware *outside* this one, so that browsers' preflight requests (which never carry
credentials) are answered before the token check.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from keyfob.core.tokens import AccessTokenClaims
from keyfob.errors import InvalidToken, KeyfobError
from keyfob.integrations.verifier import TokenVerifier

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "keyfob"
MISSING_TOKEN = "This needs a Bearer access token in the Authorization header."


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when there is no header at all."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("The Authorization header must be 'Bearer <access token>'.")
    return token


def www_authenticate(error: KeyfobError | None) -> str:
    """The RFC 6750 challenge: no error code when credentials were missing, else invalid_token."""
    return 'Bearer error="invalid_token"' if error is not None else "Bearer"


def error_body(error: KeyfobError | None) -> dict[str, str]:
    """keyfob's error shape, ``{"error": code, "message": sentence}``."""
    if error is None:
        return {"error": InvalidToken.code, "message": MISSING_TOKEN}
    return {"error": error.code, "message": error.message}


def claims_of(scope_or_request: Any) -> AccessTokenClaims:
    """The claims the middleware verified, from an ASGI scope or a Starlette request."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    claims = scope.get("state", {}).get(STATE_KEY)
    if not isinstance(claims, AccessTokenClaims):
        raise InvalidToken(MISSING_TOKEN)
    return claims


class KeyfobAuthMiddleware:
    """Requires a valid keyfob access token except on ``allow``ed paths.

    ``allow`` holds exact paths (``"/health"``) and prefixes written ``"/public/*"``, which match
    ``/public`` and everything below it. Paths with ``.`` or ``..`` segments never match a prefix.
    """

    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier, allow: Iterable[str] = ()) -> None:
        self.app = app
        self.verifier = verifier
        patterns = tuple(allow)
        prefixes = tuple(p[:-1] for p in patterns if p.endswith("/*"))
        self._exact = frozenset(p for p in patterns if not p.endswith("/*")) | {
            p[:-1] for p in prefixes if p[:-1]
        }
        self._prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token of HTTP and WebSocket scopes, then call the wrapped app."""
        kind = scope["type"]
        if (kind != "http" and kind != "websocket") or self._allowed(scope["path"]):
            await self.app(scope, receive, send)
            return
        error: KeyfobError | None = None
        claims: AccessTokenClaims | None = None
        try:
            token = bearer_token(_header(scope, b"authorization"))
            if token is not None:
                claims = await self.verifier.verify(token)
        except KeyfobError as exc:
            error = exc
        if claims is not None:
            # A new state dict, as a server may share one (lifespan state) between requests.
            scope["state"] = {**scope.get("state", {}), STATE_KEY: claims}
            await self.app(scope, receive, send)
        elif kind == "http":
            await _reject_http(send, error)
        else:
            await _reject_websocket(scope, receive, send, error)

    def _allowed(self, path: str) -> bool:
        if path in self._exact:
            return True
        if not self._prefixes or not path.startswith(self._prefixes):
            return False
        return not any(segment in (".", "..") for segment in path.split("/"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _response_start(error: KeyfobError | None, body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", www_authenticate(error).encode()),
        (b"cache-control", b"no-store"),
    ]


async def _reject_http(send: Send, error: KeyfobError | None) -> None:
    body = json.dumps(error_body(error)).encode()
    headers = _response_start(error, body)
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _reject_websocket(
    scope: Scope, receive: Receive, send: Send, error: KeyfobError | None
) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps(error_body(error)).encode()
        headers = _response_start(error, body)
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        # 1008: policy violation; servers turn a close before accept into HTTP 403.
        await send({"type": "websocket.close", "code": 1008, "reason": "invalid_token"})
