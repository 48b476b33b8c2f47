"""What the OIDC server tests share: a registered client, a browser signing in, a code."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from keyfob.server.services.clients import create_client
from keyfob.server.services.oidc_clients import configure_oidc
from keyfob.store.records import ClientRecord
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.signin import ETH_KEY, eth_address, nonce

APP = "https://rp.example.com/cb"
LOGGED_OUT = "https://rp.example.com/bye"


@dataclass(frozen=True)
class Rp:
    """A registered client and its secret."""

    client: ClientRecord
    secret: str

    @property
    def id(self) -> str:
        return self.client.id

    def basic(self) -> dict[str, str]:
        """An Authorization header for client_secret_basic."""
        raw = f"{self.client.id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def register(server: Server, *, name: str = "Demo RP", **oidc: Any) -> Rp:
    """A client open to all users, registration on, then its OIDC settings."""
    client, secret = await create_client(
        server.runtime,
        name=name,
        redirect_uris=[APP],
        open_to_all=True,
        registration_enabled=True,
    )
    options: dict[str, Any] = {
        "scopes": "openid profile wallet email offline_access",
        "post_logout_redirect_uris": [LOGGED_OUT],
        "first_party": True,
    }
    options.update(oidc)
    client = await configure_oidc(server.runtime, client.id, **options)
    return Rp(client, secret)


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(rp: Rp, **params: str) -> str:
    """``/oidc/authorize`` with the usual parameters, overridden by ``params`` ("" drops one)."""
    values = {
        "response_type": "code",
        "client_id": rp.id,
        "redirect_uri": APP,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
    }
    values.update(params)
    return "/oidc/authorize?" + urlencode({k: v for k, v in values.items() if v != ""})


async def sign_in_on_page(
    server: Server, clients: NodeClients, login_url: str, key: str = ETH_KEY
) -> httpx.Response:
    """Sign in with a wallet on the OIDC sign-in page ``login_url``; follow ``next``."""
    token = parse_qs(urlsplit(login_url).query)["interaction"][0]
    issued = await nonce(server, "ethereum", address=eth_address(clients, key))
    signature = clients.viem_sign(key, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": signature}
    signed = await server.client.post(
        "/oidc/login/wallet?" + urlencode({"interaction": token}),
        json=body,
        headers={"Origin": PUBLIC_URL},
    )
    assert signed.status_code == 200, signed.text
    return await server.client.get(signed.json()["next"])


def callback_params(response: httpx.Response) -> dict[str, str]:
    """The parameters a 303 to the client's redirect URI carries."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(APP), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def code_for(server: Server, clients: NodeClients, rp: Rp, **params: str) -> dict[str, str]:
    """Run an authorization (signing in when asked); the callback's parameters."""
    response = await server.client.get(authorize_url(rp, **params))
    if response.status_code == 303 and response.headers["location"].startswith("/oidc/login"):
        response = await sign_in_on_page(server, clients, response.headers["location"])
    return callback_params(response)


async def exchange(
    server: Server, rp: Rp, code: str, verifier: str | None = None, **extra: str
) -> httpx.Response:
    """``POST /oidc/token`` for ``code`` with client_secret_basic."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await server.client.post("/oidc/token", data=form, headers=rp.basic())
