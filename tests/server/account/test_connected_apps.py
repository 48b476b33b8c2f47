"""The account page's connected apps: the OpenID Connect clients a user signed in to or
allowed, with their scopes, and revoking one (SQLite and PostgreSQL, both routings)."""

from __future__ import annotations

import json

import pytest

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.sso import PLAIN_COOKIE
from tests.node_clients import NodeClients
from tests.server.account.holder import Browser, signed_in
from tests.server.account.test_sessions import FORGED
from tests.server.conftest import Server
from tests.server.oidc.flow import Rp, code_for, exchange, register

ALLOWED = ("openid", "profile", "email")


async def _signed_in_at(server: Server, clients: NodeClients, rp: Rp) -> tuple[Browser, str]:
    """Sign in at ``rp`` through OpenID Connect; the browser (its SSO session is the account
    page's too) and the grant's refresh token."""
    back = await code_for(server, clients, rp, scope="openid profile offline_access")
    tokens = (await exchange(server, rp, back["code"])).json()
    token = server.client.cookies[PLAIN_COOKIE]
    sso = await server.runtime.store.get_sso_session(hash_refresh_token(token), now=server.clock())
    assert sso is not None
    user = await server.runtime.store.get_user(sso.user_id)
    assert user is not None
    return Browser(server, user, token, server.client), tokens["refresh_token"]


async def _refresh_error(server: Server, rp: Rp, refresh_token: str) -> str | None:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    answer = (await server.client.post("/oidc/token", data=form, headers=rp.basic())).json()
    error: str | None = answer.get("error")
    return error


async def test_an_app_signed_in_to_is_listed_and_revoked(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)  # first party: no consent asked, the grant is the connection
    browser, refresh = await _signed_in_at(server, node_clients, rp)
    page = (await browser.page()).text
    assert f'id="app-{rp.id}"' in page
    assert "Demo RP" in page
    assert "offline_access, openid, profile" in page
    assert "Last sign-in" in page

    response = await browser.post("/account/apps/revoke", {"client_id": rp.id})
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/account?done=app_revoked",
    )
    after = (await browser.client.get(response.headers["location"])).text
    assert "The app is disconnected" in after
    assert "No app is connected to this account." in after
    assert await _refresh_error(server, rp, refresh) == "invalid_grant"
    [event] = await server.runtime.store.audit_events(event="account.app_revoked")
    assert (event.user_id, event.client_id) == (browser.user.id, rp.id)
    assert json.loads(event.detail) == {"consent": False, "grants": 1}


async def test_an_app_allowed_is_listed_and_its_consent_taken_back(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server, name="Notes", first_party=False)
    browser = await signed_in(server)
    store = server.runtime.store
    await store.grant_consent(browser.user.id, rp.id, ALLOWED, now=server.clock())
    page = (await browser.page()).text
    assert "Notes" in page
    assert "email, openid, profile" in page
    assert "Allowed" in page
    assert "Last sign-in" not in page  # allowed, never signed in since

    response = await browser.post("/account/apps/revoke", {"client_id": rp.id})
    assert response.headers["location"] == "/account?done=app_revoked"
    assert await store.get_consent(browser.user.id, rp.id) is None
    [event] = await store.audit_events(event="account.app_revoked")
    assert json.loads(event.detail) == {"consent": True, "grants": 0}


async def test_revoking_one_app_leaves_the_others(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)
    other = await register(server, name="Wiki", first_party=False)
    browser, refresh = await _signed_in_at(server, node_clients, rp)
    store = server.runtime.store
    await store.grant_consent(browser.user.id, other.id, ALLOWED, now=server.clock())
    await browser.post("/account/apps/revoke", {"client_id": other.id})
    assert await _refresh_error(server, rp, refresh) is None  # rotated: still connected
    assert f'id="app-{rp.id}"' in (await browser.page()).text


@pytest.mark.parametrize(
    "client_id",
    ["never", "", "00000000-0000-4000-8000-000000000000", "x" * 5000, "bobs"],
    ids=["never-connected", "empty", "unknown", "huge", "another-users"],
)
async def test_an_app_not_connected_is_not_found(server: Server, client_id: str) -> None:
    rp = await register(server, name="Notes", first_party=False)
    alice = await signed_in(server)
    bob = await signed_in(server, "0x" + "b0" * 20)
    store = server.runtime.store
    await store.grant_consent(bob.user.id, rp.id, ALLOWED, now=server.clock())
    if client_id in ("never", "bobs"):
        client_id = rp.id
    response = await alice.post("/account/apps/revoke", {"client_id": client_id})
    assert response.status_code == 404, response.text
    assert "This app is not connected to your account." in response.text
    assert 'id="error--account-apps-revoke"' in response.text
    assert await store.get_consent(bob.user.id, rp.id) == frozenset(ALLOWED)
    assert await store.audit_events(event_prefix="account.") == []


@pytest.mark.parametrize(("csrf", "headers"), FORGED)
async def test_a_forged_form_revokes_nothing(
    server: Server, csrf: str | None, headers: dict[str, str]
) -> None:
    rp = await register(server, name="Notes", first_party=False)
    browser = await signed_in(server)
    store = server.runtime.store
    await store.grant_consent(browser.user.id, rp.id, ALLOWED, now=server.clock())
    response = await browser.post(
        "/account/apps/revoke", {"client_id": rp.id}, csrf=csrf, headers=headers
    )
    assert response.status_code == 403, response.text
    assert await store.get_consent(browser.user.id, rp.id) == frozenset(ALLOWED)
    assert await store.audit_events(event_prefix="account.") == []
