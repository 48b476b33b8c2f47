"""In Chromium: an admin enrolled by a one-time link creates a client and grants a user access.

Plain sync tests (Playwright's sync API holds the main thread's loop; see browser_fixtures).
``KEYFOB_SCREENSHOTS=1`` saves docs/screenshots/admin-clients.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from keyfob.server.services.enrollment import create_enrollment_link
from tests.browser_fixtures import LiveKeyfob, VirtualPasskeyPage

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
BOB = "0x" + "b0" * 20


def test_admin_enrols_creates_a_client_and_grants_a_user(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    live = live_keyfob()
    store = live.runtime.store
    link, _ = live.call(create_enrollment_link, store, public_url=live.url, now=live.runtime.now())
    bob, _ = live.call(
        store.sign_in_identity,
        kind="ethereum",
        address=BOB,
        public_key=None,
        now=live.runtime.now(),
    )
    page = passkey_page().page
    page.set_viewport_size({"width": 1280, "height": 800})
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if message.type == "error" else None
    )

    page.goto(link)
    page.get_by_label("Username").fill("root")
    page.get_by_role("button", name="Register admin passkey").click()
    page.wait_for_url(f"{live.url}/admin/clients")

    page.get_by_role("link", name="New client").click()
    page.get_by_label("Name").fill("Team Wiki")
    page.get_by_label("Redirect URIs, one per line", exact=True).fill(
        "https://wiki.example/callback\nhttps://wiki.example/other"
    )
    page.get_by_label("Only users given permission").check()
    page.get_by_label("Token delivery").select_option("fragment")
    page.get_by_role("button", name="Create client").click()
    page.locator("#client-secret").wait_for()
    assert "shown only once" in page.locator(".warning").inner_text()
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    assert re.fullmatch(r"[0-9a-f-]{36}", client_id)
    assert len(secret) >= 43
    client = live.call(store.get_client, client_id)
    assert client is not None
    assert client.name == "Team Wiki"
    assert not client.open_to_all
    assert client.redirect_uris == ("https://wiki.example/callback", "https://wiki.example/other")

    page.get_by_role("link", name="Users").click()
    page.get_by_label("User id, username or address").fill(BOB)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=bob.id).click()
    page.wait_for_url(f"{live.url}/admin/users/{bob.id}")
    page.get_by_label("Client").select_option(label="Team Wiki")
    page.get_by_role("button", name="Grant permission").click()
    page.get_by_text("Permission granted.").wait_for()
    assert live.call(store.has_permission, bob.id, client_id)
    admins = live.call(store.users_with_role, "admin")
    (granted,) = live.call(store.audit_events, event="admin.permission_granted")
    assert (granted.user_id, granted.client_id, granted.actor_id) == (bob.id, client_id, admins[0])

    page.get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Team Wiki").wait_for()
    if os.environ.get("KEYFOB_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "admin-clients.png"), full_page=True)
    assert not [text for text in refused if "Content Security Policy" in text], refused


# In the page: each control of the OpenID Connect fieldset, its <label>'s text and whether
# every id its aria-describedby names is on the page.
OIDC_CONTROLS = """() => [...document.querySelectorAll(
  "fieldset.oidc input, fieldset.oidc select, fieldset.oidc textarea")].map((control) => ({
    name: control.name,
    label: [...control.labels].map((label) => label.textContent.trim()).join(" "),
    hints: (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
      .every((id) => document.getElementById(id) !== null),
  }))"""


def test_the_oidc_fieldset_is_labelled_and_registers_a_public_client(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    """Every control of the fieldset has a <label> (and its hints exist); a public client
    made with them is stored as such, and its secret page says OIDC needs no secret."""
    live = live_keyfob()
    store = live.runtime.store
    link, _ = live.call(create_enrollment_link, store, public_url=live.url, now=live.runtime.now())
    page = passkey_page().page
    page.goto(link)
    page.get_by_label("Username").fill("root")
    page.get_by_role("button", name="Register admin passkey").click()
    page.wait_for_url(f"{live.url}/admin/clients")
    page.goto(f"{live.url}/admin/clients/new")

    controls = page.evaluate(OIDC_CONTROLS)
    names = {control["name"] for control in controls}
    assert names == {
        "client_type", "token_endpoint_auth_method", "scopes", "post_logout_redirect_uris",
        "subject_type", "id_token_alg", "backchannel_logout_uri", "first_party",
        "issue_refresh_tokens", "refresh_lifetime_minutes", "jwks", "resources",
        "synthetic_email",
    }  # fmt: skip
    unlabelled = [control for control in controls if not control["label"]]
    assert not unlabelled, unlabelled
    assert all(control["hints"] for control in controls), controls
    fieldset = page.get_by_role("group", name="OpenID Connect")
    assert fieldset.get_by_role("checkbox").count() == 5 + 3  # the scopes, three switches
    assert fieldset.get_by_role("checkbox", name="openid").is_checked()

    page.get_by_label("Name").fill("Mobile")
    page.get_by_label("Redirect URIs, one per line", exact=True).fill("https://m.example/cb")
    page.get_by_label("Public: a browser or mobile app").check()
    fieldset.get_by_role("checkbox", name="wallet").check()
    page.get_by_label("Post-logout redirect URIs, one per line").fill("https://m.example/bye")
    page.get_by_label("ID token algorithm").select_option("EdDSA")
    page.get_by_label("First-party app: skip the consent page").check()
    page.get_by_role("button", name="Create client").click()
    page.locator("#client-secret").wait_for()
    assert "OpenID Connect needs no secret" in page.locator("#secret-use").inner_text()
    client = live.call(store.get_client, page.locator("#client-id").inner_text())
    assert client is not None
    assert (client.client_type, client.token_endpoint_auth_method) == ("public", "none")
    assert client.scopes == ("openid", "profile", "wallet")
    assert client.post_logout_redirect_uris == ("https://m.example/bye",)
    assert (client.id_token_alg, client.first_party) == ("EdDSA", True)


NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
# In the page: a sign-in challenge from the JSON API, answered without user verification (the
# script asks for none, as an attacker's would), the assertion posted to the admin sign-in.
UNVERIFIED_ADMIN_SIGN_IN = """async () => {
  const kf = window.keyfob;
  const json = await kf.postJSON("/auth/passkey/login/options", {});
  json.userVerification = "discouraged";
  const credential = await navigator.credentials.get({ publicKey: kf.requestOptions(json) });
  const response = await fetch("/admin/login/passkey", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ credential: kf.credentialJSON(credential) }),
  });
  return { status: response.status, body: await response.json() };
}"""


def test_admin_signs_out_and_a_passkey_without_user_verification_is_refused(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    """The sign-out button ends the session (audited); the admin sign-in then refuses the
    same passkey's assertion without user verification (UV flag off), although
    KEYFOB_WEBAUTHN_USER_VERIFICATION is "preferred" (before: accepted); with UV it signs in."""
    live = live_keyfob()
    assert live.settings.webauthn_user_verification == "preferred"
    store = live.runtime.store
    link, _ = live.call(create_enrollment_link, store, public_url=live.url, now=live.runtime.now())
    passkey = passkey_page()
    page = passkey.page
    page.add_init_script(NO_AUTOFILL)
    page.goto(link)
    page.get_by_label("Username").fill("root")
    page.get_by_role("button", name="Register admin passkey").click()
    page.wait_for_url(f"{live.url}/admin/clients")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{live.url}/admin/login")
    (signed_out,) = live.call(store.audit_events, event="admin.sign_out")
    page.goto(f"{live.url}/admin/clients")
    page.wait_for_url(f"{live.url}/admin/login")  # the session is gone

    # The script asks for no user verification, so the authenticator answers without it.
    answer = page.evaluate(UNVERIFIED_ADMIN_SIGN_IN)
    assert answer["status"] == 401, answer
    assert answer["body"]["error"] == "invalid_credential"
    assert "user verification is required" in answer["body"]["message"].lower(), answer
    (refused,) = live.call(store.audit_events, event="sign_in_failed")
    assert refused.detail is not None
    assert "invalid_credential" in refused.detail
    page.goto(f"{live.url}/admin/clients")
    page.wait_for_url(f"{live.url}/admin/login")

    # The page itself asks for verification: an authenticator failing it gets nowhere.
    ids = {"authenticatorId": passkey.authenticator_id}
    passkey.cdp.send("WebAuthn.setUserVerified", {**ids, "isUserVerified": False})
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_selector("#status.error")
    assert page.url == f"{live.url}/admin/login"

    passkey.cdp.send("WebAuthn.setUserVerified", {**ids, "isUserVerified": True})
    page.reload()
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{live.url}/admin/clients")
    assert signed_out.actor_id == signed_out.user_id
