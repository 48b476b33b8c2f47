"""Browser tests: Debian's Chromium under Playwright, a live keyfob, a client's callback page.

Register with ``pytest_plugins = ["tests.browser_fixtures"]``. ``chromium`` is one headless
browser per test module (``/usr/bin/chromium``, which ``./dev test`` installs; Playwright's own
browsers are never downloaded). ``live_keyfob(**settings)`` serves a real keyfob over HTTP on
127.0.0.1 as ``http://localhost:<port>`` (WebAuthn needs a host name as RP ID, not an IP).
``passkey_page()`` opens a page backed by a virtual CTAP2 authenticator holding passkeys.
``callback_app`` is a relying party's callback page that records what it receives. Tests skip
when Playwright or Chromium is missing and fail instead under ``KEYFOB_REQUIRE_SERVICES=1``.

While Playwright's sync API is up, it marks its event loop as running on the main thread
(on purpose, see ``wait_for_future`` in ``playwright/_impl/_greenlets.py``): ``asyncio.run``,
async tests and fixtures that call them (``database_url``) fail there. So keep browser tests in
modules of plain sync tests and reach async code with :meth:`LiveKeyfob.call`; ``chromium`` is
module-scoped so that the loop is released before the next module's async tests run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from keyfob.server.infra.app import create_app
from keyfob.server.infra.runtime import Runtime
from keyfob.server.infra.settings import Settings
from tests.node_clients import REQUIRE_ENV, NodeClients

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSKEY_AUTHENTICATOR: dict[str, Any] = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}

P = ParamSpec("P")
T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test, or fail it when ``KEYFOB_REQUIRE_SERVICES=1`` (CI never skips)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


class ServerThread:
    """An ASGI app under uvicorn on a bound 127.0.0.1 socket, in a thread with its own loop."""

    def __init__(self, *, timeout: float = 20.0) -> None:
        """Bind a free port now, so the app can be built knowing its URL; serve on :meth:`start`."""
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self._timeout = timeout
        self._error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)

    def _run(self) -> None:
        assert self._server is not None
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._server.serve(sockets=[self.socket]))
        except BaseException as exc:  # SystemExit when the app's lifespan fails
            self._error = exc
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
            self.socket.close()

    def start(self, app: ASGIApp) -> None:
        """Serve ``app``; return once uvicorn listens, or raise if the app failed to start."""
        config = uvicorn.Config(
            app, host="127.0.0.1", log_level="warning", lifespan="on", timeout_graceful_shutdown=3
        )
        self._server = server = uvicorn.Server(config)
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start") from self._error
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on port {self.port} not up in {self._timeout}s")
            self._thread.join(0.02)

    def call(self, function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function(*args, **kwargs)`` on the server's loop; wait for its result."""

        async def run() -> T:
            return await function(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(self._timeout)

    def stop(self) -> None:
        """Shut down gracefully (lifespan included); force it if that hangs."""
        if self._server is None:  # never started: nothing but the socket and loop to release
            self.socket.close()
            self.loop.close()
            return
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        self._thread.join(self._timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(self._timeout)


@dataclass(frozen=True)
class LiveKeyfob:
    """A keyfob served over real HTTP at ``url`` (``http://localhost:<port>``)."""

    url: str
    app: FastAPI
    settings: Settings
    server: ServerThread = field(repr=False)

    @property
    def runtime(self) -> Runtime:
        """The server's :class:`Runtime` (store, keyring, settings), set by the lifespan."""
        runtime: Runtime = self.app.state.runtime
        return runtime

    def call(self, function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``function(*args, **kwargs)`` on the server's own event loop, e.g.
        ``live.call(live.runtime.store.get_user, user_id)``."""
        return self.server.call(function, *args, **kwargs)


def _wait_healthy(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=2) as client:
        while True:
            try:
                response = client.get("/healthz")
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 200:
                return
            if time.monotonic() > deadline:
                answer = "nothing" if response is None else f"{response.status_code}"
                raise RuntimeError(f"keyfob /healthz answered {answer} for {timeout}s")
            time.sleep(0.05)


@pytest.fixture
def live_keyfob(tmp_path: Path) -> Iterator[Callable[..., LiveKeyfob]]:
    """``live_keyfob(**settings)`` starts a keyfob on a fresh SQLite file; stopped at teardown.

    Keyword arguments go straight to :class:`Settings` and override the test defaults
    (a random 43-character secret key, no rate limit); ``wrap``, if given, wraps the app in
    ASGI middleware of the test's own (to watch or hold requests).
    """
    servers: list[ServerThread] = []

    def start(*, wrap: Callable[[ASGIApp], ASGIApp] | None = None, **overrides: Any) -> LiveKeyfob:
        home = tmp_path / f"keyfob-{len(servers)}"
        server = ServerThread()
        servers.append(server)
        values: dict[str, Any] = {
            "public_url": f"http://localhost:{server.port}",
            "data_dir": home / "data",
            "database_url": f"sqlite+aiosqlite:///{home / 'keyfob.db'}",
            "secret_key": secrets.token_urlsafe(32),
            "rate_limit": 0,
            **overrides,
        }
        settings = Settings(**values)
        app = create_app(settings)
        server.start(app if wrap is None else wrap(app))
        _wait_healthy(server.port)
        return LiveKeyfob(f"http://localhost:{server.port}", app, settings, server)

    yield start
    for server in reversed(servers):
        server.stop()


def inject_ethereum(
    target: Page | BrowserContext, node_clients: NodeClients, private_key: str
) -> list[str]:
    """Give every page of ``target`` an EIP-1193 ``window.ethereum`` whose ``personal_sign``
    signs with ``private_key`` through viem; returns the list the signed messages go to."""
    address = node_clients.viem_sign(private_key, "address").address
    signed: list[str] = []

    def personal_sign(hex_message: str) -> str:
        message = bytes.fromhex(hex_message.removeprefix("0x")).decode()
        signed.append(message)
        return node_clients.viem_sign(private_key, message).signature

    target.expose_function("keyfobTestPersonalSign", personal_sign)
    target.add_init_script(
        "window.ethereum = { request: async ({ method, params }) => {"
        f"  if (method === 'eth_requestAccounts') return [{json.dumps(address)}];"
        "  if (method === 'personal_sign') return window.keyfobTestPersonalSign(params[0]);"
        "  throw new Error('unsupported ' + method); } };"
    )
    return signed


@dataclass(frozen=True)
class CallbackRequest:
    """One request the callback page received; form values are strings (files: their name)."""

    method: str
    query: dict[str, str]
    form: dict[str, str]


@dataclass(frozen=True)
class CallbackApp:
    """A relying party at ``url``; ``url + "/callback"`` records each request in ``received``."""

    url: str
    received: list[CallbackRequest]

    @property
    def callback_url(self) -> str:
        """Where keyfob's hosted pages send the user back: ``<url>/callback``."""
        return f"{self.url}/callback"


def _page(title: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>")


@contextmanager
def serve_callback_app() -> Iterator[CallbackApp]:
    """A tiny Starlette relying party on ``http://localhost:<port>`` with a recording callback."""
    received: list[CallbackRequest] = []

    async def callback(request: Request) -> HTMLResponse:
        form: dict[str, str] = {}
        if request.method == "POST":
            async with request.form() as data:
                for key, value in data.items():
                    form[key] = (value.filename or "") if isinstance(value, UploadFile) else value
        received.append(CallbackRequest(request.method, dict(request.query_params), form))
        return _page("callback received")

    async def home(request: Request) -> HTMLResponse:
        return _page("relying party")

    app = Starlette(
        routes=[Route("/", home), Route("/callback", callback, methods=["GET", "POST"])]
    )
    server = ServerThread()
    server.start(app)
    try:
        yield CallbackApp(f"http://localhost:{server.port}", received)
    finally:
        server.stop()


@pytest.fixture
def callback_app() -> Iterator[CallbackApp]:
    """:func:`serve_callback_app` for one test."""
    with serve_callback_app() as app:
        yield app


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright, shared by one test module (see above)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing: `./dev test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass(frozen=True)
class VirtualPasskeyPage:
    """A page whose WebAuthn calls go to a virtual authenticator (DevTools ``WebAuthn`` domain)."""

    page: Page
    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """The authenticator's credentials as DevTools reports them (``WebAuthn.Credential``)."""
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        found: list[dict[str, Any]] = answer["credentials"]
        return found

    def set_sign_count(self, credential_id: str, count: int) -> None:
        """Set a credential's signature counter (``credentialId`` as DevTools spells it).

        DevTools has no call for this, so the credential is removed and added back, same key.
        """
        matching = [c for c in self.credentials() if c["credentialId"] == credential_id]
        if not matching:
            raise LookupError(f"the authenticator has no credential {credential_id!r}")
        ids = {"authenticatorId": self.authenticator_id}
        self.cdp.send("WebAuthn.removeCredential", {**ids, "credentialId": credential_id})
        credential = {**matching[0], "signCount": count}
        self.cdp.send("WebAuthn.addCredential", {**ids, "credential": credential})


@pytest.fixture
def passkey_page(chromium: Browser) -> Iterator[Callable[..., VirtualPasskeyPage]]:
    """``passkey_page(**options)``: a new context and page with a virtual passkey authenticator.

    ``options`` override :data:`PASSKEY_AUTHENTICATOR` (e.g. ``isUserVerified=False``).
    """
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> VirtualPasskeyPage:
        context = chromium.new_context()
        contexts.append(context)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        added = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {"options": {**PASSKEY_AUTHENTICATOR, **options}},
        )
        return VirtualPasskeyPage(page, cdp, added["authenticatorId"])

    yield open_page
    for context in contexts:
        context.close()
