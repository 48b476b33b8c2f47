"""The account page's sign-in methods in headless Chromium: a virtual passkey authenticator and
an injected EIP-1193 wallet, every change confirmed through the page's step-up panel.

Plain sync tests (see tests/browser_fixtures.py): async keyfob calls go through ``live.call``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.browser_fixtures import LiveKeyfob, VirtualPasskeyPage, inject_ethereum
from tests.node_clients import NodeClients
from tests.server.signin import ETH_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
# An account made with a passkey through the JSON API, from a page of keyfob's origin (the
# account page makes no accounts).
REGISTER = """async () => {
  const kf = window.keyfob;
  const options = await kf.postJSON("/auth/passkey/register/options", {username: "alice"});
  const credential = await navigator.credentials.create({publicKey: kf.creationOptions(options)});
  const done = await kf.postJSON(
    "/auth/passkey/register/verify", {credential: kf.credentialJSON(credential)});
  return done.user.id;
}"""


def register_account(live: LiveKeyfob, page: Page) -> str:
    """Create an account whose one method is a passkey of the page's authenticator; its id."""
    page.add_init_script(NO_AUTOFILL)
    page.goto(f"{live.url}/account/login")
    user_id: str = page.evaluate(REGISTER)
    return user_id


def sign_in_with_passkey(live: LiveKeyfob, page: Page) -> None:
    """Sign in on /account/login with the button; land on the account page."""
    page.goto(f"{live.url}/account/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{live.url}/account")


def flash(page: Page, done: str) -> str:
    """Wait for the account page with the flash of ``done``; its sentence."""
    page.wait_for_url(f"**/account?done={done}")
    return page.locator(".flash").inner_text()


def sign_out(live: LiveKeyfob, page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{live.url}/account/login")


def passkey_ids(live: LiveKeyfob, user_id: str) -> list[tuple[str, str, str | None]]:
    """The account's passkeys, oldest first: (identity id, credential id, name)."""
    found = live.call(live.runtime.store.passkeys_of_user, user_id)
    return [(p.identity.id, p.identity.address, p.name) for p in found]


def test_add_a_second_passkey_remove_the_first_and_sign_in_with_the_second(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    live = live_keyfob()
    device = passkey_page()
    page = device.page
    user_id = register_account(live, page)
    sign_in_with_passkey(live, page)
    [(first_id, first_credential, _)] = passkey_ids(live, user_id)
    [first] = device.credentials()
    authenticator = {"authenticatorId": device.authenticator_id}

    # The new passkey is made on the same authenticator, which must not hold a credential
    # the registration excludes (the first): it is set aside once the first has confirmed,
    # when the page asks for the registration options, and put back at the end.
    def set_first_aside(route: Route) -> None:
        remove = {**authenticator, "credentialId": first["credentialId"]}
        device.cdp.send("WebAuthn.removeCredential", remove)
        route.continue_()

    page.route("**/account/passkeys/options", set_first_aside)
    page.get_by_label("Name of the new passkey").fill("Second key")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    page.get_by_role("button", name="Confirm with a passkey").click()
    assert "Your new passkey is ready" in flash(page, "passkey_added")
    page.unroute("**/account/passkeys/options")
    passkeys = passkey_ids(live, user_id)
    assert [(p[0], p[2]) for p in passkeys] == [(first_id, None), (passkeys[1][0], "Second key")]
    second_id = passkeys[1][0]
    assert page.locator(f"#passkey-{second_id} .method-name").inner_text() == "Second key"
    [second] = device.credentials()
    assert second["credentialId"] != first["credentialId"]

    # The grant still holds: removing the first passkey asks for no confirmation.
    page.locator(f"#passkey-{first_id} button.danger").click()
    assert "sessions it opened have ended" in flash(page, "method_removed")
    assert [p[0] for p in passkey_ids(live, user_id)] == [second_id]
    assert page.locator(f"#passkey-{first_id}").count() == 0
    events = live.call(live.runtime.store.audit_events, event="step_up", user_id=user_id)
    assert len(events) == 1
    sign_out(live, page)

    # The first passkey, back on the authenticator alone, signs in no more.
    device.cdp.send(
        "WebAuthn.removeCredential", {**authenticator, "credentialId": second["credentialId"]}
    )
    device.cdp.send("WebAuthn.addCredential", {**authenticator, "credential": first})
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_selector("#status.error")
    assert "not registered" in page.locator("#status").inner_text()
    assert page.url == f"{live.url}/account/login"

    # The second one does.
    device.cdp.send(
        "WebAuthn.removeCredential", {**authenticator, "credentialId": first["credentialId"]}
    )
    device.cdp.send("WebAuthn.addCredential", {**authenticator, "credential": second})
    sign_in_with_passkey(live, page)
    assert page.locator(f"#passkey-{second_id}").count() == 1
    assert first_credential not in page.content()
    [used] = live.call(live.runtime.store.passkeys_of_user, user_id)
    assert used.identity.last_used_at is not None


def test_link_a_wallet_then_confirm_a_rename_with_it(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    node_clients: NodeClients,
) -> None:
    live = live_keyfob()
    device = passkey_page()
    page = device.page
    signed: list[str] = inject_ethereum(page, node_clients, ETH_KEY)
    address = node_clients.viem_sign(ETH_KEY, "address").address
    user_id = register_account(live, page)
    sign_in_with_passkey(live, page)

    page.get_by_role("button", name="Link an Ethereum wallet").click()
    page.get_by_role("button", name="Confirm with a passkey").click()
    assert "The wallet was linked" in flash(page, "wallet_linked")
    assert address in page.locator("#wallets-list").inner_text()
    assert len(signed) == 1
    assert "keyfob-step-up" not in signed[0]  # a sign-in message: the passkey confirmed
    user: Any = live.call(live.runtime.store.get_user, user_id)
    assert {i.kind for i in user.identities} == {"passkey", "ethereum"}
    sign_out(live, page)

    # The linked wallet signs in to the account; a change is then confirmed with it.
    page.get_by_role("button", name="Sign in with Ethereum").click()
    page.wait_for_url(f"{live.url}/account")
    [(passkey_id, _, _)] = passkey_ids(live, user_id)
    page.locator(f"#name-{passkey_id}").fill("Laptop")
    page.locator(f"#passkey-{passkey_id}").get_by_role("button", name="Rename").click()
    confirm = page.get_by_role("button", name="Confirm with your Ethereum wallet")
    confirm.click()
    assert flash(page, "passkey_renamed") == "The passkey was renamed."
    assert passkey_ids(live, user_id)[0][2] == "Laptop"
    assert "Request ID: keyfob-step-up" in signed[-1]
    events = live.call(live.runtime.store.audit_events, event="step_up", user_id=user_id)
    assert sorted(json.loads(e.detail)["method"] for e in events) == ["ethereum", "passkey"]
