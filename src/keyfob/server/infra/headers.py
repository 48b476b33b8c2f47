"""Pure ASGI: headers every response needs, whichever part of keyfob answered it.

- ``Cache-Control: no-store`` and ``Pragma: no-cache`` on everything under ``/auth/``,
  ``/admin`` and ``/account``, the paths whose answers carry tokens, nonces, challenges,
  client secrets or a user's data (RFC 6749 section 5.1, RFC 9111): no browser, proxy or CDN
  keeps a copy. A response that chose its own ``Cache-Control`` keeps it.
- ``Strict-Transport-Security`` on every response when ``KEYFOB_PUBLIC_URL`` is https, so a
  browser that has seen keyfob once never talks to it over plain http again (none on http: a
  development server on localhost must not pin HSTS on the host).

It wraps the whole app (the ASGI fast path, FastAPI's routes, the pages, the 413 and 429
answers of the other middleware) and only appends to the header list of the response start.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Two years, the value hstspreload.org asks for; subdomains of keyfob's host are included.
HSTS = "max-age=63072000; includeSubDomains"
NO_STORE_PREFIXES = ("/auth/", "/admin", "/account")

_CACHE_CONTROL, _PRAGMA, _HSTS = b"cache-control", b"pragma", b"strict-transport-security"


class SecurityHeadersMiddleware:
    """Add no-store to token-bearing paths and, with ``hsts``, HSTS to every response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE_PREFIXES)
        if not (no_store or self.hsts):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {bytes(name).lower() for name, _ in headers}
                if no_store and _CACHE_CONTROL not in names:
                    headers.append((_CACHE_CONTROL, b"no-store"))
                if no_store and _PRAGMA not in names:
                    headers.append((_PRAGMA, b"no-cache"))
                if self.hsts and _HSTS not in names:
                    headers.append((_HSTS, HSTS.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
