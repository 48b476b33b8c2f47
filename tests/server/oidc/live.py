"""What the live OIDC tests share: one keyfob and one callback page per module, a browser.

The relying parties under test (openid-client, Authlib, Chromium) talk real HTTP to a keyfob
served by uvicorn (:class:`tests.browser_fixtures.LiveKeyfob`). :class:`Browser` is the user
agent for the libraries that only build URLs and check answers: an httpx client keeping
cookies, which follows keyfob's redirects and signs in with a viem wallet on the hosted page.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest

from keyfob.server.infra.app import create_app
from keyfob.server.infra.settings import Settings
from keyfob.server.services.clients import create_client
from keyfob.server.services.oidc_clients import configure_oidc
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store.records import ClientRecord
from tests.browser_fixtures import CallbackApp, LiveKeyfob, ServerThread, serve_callback_app
from tests.node_clients import NodeClients

ETH_KEY = "0x" + "4c" * 32
SCOPES = "openid profile wallet email offline_access"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKeyfob]:
    """One keyfob over HTTP for the whole module, on a fresh SQLite file."""
    home = tmp_path_factory.mktemp("keyfob")
    server = ServerThread()
    settings = Settings(
        public_url=f"http://localhost:{server.port}",
        data_dir=home / "data",
        database_url=f"sqlite+aiosqlite:///{home / 'keyfob.db'}",
        secret_key=secrets.token_urlsafe(32),
        rate_limit=0,
    )
    app = create_app(settings)
    try:
        server.start(app)
        yield LiveKeyfob(f"http://localhost:{server.port}", app, settings, server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rp_app() -> Iterator[CallbackApp]:
    """One relying party's callback page for the module (it records every request it gets)."""
    with serve_callback_app() as app:
        yield app


@dataclass(frozen=True)
class Registered:
    """A client registered on the live keyfob, its secret, and where it is sent back to."""

    client: ClientRecord
    secret: str
    redirect_uri: str
    post_logout_uri: str

    @property
    def id(self) -> str:
        """The client ID."""
        return self.client.id


def register(live: LiveKeyfob, app: CallbackApp, **oidc: Any) -> Registered:
    """A client open to all users (registration on) with OIDC settings ``oidc`` on top."""
    client, secret = live.call(
        create_client,
        live.runtime,
        name="Live RP",
        redirect_uris=[app.callback_url],
        open_to_all=True,
        registration_enabled=True,
    )
    logged_out = f"{app.url}/?logged-out"
    options: dict[str, Any] = {
        "scopes": SCOPES,
        "post_logout_redirect_uris": [logged_out],
        "first_party": True,
        **oidc,
    }
    client = live.call(configure_oidc, live.runtime, client.id, **options)
    return Registered(client, secret, app.callback_url, logged_out)


class Browser:
    """A user agent with a cookie jar, driven by hand: every redirect is one call."""

    def __init__(self, live: LiveKeyfob, clients: NodeClients) -> None:
        """A fresh browser (no cookies) for ``live``; wallet signatures come from ``clients``."""
        self.live = live
        self.clients = clients
        self.http = httpx.Client(trust_env=False, timeout=20)

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def follow(self, url: str, *, until: str | None = None) -> httpx.Response:
        """GET ``url`` and follow keyfob's redirects; the first redirect that leaves keyfob or
        points at ``until`` (a URL prefix) is returned unfollowed, as is a page."""
        response = self.http.get(url)
        while response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if not target.startswith(self.live.url + "/") or (until and target.startswith(until)):
                return response
            response = self.http.get(target)
        return response

    def authorize(self, url: str, *, key: str = ETH_KEY) -> str:
        """Open an authorization URL, sign in with a wallet when asked; the callback URL."""
        login = self.live.url + "/oidc/login"
        response = self.follow(url, until=login)
        target = urljoin(str(response.url), response.headers.get("location", ""))
        if response.is_redirect and target.startswith(login):
            response = self.sign_in(target, key=key)
        assert response.status_code == 303, response.text
        return str(response.headers["location"])

    def sign_in(self, login_url: str, *, key: str = ETH_KEY) -> httpx.Response:
        """On the hosted sign-in page ``login_url``: sign a server-built SIWE message with
        viem, post it like the page's script does, then go to the answer's ``next``."""
        page = self.http.get(login_url)
        assert page.status_code == 200, page.text
        interaction = parse_qs(urlsplit(login_url).query)["interaction"][0]
        address = self.clients.viem_sign(key, "address").address
        origin = {"Origin": self.live.url}
        issued = self.http.post(
            self.live.url + "/auth/nonce",
            json={"chain": "ethereum", "address": address},
            headers=origin,
        )
        assert issued.status_code == 200, issued.text
        message = issued.json()["message"]
        signature = self.clients.viem_sign(key, message).signature
        signed = self.http.post(
            f"{self.live.url}/oidc/login/wallet?{urlencode({'interaction': interaction})}",
            json={"chain": "ethereum", "message": message, "signature": signature},
            headers=origin,
        )
        assert signed.status_code == 200, signed.text
        return self.http.get(urljoin(self.live.url, signed.json()["next"]))

    @property
    def signed_in(self) -> bool:
        """Whether the browser holds a keyfob SSO cookie."""
        return self.http.cookies.get(PLAIN_COOKIE) is not None


def query_of(url: str) -> dict[str, str]:
    """A URL's query parameters (the first value of each)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
