"""A pure-ASGI fast path for the JSON endpoints on every sign-in's path.

``POST /auth/nonce``, ``/auth/login``, ``/auth/refresh``, ``/auth/session-key/token`` and the
passkey sign-in pair ``/auth/passkey/login/options`` and ``/verify`` are answered here without
FastAPI's router and dependency machinery (measured at ~100 µs of a ~200 µs request): the body
is validated with the same pydantic model, handed to the same handler the FastAPI route calls,
and errors get the same ``{"error", "message"}`` body. The FastAPI routes stay registered: they
document these endpoints in OpenAPI and serve them whenever the fast path is not installed
(``create_app(fast_path=False)``); the tests run both.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from keyfob.errors import KeyfobError
from keyfob.server.infra.client_address import client_address
from keyfob.server.infra.errors import describe_validation
from keyfob.server.infra.middleware import ASGIApp, Receive, Scope, Send, send_json, send_json_error
from keyfob.server.infra.runtime import Runtime
from keyfob.server.login import sign_in
from keyfob.server.nonce import issue_nonce
from keyfob.server.passkeys import sign_in_options, sign_in_with_passkey
from keyfob.server.refresh import refresh_tokens
from keyfob.server.schemas import (
    LoginRequest,
    NonceRequest,
    PasskeyOptionsRequest,
    PasskeyVerifyRequest,
    RefreshRequest,
    SessionKeyTokenRequest,
)
from keyfob.server.session_keys import mint_for_session_key

log = logging.getLogger("keyfob")

Handler = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True)
class JsonRoute:
    """A body model and the handler that turns it into a response model; ``with_ip`` handlers
    also get the client's address (for the audit log)."""

    model: type[BaseModel]
    handler: Handler
    with_ip: bool = False


ROUTES: dict[str, JsonRoute] = {
    "/auth/nonce": JsonRoute(NonceRequest, issue_nonce),
    "/auth/login": JsonRoute(LoginRequest, sign_in, with_ip=True),
    "/auth/refresh": JsonRoute(RefreshRequest, refresh_tokens),
    "/auth/session-key/token": JsonRoute(SessionKeyTokenRequest, mint_for_session_key),
    "/auth/passkey/login/options": JsonRoute(PasskeyOptionsRequest, sign_in_options),
    "/auth/passkey/login/verify": JsonRoute(
        PasskeyVerifyRequest, sign_in_with_passkey, with_ip=True
    ),
}


class FastPath:
    """Serve :data:`ROUTES` directly; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, runtime: Callable[[], Runtime]) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        # Read outside the try: BodyLimitMiddleware's receive raises past us to answer 413.
        body = await _read_body(receive)
        try:
            request = route.model.model_validate_json(body)
            runtime = self.runtime()
            if route.with_ip:
                ip = client_address(scope, runtime.settings.proxies)
                result = await route.handler(runtime, request, ip)
            else:
                result = await route.handler(runtime, request)
        except ValidationError as exc:
            await send_json_error(send, 422, "invalid_request", describe_validation(exc.errors()))
        except KeyfobError as exc:
            if exc.status >= 500:
                log.error("%s: %s", exc.code, exc.message)
            await send_json_error(send, exc.status, exc.code, exc.message)
        except Exception:
            log.exception("unexpected error on %s", scope["path"])
            await send_json_error(
                send, 500, "internal_error", "keyfob hit an unexpected error; it was logged."
            )
        else:
            await send_json(send, 200, result.model_dump_json(by_alias=True).encode())


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
