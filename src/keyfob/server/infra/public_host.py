"""Browser pages opened under another name than the public URL: a page naming the URL to use.

Passkeys belong to the public URL's host (the WebAuthn relying party), the SSO cookie to the
host that set it, and the pages' posts must come from the public URL's origin. A browser that
opened keyfob under another name (``http://127.0.0.1:8000`` for ``http://localhost:8000``, a
proxy's upstream address) would get through the page and fail in the middle of the sign-in.
So the browser surfaces (each names its path prefixes: the hosted sign-in pages, the admin
panel, the account page, OpenID Connect's sign-in, consent and logout pages) answer such a
request at once: 421 ``wrong_host``, a page (JSON for their scripts' calls) saying which URL
to open.

The name asked for is the ``Host`` header; from a trusted proxy (``KEYFOB_TRUSTED_PROXIES``)
the host it forwards (:func:`~keyfob.server.infra.client_address.forwarded_host`) instead. A
POST whose ``Origin`` is not the public URL, sent ``Sec-Fetch-Site: same-origin`` (keyfob's own
page under another name), is refused the same way; any other foreign ``Origin`` is the pages'
CSRF check's to refuse. Nothing else is checked: the JSON API, discovery, the JWKS and the
OpenID endpoints servers call (token, userinfo, ...) are often reached by an internal name.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from keyfob.errors import WrongHost
from keyfob.server.infra.client_address import TrustedProxies, forwarded_host

#: How a refusal becomes a response: a page for a browser, JSON for a script.
Respond = Callable[[Request, WrongHost], Response]

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_MAX_SHOWN = 100  # characters of the name asked for that a refusal repeats


def on_browser_page(path: str, prefixes: tuple[str, ...]) -> bool:
    """True if ``path`` is under one of ``prefixes``: ``/admin`` covers ``/admin`` and
    ``/admin/...``; ``/auth/login/`` (a final slash) covers only what is below it."""
    return any(
        path.startswith(prefix) if prefix.endswith("/") else (path + "/").startswith(prefix + "/")
        for prefix in prefixes
    )


def asked_host(scope: Scope, proxies: TrustedProxies) -> str | None:
    """The host and port the browser asked for: a trusted proxy's forwarded host, else
    ``Host``; None when the request names none (HTTP/1.0)."""
    forwarded = forwarded_host(scope, proxies)
    if forwarded:
        return forwarded
    return Headers(scope=scope).get("host")


def _same_host(asked: str, public: SplitResult) -> bool:
    asked = asked.strip().lower()
    default = _DEFAULT_PORTS[public.scheme]
    return asked.removesuffix(default) == public.netloc


def wrong_host(scope: Scope, public_url: str, proxies: TrustedProxies) -> WrongHost | None:
    """The refusal for a request to a browser page that is not on ``public_url``, or None."""
    public = urlsplit(public_url)
    asked = asked_host(scope, proxies)
    if asked is not None and not _same_host(asked, public):
        return _refusal(scope, public_url, f"{scope.get('scheme', 'http')}://{asked.strip()}")
    if scope["method"] == "POST":
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin not in (None, "null", public_url) and headers.get("sec-fetch-site") == (
            "same-origin"
        ):
            return _refusal(scope, public_url, str(origin))
    return None


def _refusal(scope: Scope, public_url: str, seen: str) -> WrongHost:
    if len(seen) > _MAX_SHOWN:
        seen = seen[:_MAX_SHOWN] + "…"
    url = public_url
    if scope["method"] in ("GET", "HEAD"):  # the same page, under its own name
        query = scope.get("query_string", b"").decode("latin-1")
        url = public_url + scope["path"] + (f"?{query}" if query else "")
    message = (
        f"Open keyfob at {public_url} — this page was opened as {seen}, which passkeys and "
        f"cookies do not accept. (If you did open {public_url}, the reverse proxy in front of "
        "keyfob does not pass the Host header on.)"
    )
    return WrongHost(message, url=url)


class PublicHostGuard:
    """Answers a request to a browser page (one of ``prefixes``) that :func:`wrong_host`
    refuses with ``respond``'s page or JSON; lets every other request through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_url: str,
        proxies: TrustedProxies,
        prefixes: tuple[str, ...],
        respond: Respond,
    ) -> None:
        self.app = app
        self.public_url = public_url
        self.proxies = proxies
        self.prefixes = prefixes
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and on_browser_page(scope["path"], self.prefixes):
            refusal = wrong_host(scope, self.public_url, self.proxies)
            if refusal is not None:
                response = self.respond(Request(scope, receive), refusal)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
