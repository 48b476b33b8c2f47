"""Pure ASGI middleware: a request-body size limit and a per-client rate limit."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from keyfob.server.infra.client_address import TrustedProxies, client_address, rate_limit_key
from keyfob.server.infra.rate_limit import LIMITED_ROUTES, MEMORY_STORAGE, LimitedRoutes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NO_PROXIES = TrustedProxies()


async def send_json(
    send: Send, status: int, body: bytes, extra: dict[str, str] | None = None
) -> None:
    """Send a complete JSON response straight from ASGI."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend((name.lower().encode(), value.encode()) for name, value in extra.items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json_error(
    send: Send, status: int, code: str, message: str, extra: dict[str, str] | None = None
) -> None:
    """Answer with keyfob's JSON error body straight from ASGI: the middleware's own answers
    (413, 429), which stop a request before any surface sees it, are JSON whatever the path."""
    body = json.dumps({"error": code, "message": message}).encode()
    await send_json(send, status, body, extra)


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413: by their ``Content-Length``, or while
    streaming one sent without (chunked)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._refuse(send)
                    return
                # The server frames the body by this length, so no more can arrive: nothing
                # to count (and no wrappers on the way of every request that declares one).
                await self.app(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        limit_kib = self.max_bytes // 1024
        await send_json_error(
            send, 413, "payload_too_large", f"Request bodies are limited to {limit_kib} KiB."
        )


class RateLimitMiddleware:
    """At most ``per_minute`` requests a minute per client address (an IPv6 client's /64) to
    the routes ``routes`` lists, answered 429 with ``Retry-After`` past that.

    The client address is :func:`~keyfob.server.infra.client_address.client_address` (behind
    ``proxies``), the one the audit log records. Counting is the ``limits`` library's fixed
    window in ``storage``, a ``limits`` storage URI: this process's memory by default, where
    each counter expires with its window; a shared storage (``async+redis://...``) makes the
    limit hold across a fleet.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        proxies: TrustedProxies = NO_PROXIES,
        routes: LimitedRoutes = LIMITED_ROUTES,
        storage: str = MEMORY_STORAGE,
    ) -> None:
        self.app = app
        self.proxies = proxies
        self.routes = routes
        self.item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        item = self.item
        if (
            item is None
            or scope["type"] != "http"
            or not self.routes.matches(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        key = rate_limit_key(client_address(scope, self.proxies))
        if await self.limiter.hit(item, key):
            await self.app(scope, receive, send)
            return
        reset_at = (await self.limiter.get_window_stats(item, key)).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        await send_json_error(
            send,
            429,
            "rate_limited",
            "Too many requests; wait a minute and try again.",
            {"Retry-After": str(retry_after)},
        )
