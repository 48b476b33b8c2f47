"""examples/spa in headless Chromium, as docs/browser-client.md runs it: the app on its own
origin, keyfob on another (``KEYFOB_CORS_ORIGINS`` and ``KEYFOB_WEBAUTHN_ORIGINS`` naming the
app), examples/protected_api.py on a third (``CORS_ORIGINS``). A passkey account, a wallet
sign-in, keyfob's ``/auth/me``, the API's ``/items`` (once with a token it refuses, so the
client refreshes), sign-out.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from tests.browser_fixtures import LiveKeyfob, ServerThread, VirtualPasskeyPage, inject_ethereum
from tests.node_clients import NodeClients
from tests.paths import ROOT
from tests.server.pages.cross_origin import AppSite, Recorder, serve_app_site, tamper

ETH_KEY = "0x" + "6b" * 32


@pytest.fixture
def app_site() -> Iterator[AppSite]:
    with serve_app_site() as site:
        yield site


def load_protected_api(monkeypatch: pytest.MonkeyPatch, keyfob_url: str, origin: str) -> ModuleType:
    """examples/protected_api.py, configured by its environment variables."""
    monkeypatch.setenv("KEYFOB_URL", keyfob_url)
    monkeypatch.setenv("CORS_ORIGINS", origin)
    monkeypatch.delenv("KEYFOB_TOKEN_SECRET", raising=False)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    sys.modules.pop("protected_api", None)
    module = importlib.import_module("protected_api")
    sys.modules.pop("protected_api", None)
    return module


def test_the_example_app(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    app_site: AppSite,
    node_clients: NodeClients,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    app = app_site.origin("localhost")
    live = live_keyfob(cors_origins=app, webauthn_origins=app, wrap=recorder.wrap)
    api = ServerThread()
    api.start(load_protected_api(monkeypatch, live.url, app).app)
    try:
        app_site.meta.update({"keyfob-url": live.url, "api-url": f"http://127.0.0.1:{api.port}"})
        page = passkey_page().page
        signed = inject_ethereum(page, node_clients, ETH_KEY)
        page.goto(f"{app}/")
        status, output = page.locator("#status"), page.locator("#output")
        status.filter(has_text="Signed out.").wait_for()

        page.get_by_label("Username").fill("carol")
        page.get_by_role("button", name="Create an account with a passkey").click()
        page.get_by_text("Signed in as carol.").wait_for()
        page.get_by_role("button", name="Ask keyfob who I am").click()
        output.filter(has_text='"username":"carol"').wait_for()
        assert output.inner_text().startswith("200\n")
        page.get_by_role("button", name="Sign out", exact=True).click()
        status.filter(has_text="Signed out.").wait_for()

        page.get_by_role("button", name="Sign in with Ethereum").click()
        status.filter(has_text="Signed in.").wait_for()
        address = node_clients.viem_sign(ETH_KEY, "address").address
        assert page.locator("#who").inner_text() == address
        assert len(signed) == 1
        page.get_by_role("button", name="Call the example API").click()
        output.filter(has_text='"items"').wait_for()
        assert f'"address":"{address}"' in output.inner_text()
        tamper(page, live.url, "accessToken")  # the API refuses it: refresh, and again
        page.evaluate("() => { document.getElementById('output').textContent = ''; }")
        page.get_by_role("button", name="Call the example API").click()
        output.filter(has_text='"items"').wait_for()
        assert output.inner_text().startswith("200\n")
        page.get_by_role("button", name="Sign out", exact=True).click()
        status.filter(has_text="Signed out.").wait_for()
        assert page.get_by_role("button", name="Sign in with a passkey").is_visible()
    finally:
        api.stop()
    assert recorder.calls("/auth/refresh", "/auth/logout") == [
        ("POST", "/auth/logout", 204),
        ("POST", "/auth/refresh", 200),
        ("POST", "/auth/logout", 204),
    ]
