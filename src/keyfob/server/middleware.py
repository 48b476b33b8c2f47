"""Pure ASGI middleware: a request-body size limit and a per-client rate limit."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from keyfob.server.errors import error_headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_json(
    send: Send, status: int, body: bytes, extra: dict[str, str] | None = None
) -> None:
    """Send a complete JSON response straight from ASGI."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend((name.lower().encode(), value.encode()) for name, value in extra.items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer with keyfob's error body straight from ASGI."""
    body = json.dumps({"error": code, "message": message}).encode()
    await send_json(send, status, body, error_headers(status, code))


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header and while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(send)
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
    """At most ``per_minute`` POSTs per client address to ``/auth/`` in a fixed one-minute window.

    In-process and approximate by design: it blunts brute force against one server; a proxy or
    Redis-backed limiter is the tool for a fleet.
    """

    def __init__(self, app: ASGIApp, *, per_minute: int, max_clients: int = 100_000) -> None:
        self.app = app
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._window = 0
        self._counts: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.per_minute <= 0
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/auth/")
        ):
            await self.app(scope, receive, send)
            return
        window = int(time.monotonic() // 60)
        if window != self._window or len(self._counts) > self.max_clients:
            self._window, self._counts = window, {}
        client = scope.get("client")
        key = client[0] if client else "-"
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > self.per_minute:
            await send_json_error(
                send, 429, "rate_limited", "Too many requests; wait a minute and try again."
            )
            return
        await self.app(scope, receive, send)
