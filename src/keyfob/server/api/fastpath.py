"""A pure-ASGI fast path for the JSON endpoints on every sign-in's path.

The :class:`~keyfob.server.api.routing.JsonRoute` entries of the route table
(:data:`keyfob.server.api.routes.FAST_ROUTES`: ``POST /auth/nonce``, ``/auth/login``,
``/auth/refresh``, ``/auth/session-key/token`` and the passkey sign-in pair
``/auth/passkey/login/options`` and ``/verify``) are answered here without FastAPI's router and
dependency machinery (measured at ~100 µs of a ~200 µs request): the body is validated with the
same pydantic model, handed to the same handler FastAPI's route for it calls, and errors get the
same ``{"error", "message"}`` body. FastAPI's routes stay registered: they document these
endpoints in OpenAPI and serve them whenever the fast path is not installed
(``create_app(fast_path=False)``); the tests run both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from pydantic import ValidationError

from keyfob.errors import KeyfobError
from keyfob.server.api.errors import send_error
from keyfob.server.api.routing import JsonRoute
from keyfob.server.infra.client_address import caller
from keyfob.server.infra.errors import UNEXPECTED, describe_validation
from keyfob.server.infra.middleware import ASGIApp, Receive, Scope, Send, send_json
from keyfob.server.infra.runtime import Runtime

log = logging.getLogger("keyfob")


class FastPath:
    """Serve the ``POST`` endpoints of ``routes`` (by path) directly; pass everything else on
    to ``app``."""

    def __init__(
        self, app: ASGIApp, *, runtime: Callable[[], Runtime], routes: Mapping[str, JsonRoute]
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        # Read outside the try: BodyLimitMiddleware's receive raises past us to answer 413.
        body = await _read_body(receive)
        try:
            request = route.model.model_validate_json(body)
            runtime = self.runtime()
            if route.with_caller:
                who = caller(scope, runtime.settings.proxies)
                result = await route.handler(runtime, request, who)
            else:
                result = await route.handler(runtime, request)
        except ValidationError as exc:
            await send_error(send, 422, "invalid_request", describe_validation(exc.errors()))
        except KeyfobError as exc:
            if exc.status >= 500:
                log.error("%s: %s", exc.code, exc.message)
            await send_error(send, exc.status, exc.code, exc.message)
        except Exception:
            log.exception("unexpected error on %s", scope["path"])
            await send_error(send, 500, "internal_error", UNEXPECTED)
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
