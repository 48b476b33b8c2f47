"""Cross-origin requests (CORS) from the browser apps ``KEYFOB_CORS_ORIGINS`` lists.

Only what a browser app on another origin calls with a token it holds is open to it (the paths
:func:`is_cors_path` accepts): the JSON API but the hosted pages' endpoints under it
(``/auth/login/<client>``, ``/auth/registration/``, ``/auth/logout/<client>``), the JWKS, the
browser client ``/static/keyfob.js``, and what a public OpenID Connect client in the browser
calls (discovery, token, userinfo, revocation). The hosted pages, the admin panel and the OpenID
Provider's own pages are never open: they are navigations and same-origin posts, guarded by
their cookie and the same-origin check. ``tests/server/infra/test_cors.py`` fails when a route
is added without a decision.

Credentials are never allowed (no ``Access-Control-Allow-Credentials``): every open endpoint
takes its token in a header or the body, never from a cookie, so a cross-origin script has no
reason to send keyfob's cookies, and no page of another site can make the browser use the SSO
cookie on its behalf and read the answer. A request from an origin not listed is passed on
untouched: its preflight gets the app's own answer (405 ``method_not_allowed``), its response
no CORS header.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths open to cross-origin requests as they are; every path under those of ``_PREFIXES``.
_EXACT = frozenset(
    {
        "/auth/nonce",
        "/auth/login",
        "/auth/challenge",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/auth/denylist",
        "/auth/methods",
        "/auth/session-keys",
        "/auth/consents",
        "/auth/session-key/token",
        "/.well-known/jwks.json",
        "/static/keyfob.js",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oidc/token",
        "/oidc/userinfo",
        "/oidc/revoke",
    }
)
_PREFIXES = (
    "/auth/passkey/",
    "/auth/methods/",
    "/auth/session-keys/",
    "/auth/step-up/",
    "/auth/consents/",
)

ALLOW_METHODS = ("GET", "POST", "DELETE")
#: ``Authorization`` (Bearer tokens, OIDC client authentication), ``X-Keyfob-Step-Up`` (step-up
#: grants) and ``Content-Type`` (JSON and form bodies).
ALLOW_HEADERS = ("Authorization", "Content-Type", "X-Keyfob-Step-Up")
#: A 429's ``Retry-After`` and an OIDC 401's ``WWW-Authenticate``, readable by the app's script.
EXPOSE_HEADERS = ("Retry-After", "WWW-Authenticate")
#: Seconds a browser may keep a preflight's answer (Chromium caps it at 7200).
MAX_AGE = 600

_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")  # a name or an IPv4 address, or IPv6 (unbracketed)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_cors_path(path: str) -> bool:
    """True if cross-origin requests to ``path`` may be allowed."""
    return path in _EXACT or path.startswith(_PREFIXES)


def normalise_origin(value: str) -> str:
    """``value`` as browsers write an ``Origin``: ``scheme://host[:port]``, lower case, no
    default port, no trailing slash; ValueError for anything that is not such an origin."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not _HOST.fullmatch(host)
        or port == -1
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(
            f"KEYFOB_CORS_ORIGINS: {value!r} is not an origin such as https://app.example.com "
            "(a scheme, a host and an optional port; no path, no '*')"
        )
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


class CrossOriginMiddleware:
    """Starlette's CORS middleware over the requests to :func:`is_cors_path` paths whose
    ``Origin`` is one of ``origins``; every other response on those paths gets ``Vary: Origin``,
    so a shared cache never hands an answer without the header to a listed origin (discovery,
    the JWKS and the script are cacheable)."""

    def __init__(self, app: ASGIApp, *, origins: Collection[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=tuple(self.origins),
            allow_methods=ALLOW_METHODS,
            allow_headers=ALLOW_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSE_HEADERS,
            max_age=MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_cors_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if origin is not None and origin.decode("latin-1") in self.origins:
            await self.cors(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_varying)
