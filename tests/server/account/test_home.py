"""``GET /account`` and ``POST /account/sign-out``: who gets in, what the page lists, the
CSRF and Origin checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.sso import PLAIN_COOKIE
from tests.server.account.holder import ADDRESS, signed_in
from tests.server.admin.panel import make_user, sso_session
from tests.server.conftest import Server


async def test_anonymous_is_sent_to_the_sign_in_page(server: Server) -> None:
    response = await server.client.get("/account")
    assert (response.status_code, response.headers["location"]) == (303, "/account/login")
    assert response.headers["cache-control"] == "no-store"


async def test_a_disabled_or_expired_session_is_sent_to_sign_in(server: Server) -> None:
    user = await make_user(server, "0x" + "d1" * 20, disabled=True)
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, user))
    assert (await server.client.get("/account")).headers["location"] == "/account/login"
    other = await make_user(server, "0x" + "d2" * 20)
    long_ago = server.runtime.now() - timedelta(days=31)
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, other, signed_in=long_ago))
    assert (await server.client.get("/account")).headers["location"] == "/account/login"


async def test_the_page_lists_the_sign_in_methods(server: Server) -> None:
    browser = await signed_in(server)
    page = await browser.page()
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert ADDRESS.lower() in page.text.lower()
    assert "Ethereum" in page.text
    assert browser.user.id in page.text
    assert "No passkey on this account." in page.text
    assert 'id="recovery-title"' in page.text


async def test_an_app_sign_in_opens_the_account_page_too(server: Server) -> None:
    """The SSO session of a client app's hosted page (here a passkey one) is the account
    page's session: no second sign-in."""
    user = await make_user(server, "0x" + "a1" * 20)
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, user, amr=("hwk",)))
    assert (await server.client.get("/account")).status_code == 200


async def test_sign_out_ends_the_session(server: Server) -> None:
    browser = await signed_in(server)
    response = await browser.post("/account/sign-out")
    assert (response.status_code, response.headers["location"]) == (303, "/account/login")
    assert 'keyfob_sso=""' in response.headers["set-cookie"]
    store = server.runtime.store
    assert (
        await store.get_sso_session(hash_refresh_token(browser.token), now=server.clock()) is None
    )
    [event] = await store.audit_events(event="sso_logout")
    assert event.user_id == browser.user.id
    again = await browser.client.get("/account")
    assert again.headers["location"] == "/account/login"


@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        (None, {}),
        ("0" * 64, {}),
        ("page", {"origin": "https://evil.example"}),
        ("page", {"sec-fetch-site": "cross-site"}),
    ],
    ids=["no-token", "wrong-token", "other-origin", "cross-site"],
)
async def test_sign_out_refuses_forged_forms(
    server: Server, csrf: str | None, headers: dict[str, str]
) -> None:
    browser = await signed_in(server)
    response = await browser.post("/account/sign-out", csrf=csrf, headers=headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Your account" in response.text  # the account page again, the message on it
    store = server.runtime.store
    live = await store.get_sso_session(hash_refresh_token(browser.token), now=server.clock())
    assert live is not None


async def test_a_token_of_another_session_is_refused(server: Server) -> None:
    browser = await signed_in(server)
    other = await signed_in(server, "0x" + "ab" * 20)
    response = await browser.post("/account/sign-out", csrf=await other.csrf())
    assert response.status_code == 403


async def test_unknown_account_paths_are_html_pages(server: Server) -> None:
    browser = await signed_in(server)
    missing = await browser.client.get("/account/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert missing.headers["cache-control"] == "no-store"
