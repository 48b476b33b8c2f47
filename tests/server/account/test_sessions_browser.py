"""Sign out everywhere in headless Chromium: two browser contexts (two browsers, each with its
own cookies) signed in as one user with an injected Ethereum wallet; one signs out everywhere,
and the other's account page sends it to the sign-in page.

Plain sync tests (see tests/browser_fixtures.py): async keyfob calls go through ``live.call``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.browser_fixtures import LiveKeyfob, inject_ethereum
from tests.node_clients import NodeClients

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ETH_KEY = "0x" + "6b" * 32


def _sign_in(context: BrowserContext, live: LiveKeyfob, node_clients: NodeClients) -> Page:
    """Sign in on ``/account/login`` with the context's wallet; the account page."""
    inject_ethereum(context, node_clients, ETH_KEY)
    page = context.new_page()
    page.goto(f"{live.url}/account/login")
    page.get_by_role("button", name="Sign in with Ethereum").click()
    page.wait_for_url(f"{live.url}/account")
    page.wait_for_selector("#sessions-list")
    return page


def test_sign_out_everywhere_ends_the_other_browsers_session(
    live_keyfob: Callable[..., LiveKeyfob], chromium: Browser, node_clients: NodeClients
) -> None:
    live = live_keyfob()
    address = node_clients.viem_sign(ETH_KEY, "address").address
    store = live.runtime.store
    live.call(
        store.sign_in_identity,
        kind="ethereum",
        address=address,
        public_key=None,
        now=live.runtime.now(),
    )
    first, second = chromium.new_context(), chromium.new_context()
    try:
        mine = _sign_in(first, live, node_clients)
        theirs = _sign_in(second, live, node_clients)
        mine.reload()
        sessions = mine.locator("#sessions-list > li")
        assert sessions.count() == 2
        current = mine.locator('#sessions-list > li[aria-current="true"]')
        assert current.count() == 1
        assert "this session" in current.inner_text()
        assert "Chrome" in current.inner_text()  # the device, from Chromium's User-Agent
        assert "127.0.0.x" in current.inner_text()

        mine.get_by_role("button", name="Sign out everywhere").click()
        mine.wait_for_url(f"{live.url}/account/login")

        theirs.goto(f"{live.url}/account")
        theirs.wait_for_url(f"{live.url}/account/login")
        assert theirs.get_by_role("button", name="Sign in with a passkey").is_visible()
        mine.goto(f"{live.url}/account")
        mine.wait_for_url(f"{live.url}/account/login")
    finally:
        first.close()
        second.close()
    [event] = live.call(store.audit_events, event="account.signed_out_everywhere")
    assert '"browsers":2' in event.detail
