"""What the cross-origin browser tests share: an app's own site on a second loopback origin, and
a recorder of every request keyfob receives (which can hold some until released).

Playwright's request interception answers every CORS preflight itself, permissively, as soon as
one route is set, so these tests never route: they watch keyfob from the server side instead.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyfob.server.pages.render import STATIC_DIR
from tests.browser_fixtures import ServerThread
from tests.paths import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

SPA = ROOT / "examples" / "spa"
BLANK = "<!doctype html><html lang='en'><title>app</title><h1>app</h1></html>"


@dataclass
class AppSite:
    """An app's static site on 127.0.0.1:``port``: reachable as ``http://localhost:<port>`` and
    as ``http://127.0.0.1:<port>``, two origins. It serves examples/spa at ``/`` (its
    ``<meta name>`` settings replaced by ``meta``), a blank page at ``/blank.html`` and a copy of
    keyfob.js at ``/vendor/keyfob.js`` (as an app that ships the file itself)."""

    port: int
    meta: dict[str, str] = field(default_factory=dict)

    def origin(self, host: str = "localhost") -> str:
        """``http://<host>:<port>``."""
        return f"http://{host}:{self.port}"


@contextmanager
def serve_app_site() -> Iterator[AppSite]:
    """Start an :class:`AppSite`; stop it on exit."""
    server = ServerThread()
    site = AppSite(server.port)

    async def index(request: Request) -> HTMLResponse:
        html = (SPA / "index.html").read_text(encoding="utf-8")
        for name, value in site.meta.items():
            pattern = f'<meta name="{name}" content="[^"]*">'
            html = re.sub(pattern, f'<meta name="{name}" content="{value}">', html)
        return HTMLResponse(html)

    async def blank(request: Request) -> HTMLResponse:
        return HTMLResponse(BLANK)

    def file(path: str, source: Any) -> Route:
        async def endpoint(request: Request) -> FileResponse:
            return FileResponse(source)

        return Route(path, endpoint)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/blank.html", blank),
            file("/app.js", SPA / "app.js"),
            file("/app.css", SPA / "app.css"),
            file("/vendor/keyfob.js", STATIC_DIR / "keyfob.js"),
        ]
    )
    server.start(app)
    try:
        yield site
    finally:
        server.stop()


@dataclass
class Seen:
    """One request keyfob received, and the status it answered (None until it does)."""

    method: str
    path: str
    status: int | None = None


class Recorder:
    """Wraps keyfob (``live_keyfob(wrap=recorder.wrap)``): every HTTP request it receives goes
    to :attr:`seen`; a ``POST`` to a path in :attr:`held` waits until :meth:`release`."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.held: set[str] = set()
        self._released = threading.Event()

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app``, recorded."""

        async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            seen = Seen(scope["method"], scope["path"])
            self.seen.append(seen)
            if seen.method == "POST" and seen.path in self.held:
                await asyncio.to_thread(self._released.wait, 30)

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    seen.status = message["status"]
                await send(message)

            await app(scope, receive, sending)

        return recorded

    def release(self) -> None:
        """Let the held requests (and every later one) through."""
        self._released.set()

    def calls(self, *paths: str) -> list[tuple[str, str, int | None]]:
        """``(method, path, status)`` of the requests but preflights (to ``paths``, if given);
        ``/healthz`` (the fixture's start-up check) left out."""
        return [
            (s.method, s.path, s.status)
            for s in self.seen
            if s.method != "OPTIONS" and s.path != "/healthz" and (not paths or s.path in paths)
        ]

    def preflights(self) -> list[tuple[str, int | None]]:
        """``(path, status)`` of every preflight (the browser caches them: once per URL)."""
        return [(s.path, s.status) for s in self.seen if s.method == "OPTIONS"]


def tamper(page: Page, keyfob_url: str, field: str, *, storage: str = "sessionStorage") -> None:
    """Replace the token ``field`` the page's client keeps with one keyfob does not take."""
    key = json.dumps(f"keyfob:{keyfob_url}")
    page.evaluate(
        f"""() => {{
            const tokens = JSON.parse({storage}.getItem({key}));
            tokens[{json.dumps(field)}] = "eyJ.not-a-token.any-more";
            {storage}.setItem({key}, JSON.stringify(tokens));
        }}"""
    )
