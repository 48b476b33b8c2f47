"""Step-up helpers for the account page tests: a holder whose wallet signs with a real client,
the page's step-up ceremony through its script calls, the grant cookie it leaves."""

from __future__ import annotations

from typing import Any

import httpx

from keyfob.server.account.step_up import COOKIE
from tests.node_clients import NodeClients
from tests.server.account.holder import Browser, open_browser
from tests.server.admin.panel import make_user
from tests.server.conftest import Server
from tests.server.signin import ETH_KEY, eth_address


async def wallet_holder(server: Server, clients: NodeClients, key: str = ETH_KEY) -> Browser:
    """A user whose one method is the Ethereum wallet of ``key``, signed in to the page."""
    return await open_browser(server, await make_user(server, eth_address(clients, key)))


async def step_up_body(
    browser: Browser, clients: NodeClients, key: str = ETH_KEY
) -> dict[str, Any]:
    """The page's step-up message for the wallet of ``key``, signed: a verify body."""
    address = eth_address(clients, key)
    options = await browser.call(
        "/account/step-up/options", {"chain": "ethereum", "address": address}
    )
    assert options.status_code == 200, options.text
    message = options.json()["message"]
    return {
        "chain": "ethereum",
        "message": message,
        "signature": clients.viem_sign(key, message).signature,
    }


async def confirm(browser: Browser, clients: NodeClients, key: str = ETH_KEY) -> httpx.Response:
    """Run the page's wallet step-up; its answer (the grant cookie is in the browser's jar)."""
    verified = await browser.call(
        "/account/step-up/verify", await step_up_body(browser, clients, key)
    )
    assert verified.status_code == 200, verified.text
    assert grant_of(browser) is not None
    return verified


def grant_of(browser: Browser) -> str | None:
    """The step-up grant cookie the browser holds, if any."""
    return next((c.value for c in browser.client.cookies.jar if c.name == COOKIE), None)


def set_grant(browser: Browser, grant: str | None) -> None:
    """Replace the browser's grant cookie with ``grant`` (none if None)."""
    for cookie in [c for c in browser.client.cookies.jar if c.name == COOKIE]:
        browser.client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    if grant is not None:
        browser.client.cookies.set(COOKIE, grant, path="/account")
