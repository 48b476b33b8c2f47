"""keyfob.js in headless Chromium, from a page on another loopback origin that
``KEYFOB_CORS_ORIGINS`` lists: seed 002's flow (nonce, sign, login, an authenticated call,
refresh, logout) with an injected EIP-1193 wallet, one refresh for two tabs, passkeys.

Plain sync tests (see tests/browser_fixtures.py). keyfob is watched from the server side
(:class:`~tests.server.pages.cross_origin.Recorder`): Playwright's routing would answer the
preflights itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser_fixtures import LiveKeyfob, VirtualPasskeyPage, inject_ethereum
from tests.node_clients import NodeClients
from tests.server.pages.cross_origin import AppSite, Recorder, serve_app_site, tamper

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ETH_KEY = "0x" + "4c" * 32
NOT_THE_RP_IDS_SITE = (
    "The relying party ID is not a registrable domain suffix of, nor equal to the current "
    "domain. Subsequently, an attempt to fetch the .well-known/webauthn resource of the claimed "
    "RP ID failed."
)
WITHOUT_JSON_HELPERS = """
delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
"""


@pytest.fixture
def app_site() -> Iterator[AppSite]:
    with serve_app_site() as site:
        yield site


def start_client(page: Page, live: LiveKeyfob, *, module: str | None = None, storage: str) -> None:
    """Import keyfob.js (from keyfob, or ``module``) into ``page`` as ``window.kf``; its events
    go to ``window.events``."""
    page.evaluate(
        """async ({ baseUrl, module, storage }) => {
            const { createKeyfob } = await import(module);
            window.events = [];
            const options = { baseUrl };
            if (storage !== "memory") options.storage = window[storage];
            window.kf = createKeyfob(options);
            kf.onSignIn((user) => events.push(["signin", user.id]));
            kf.onSignOut((reason) => events.push(["signout", reason]));
            kf.onTokens((tokens) => events.push(["tokens", tokens.refreshToken]));
        }""",
        {
            "baseUrl": live.url,
            "module": module or f"{live.url}/static/keyfob.js",
            "storage": storage,
        },
    )


def call(page: Page, url: str) -> tuple[int, Any]:
    """``kf.fetch(url)``: its status and JSON body (None for none)."""
    status, body = page.evaluate(
        "async (url) => { const r = await kf.fetch(url); return [r.status, await r.text()]; }", url
    )
    return status, json.loads(body) if body else None


def outcome(page: Page, script: str) -> str:
    """How the promise ``script`` makes ends: ``"ok"``, or ``"<error name>: <detail>"``, the
    detail a KeyfobError's code, another error's message."""
    detail = "e.name === 'KeyfobError' ? e.code : e.message"
    return str(
        page.evaluate(f"() => ({script}).then(() => 'ok', (e) => `${{e.name}}: ${{{detail}}}`)")
    )


def test_the_seed_002_flow_from_another_origin(
    live_keyfob: Callable[..., LiveKeyfob],
    chromium: Browser,
    app_site: AppSite,
    node_clients: NodeClients,
) -> None:
    recorder = Recorder()
    app = app_site.origin("127.0.0.1")  # keyfob is http://localhost:<port>
    live = live_keyfob(cors_origins=app, wrap=recorder.wrap)
    context = chromium.new_context()
    try:
        signed = inject_ethereum(context, node_clients, ETH_KEY)
        page = context.new_page()
        page.goto(f"{app}/blank.html")
        start_client(page, live, storage="sessionStorage")

        user = page.evaluate("() => kf.signInWithWallet(window.ethereum)")
        [message] = signed
        address = user["identities"][0]["address"]
        assert f"wants you to sign in with your Ethereum account:\n{address}" in message
        assert f"URI: {live.url}\n" in message
        assert call(page, f"{live.url}/auth/me") == (200, user)
        assert page.evaluate("() => kf.user === kf.user")  # one object until the tokens change

        tamper(page, live.url, "accountToken")  # as if it had expired: 401, refresh, again
        assert call(page, f"{live.url}/auth/me")[0] == 200
        refreshed = page.evaluate("() => kf.refresh()")
        assert page.evaluate("() => kf.tokens()") == refreshed
        assert page.evaluate("() => kf.logout()") is True
        assert page.evaluate("() => kf.user") is None
        status, body = call(page, f"{live.url}/auth/me")
        events = page.evaluate("() => events")
    finally:
        context.close()
    assert (status, body["error"]) == (401, "invalid_token")  # signed out: no token, no refresh
    tokens = [event[1] for event in events if event[0] == "tokens"]
    assert events == [
        ["tokens", tokens[0]],
        ["signin", user["id"]],
        ["tokens", tokens[1]],
        ["tokens", tokens[2]],
        ["signout", "logout"],
    ]
    assert len(set(tokens)) == 3
    assert tokens[2] == refreshed["refreshToken"]
    assert recorder.calls() == [
        ("GET", "/static/keyfob.js", 200),
        ("POST", "/auth/nonce", 200),
        ("POST", "/auth/login", 200),
        ("GET", "/auth/me", 200),
        ("GET", "/auth/me", 401),
        ("POST", "/auth/refresh", 200),
        ("GET", "/auth/me", 200),
        ("POST", "/auth/refresh", 200),
        ("POST", "/auth/logout", 204),
        ("GET", "/auth/me", 401),
    ]
    preflights = dict(recorder.preflights())
    assert set(preflights) == {
        "/auth/nonce",
        "/auth/login",
        "/auth/me",
        "/auth/refresh",
        "/auth/logout",
    }
    assert set(preflights.values()) == {200}
    ended = httpx.post(f"{live.url}/auth/refresh", json={"refreshToken": tokens[2]})
    assert ended.status_code == 401  # the logout ended the session


def test_an_origin_not_listed_fails_at_the_preflight(
    live_keyfob: Callable[..., LiveKeyfob],
    chromium: Browser,
    app_site: AppSite,
    node_clients: NodeClients,
) -> None:
    recorder = Recorder()
    listed, stranger = app_site.origin("localhost"), app_site.origin("127.0.0.1")
    live = live_keyfob(cors_origins=listed, wrap=recorder.wrap)
    app_site.meta["keyfob-url"] = live.url
    context = chromium.new_context()
    try:
        signed = inject_ethereum(context, node_clients, ETH_KEY)
        page = context.new_page()
        page.goto(f"{stranger}/")  # the example app: its import of keyfob.js is refused
        status = page.locator("#status")
        status.filter(has_text="KEYFOB_CORS_ORIGINS").wait_for()
        assert f"is {stranger} in KEYFOB_CORS_ORIGINS?" in status.inner_text()
        # With its own copy of keyfob.js, the app's first call fails at the preflight.
        start_client(page, live, module="/vendor/keyfob.js", storage="memory")
        failed = outcome(page, "kf.signInWithWallet(window.ethereum)")
    finally:
        context.close()
    assert failed == "TypeError: Failed to fetch"
    assert signed == []
    assert recorder.preflights() == [("/auth/nonce", 405)]
    assert recorder.calls() == [("GET", "/static/keyfob.js", 200)]  # sent, but not for it


def test_two_tabs_that_get_a_401_at_once_refresh_once(
    live_keyfob: Callable[..., LiveKeyfob],
    chromium: Browser,
    app_site: AppSite,
    node_clients: NodeClients,
) -> None:
    recorder = Recorder()
    app = app_site.origin("localhost")
    live = live_keyfob(cors_origins=app, wrap=recorder.wrap)
    context = chromium.new_context()
    try:
        inject_ethereum(context, node_clients, ETH_KEY)
        tabs = [context.new_page(), context.new_page()]
        for tab in tabs:
            tab.goto(f"{app}/blank.html")
            start_client(tab, live, storage="localStorage")
        user = tabs[0].evaluate("() => kf.signInWithWallet(window.ethereum)")
        assert tabs[1].evaluate("() => kf.user") == user  # one session in shared storage
        tamper(tabs[0], live.url, "accountToken", storage="localStorage")
        recorder.held.add("/auth/refresh")
        for tab in tabs:
            tab.evaluate(
                "(url) => { window.answer = kf.fetch(url).then((r) => r.status); }",
                f"{live.url}/auth/me",
            )
        # One tab's refresh is at keyfob (held there); the other tab waits for the lock.
        tabs[1].evaluate(
            """() => { (async function poll() {
                const { held, pending } = await navigator.locks.query();
                if (held.length === 1 && pending.length === 1) window.waiting = true;
                else setTimeout(poll, 10);
            })(); }"""
        )
        tabs[1].wait_for_function("() => window.waiting === true")
        recorder.release()
        statuses = [tab.evaluate("() => window.answer") for tab in tabs]
        final = tabs[0].evaluate("() => kf.tokens().refreshToken")
        seen = [tab.evaluate("() => events.map((e) => e[1])") for tab in tabs]
    finally:
        recorder.release()
        context.close()
    assert statuses == [200, 200]
    assert recorder.calls("/auth/refresh") == [("POST", "/auth/refresh", 200)]
    assert [s for _, _, s in recorder.calls("/auth/me")] == [401, 401, 200, 200]
    assert all(final in events for events in seen)  # the other tab heard of the new tokens


@pytest.mark.parametrize("helpers", [True, False], ids=["json-helpers", "by-hand"])
def test_passkeys_through_the_client_from_the_same_host(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    app_site: AppSite,
    helpers: bool,
) -> None:
    app = app_site.origin("localhost")  # the RP ID is keyfob's host: localhost, any port
    subdomain = app_site.origin("app.localhost")
    live = live_keyfob(cors_origins=f"{app},{subdomain}", webauthn_origins=f"{app},{subdomain}")
    passkey = passkey_page()
    page = passkey.page
    if not helpers:
        page.add_init_script(WITHOUT_JSON_HELPERS)
    page.goto(f"{app}/blank.html")
    start_client(page, live, storage="memory")
    parse = page.evaluate("() => typeof PublicKeyCredential.parseRequestOptionsFromJSON")
    assert parse == ("function" if helpers else "undefined")

    user = page.evaluate("() => kf.registerPasskey({ username: 'alice' })")
    assert user["username"] == "alice"
    [credential] = passkey.credentials()
    assert credential["rpId"] == "localhost"
    assert page.evaluate("() => kf.logout()") is True
    again = page.evaluate("() => kf.signInWithPasskey()")
    assert again["id"] == user["id"]
    assert call(page, f"{live.url}/auth/me")[1]["username"] == "alice"
    # "localhost" is a top-level name, so a public suffix: no RP ID for its subdomains.
    page.goto(f"{subdomain}/blank.html")
    start_client(page, live, storage="memory")
    refused = outcome(page, "kf.signInWithPasskey()")
    assert refused == f"SecurityError: {NOT_THE_RP_IDS_SITE}"


def test_passkeys_work_on_the_rp_ids_site_from_the_origins_keyfob_lists(
    live_keyfob: Callable[..., LiveKeyfob],
    passkey_page: Callable[..., VirtualPasskeyPage],
    app_site: AppSite,
) -> None:
    # As keyfob at auth.site.localhost with KEYFOB_WEBAUTHN_RP_ID=site.localhost (a registrable
    # domain: "localhost" is a top-level name, so a public suffix and no RP ID for subdomains).
    app, unlisted, other_site, ip = (
        app_site.origin(host)
        for host in ("app.site.localhost", "www.site.localhost", "other.localhost", "127.0.0.1")
    )
    live = live_keyfob(
        cors_origins=",".join((app, unlisted, other_site, ip)),
        webauthn_rp_id="site.localhost",
        webauthn_origins=app,
    )
    passkey = passkey_page()
    page = passkey.page
    register = "kf.registerPasskey({ username: 'bob' })"
    refusals = {}
    for origin in (unlisted, other_site, ip):
        page.goto(f"{origin}/blank.html")
        start_client(page, live, storage="memory")
        refusals[origin] = outcome(page, register)
    # The passkey made for the unlisted origin stays in the authenticator, unknown to keyfob;
    # removed here, or a usernameless sign-in below could pick it.
    [stray] = passkey.credentials()
    assert stray["rpId"] == "site.localhost"
    passkey.cdp.send(
        "WebAuthn.removeCredential",
        {"authenticatorId": passkey.authenticator_id, "credentialId": stray["credentialId"]},
    )
    page.goto(f"{app}/blank.html")
    start_client(page, live, storage="memory")
    user = page.evaluate(f"() => {register}")
    assert user["username"] == "bob"
    assert page.evaluate("() => kf.logout()") is True
    assert page.evaluate("() => kf.signInWithPasskey()")["id"] == user["id"]
    assert refusals == {
        unlisted: "KeyfobError: invalid_credential",  # not in KEYFOB_WEBAUTHN_ORIGINS
        other_site: "SecurityError: " + NOT_THE_RP_IDS_SITE,
        ip: "SecurityError: This is an invalid domain.",  # no passkey on an IP address
    }
    assert [c["rpId"] for c in passkey.credentials()] == ["site.localhost"]
