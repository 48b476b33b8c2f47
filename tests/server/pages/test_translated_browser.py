"""The hosted pages in German in headless Chromium: the page scripts speak the page's language.

The scripts read their strings from the page's JSON block (no inline script: the strict CSP
stays as it is), and translate a server error the page shows when it is one of the page error
sentences. Plain sync tests (see tests/browser_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from keyfob.server.services.clients import create_client
from tests.browser_fixtures import CallbackApp, LiveKeyfob, VirtualPasskeyPage

NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def test_register_and_a_refused_sign_in_in_german(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    callback_app: CallbackApp,
) -> None:
    live = live_keyfob()
    client, _ = live.call(
        create_client,
        live.runtime,
        name="Demo App",
        redirect_uris=[callback_app.callback_url],
        registration_enabled=True,
        open_to_all=True,
    )
    passkey = passkey_page()
    page = passkey.page
    page.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9"})
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.add_init_script(NO_AUTOFILL)
    target = urlencode({"redirectUri": callback_app.callback_url})

    page.goto(f"{live.url}/auth/registration/{client.id}?{target}")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_label("Benutzername").fill("anna")
    page.get_by_role("button", name="Konto mit einem Passkey erstellen").click()
    page.wait_for_url(callback_app.callback_url + "?*")

    page.goto(f"{live.url}/auth/logout/{client.id}")
    page.wait_for_url(f"{live.url}/auth/login/{client.id}")
    [credential] = passkey.credentials()
    passkey.set_sign_count(credential["credentialId"], 0)  # as a cloned passkey would
    page.goto(f"{live.url}/auth/login/{client.id}?{target}")
    assert page.title() == "Bei Demo App anmelden · keyfob"
    page.get_by_role("button", name="Mit einem Passkey anmelden").click()
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text() == (
        "Der Signaturzähler dieses Passkeys ist zurückgegangen, ein Zeichen, dass er geklont "
        "worden sein könnte; die Anmeldung wurde abgelehnt."
    )
    assert len(callback_app.received) == 1
    assert not [text for text in violations if "Content Security Policy" in text]


def test_a_browser_without_passkeys_is_told_in_german(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
) -> None:
    live = live_keyfob()
    page = passkey_page().page
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.add_init_script("delete window.PublicKeyCredential;")
    page.goto(f"{live.url}/account/login")
    page.get_by_role("button", name="Mit einem Passkey anmelden").click()
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text() == "Dieser Browser unterstützt keine Passkeys."
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{live.url}/account/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text() == "This browser does not support passkeys."
