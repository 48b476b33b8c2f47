"""The hosted pages in headless Chromium: a virtual passkey and an injected Ethereum wallet.

Plain sync tests (see tests/browser_fixtures.py): async keyfob calls go through ``live.call``.
With ``KEYFOB_SCREENSHOTS=1`` the tests also write docs/screenshots/{registration,login}.png.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt

from keyfob.server.services.clients import create_client
from keyfob.store.records import ClientRecord
from tests.browser_fixtures import CallbackApp, LiveKeyfob, VirtualPasskeyPage
from tests.jsonwebtoken import verify_with_jsonwebtoken
from tests.node_clients import NodeClients

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
ETH_KEY = "0x" + "4c" * 32
PHONE: ViewportSize = {"width": 412, "height": 860}
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def make_client(
    live: LiveKeyfob, callback: CallbackApp, **options: Any
) -> tuple[ClientRecord, str]:
    values: dict[str, Any] = {"registration_enabled": True, "open_to_all": True, **options}
    return live.call(
        create_client,
        live.runtime,
        name="Demo App",
        redirect_uris=[callback.callback_url],
        **values,
    )


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("KEYFOB_SCREENSHOTS") == "1":
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        if size is not None:
            page.set_viewport_size(size)


def landed(page: Page, callback: CallbackApp, count: int) -> dict[str, str]:
    """Wait for the callback page; return what the callback received last."""
    page.wait_for_url(callback.callback_url + "?*")
    page.wait_for_selector("text=callback received")
    assert len(callback.received) == count
    received = callback.received[-1]
    assert received.method == "GET"
    return received.query


def check_token(
    live: LiveKeyfob,
    client: ClientRecord,
    secret: str,
    query: dict[str, str],
    state: str | None = "/after/sign-in",
) -> str:
    """The token verifies with PyJWT and with the seed's jsonwebtoken snippet; its userId."""
    assert query["clientId"] == client.id
    assert query.get("state") == state
    claims = jwt.decode(
        query["token"], secret, algorithms=["HS256"], audience=client.id, issuer=live.url
    )
    node = verify_with_jsonwebtoken(query["token"], secret)
    assert node["userId"] == claims["userId"] == claims["sub"]
    return str(claims["userId"])


def test_register_sso_logout_and_passkey_sign_in(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    callback_app: CallbackApp,
) -> None:
    live = live_keyfob()
    client, secret = make_client(live, callback_app)
    target = {"redirectUri": callback_app.callback_url, "state": "/after/sign-in"}
    login_url = f"{live.url}/auth/login/{client.id}?{urlencode(target)}"
    passkey = passkey_page()
    page = passkey.page

    page.goto(
        f"{live.url}/auth/registration/{client.id}?{urlencode({'username': 'alice', **target})}"
    )
    assert page.get_by_label("Username").input_value() == "alice"
    screenshot(page, "registration")
    page.get_by_role("button", name="Create account with a passkey").click()
    user_id = check_token(live, client, secret, landed(page, callback_app, 1))
    user = live.call(live.runtime.store.get_user, user_id)
    assert user is not None
    assert user.username == "alice"

    page.goto(login_url)  # SSO: straight back, no prompt
    assert check_token(live, client, secret, landed(page, callback_app, 2)) == user_id

    # Logged out, the login page offers the passkey through autofill (conditional mediation),
    # which the virtual authenticator answers at once: signed in without a click.
    # The logout lands on the login page without a state, so none comes back.
    page.goto(f"{live.url}/auth/logout/{client.id}")
    assert check_token(live, client, secret, landed(page, callback_app, 3), None) == user_id

    page.add_init_script(NO_AUTOFILL)  # from now on only the button can sign in
    page.goto(f"{live.url}/auth/logout/{client.id}")
    page.wait_for_url(f"{live.url}/auth/login/{client.id}")
    page.goto(login_url)
    page.get_by_role("button", name="Sign in with a passkey").click()
    assert check_token(live, client, secret, landed(page, callback_app, 4)) == user_id

    [credential] = passkey.credentials()
    assert credential["signCount"] >= 1
    page.goto(f"{live.url}/auth/logout/{client.id}")
    page.wait_for_url(f"{live.url}/auth/login/{client.id}")
    passkey.set_sign_count(credential["credentialId"], 0)
    page.goto(login_url)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_selector("#status.error")
    assert "may have been cloned" in page.locator("#status").inner_text()
    assert page.url == login_url
    assert len(callback_app.received) == 4
    events = live.call(
        live.runtime.store.audit_events, event="passkey_sign_count_regression", user_id=user_id
    )
    assert len(events) == 1
    assert json.loads(events[0].detail)["received"] == 1


def test_wallet_sign_in_with_injected_provider(
    live_keyfob: Callable[..., LiveKeyfob],
    chromium: Browser,
    callback_app: CallbackApp,
    node_clients: NodeClients,
) -> None:
    live = live_keyfob()
    client, secret = make_client(live, callback_app)
    address = node_clients.viem_sign(ETH_KEY, "address").address
    signed: list[str] = []

    def personal_sign(hex_message: str) -> str:
        message = bytes.fromhex(hex_message.removeprefix("0x")).decode()
        signed.append(message)
        return node_clients.viem_sign(ETH_KEY, message).signature

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.expose_function("keyfobTestPersonalSign", personal_sign)
        page.add_init_script(
            "window.ethereum = { request: async ({ method, params }) => {"
            f"  if (method === 'eth_requestAccounts') return [{json.dumps(address)}];"
            "  if (method === 'personal_sign') return window.keyfobTestPersonalSign(params[0]);"
            "  throw new Error('unsupported ' + method); } };"
        )
        target = {"redirectUri": callback_app.callback_url, "state": "/after/sign-in"}
        page.goto(f"{live.url}/auth/login/{client.id}?{urlencode(target)}")
        ethereum = page.get_by_role("button", name="Sign in with Ethereum")
        ethereum.wait_for()
        screenshot(page, "login")  # with a wallet in the browser, so its button shows
        ethereum.click()
        user_id = check_token(live, client, secret, landed(page, callback_app, 1))
    finally:
        context.close()
    assert len(signed) == 1
    assert address in signed[0]
    user = live.call(live.runtime.store.get_user, user_id)
    assert user is not None
    assert [i.address for i in user.identities] == [address]
