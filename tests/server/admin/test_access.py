"""Who may use the admin panel, and the CSRF and Origin checks on its forms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.sso import PLAIN_COOKIE
from tests.server.admin.panel import make_user, sign_in_panel, sso_session
from tests.server.conftest import PUBLIC_URL, Server

PAGES = ["/admin", "/admin/clients", "/admin/clients/new", "/admin/users", "/admin/settings",
         "/admin/audit"]  # fmt: skip
NEW_CLIENT = {
    "name": "Notes",
    "redirect_uris": "https://notes.example/cb",
    "access": "permitted",
    "token_lifetime_minutes": "5",
    "authorized_client_lifetime_minutes": "60",
    "token_delivery": "query",
    "client_type": "confidential",
    "scopes": "openid",
    "subject_type": "public",
    "id_token_alg": "RS256",
}


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_is_sent_to_the_sign_in_page(server: Server, path: str) -> None:
    response = await server.client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


async def test_anonymous_post_is_sent_to_sign_in_and_changes_nothing(server: Server) -> None:
    response = await server.client.post("/admin/clients/new", data={**NEW_CLIENT, "csrf": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"
    assert await server.runtime.store.list_clients() == []


async def test_a_signed_in_user_who_is_not_admin_gets_403(server: Server) -> None:
    user = await make_user(server, "0x" + "11" * 20, ("auditor",))
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, user))
    for path in PAGES:
        response = await server.client.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "administrators" in response.text
        assert 'name="csrf"' not in response.text


async def test_a_stale_sign_in_must_sign_in_again(server: Server) -> None:
    admin = await make_user(server, "0x" + "22" * 20, ("admin",))
    long_ago = server.runtime.now() - timedelta(hours=12, minutes=1)
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, admin, signed_in=long_ago))
    response = await server.client.get("/admin/clients")
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")
    server.client.cookies.set(PLAIN_COOKIE, await sso_session(server, admin))
    assert (await server.client.get("/admin/clients")).status_code == 200


async def test_a_passkey_session_without_user_verification_must_sign_in_again(
    server: Server,
) -> None:
    """An admin who signed in on a client's page with a passkey that did not verify them
    (UV flag off, fine under KEYFOB_WEBAUTHN_USER_VERIFICATION=preferred) cannot use that SSO
    session for the panel: /admin/login, which requires UV, is the way in."""
    admin = await make_user(server, "0x" + "23" * 20, ("admin",))
    unverified = await sso_session(server, admin, amr=("passkey",))
    server.client.cookies.set(PLAIN_COOKIE, unverified)
    response = await server.client.get("/admin/clients")
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")
    verified = await sso_session(server, admin, amr=("passkey", "user"))
    server.client.cookies.set(PLAIN_COOKIE, verified)
    assert (await server.client.get("/admin/clients")).status_code == 200


async def test_admin_passkey_options_require_user_verification(server: Server) -> None:
    """The admin sign-in asks for UV even though the setting says "preferred"."""
    assert server.runtime.settings.webauthn_user_verification == "preferred"
    headers = {"origin": PUBLIC_URL}
    admin = await server.post("/admin/login/passkey/options", {}, headers=headers)
    assert admin.json()["userVerification"] == "required"
    plain = await server.post("/auth/passkey/login/options", {})
    assert plain.json()["userVerification"] == "preferred"


async def test_a_disabled_admin_is_signed_out(server: Server) -> None:
    panel = await sign_in_panel(server)
    assert (await panel.get("/admin/clients")).status_code == 200
    await server.runtime.store.disable_user(
        panel.admin.id, now=server.runtime.now(), deny_until=deny_until(server.runtime)
    )
    assert (await panel.get("/admin/clients")).status_code == 303


async def test_pages_are_not_cached_and_carry_the_strict_csp(server: Server) -> None:
    panel = await sign_in_panel(server)
    response = await panel.get("/admin/clients")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text
    assert "style=" not in response.text


@pytest.mark.parametrize("csrf", [None, "", "0" * 64, "wrong"])
async def test_missing_or_wrong_csrf_is_refused_and_changes_nothing(
    server: Server, csrf: str | None
) -> None:
    panel = await sign_in_panel(server)
    response = await panel.post("/admin/clients/new", NEW_CLIENT, csrf=csrf)
    assert response.status_code == 403
    assert "security token" in response.text
    assert await server.runtime.store.list_clients() == []
    settings = await panel.post(
        "/admin/settings",
        {"token_lifetime_minutes": "7", "authorized_client_lifetime_minutes": "70"},
        csrf=csrf,
    )
    assert settings.status_code == 403
    assert await server.runtime.store.admin_settings() == {}


async def test_a_csrf_token_of_another_session_is_refused(server: Server) -> None:
    panel = await sign_in_panel(server)
    other = await sign_in_panel(server, "0x" + "33" * 20)  # the cookie is now other's
    theirs = await other.csrf()
    server.client.cookies.set(PLAIN_COOKIE, panel.token)
    assert theirs != await panel.csrf()
    response = await panel.post("/admin/clients/new", NEW_CLIENT, csrf=theirs)
    assert response.status_code == 403
    assert await server.runtime.store.list_clients() == []


async def test_a_post_from_another_origin_is_refused(server: Server) -> None:
    panel = await sign_in_panel(server)
    for origin in ("https://evil.example", "null", "http://localhost:8001"):
        response = await panel.post("/admin/clients/new", NEW_CLIENT, headers={"origin": origin})
        assert response.status_code == 403, origin
    assert await server.runtime.store.list_clients() == []
    accepted = await panel.post("/admin/clients/new", NEW_CLIENT)
    assert accepted.status_code == 200
    assert len(await server.runtime.store.list_clients()) == 1


async def test_without_origin_header_the_csrf_token_suffices(server: Server) -> None:
    panel = await sign_in_panel(server)
    data = {**NEW_CLIENT, "csrf": await panel.csrf()}
    response = await server.client.post("/admin/clients/new", data=data)
    assert response.status_code == 200


async def test_a_browser_without_referrer_is_judged_by_sec_fetch_site(server: Server) -> None:
    panel = await sign_in_panel(server)
    refused = [
        {"origin": "null"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
        {"origin": "null", "sec-fetch-site": "same-site"},
        {"origin": PUBLIC_URL, "sec-fetch-site": "cross-site"},
    ]
    for headers in refused:
        response = await panel.post("/admin/clients/new", NEW_CLIENT, headers=headers)
        assert response.status_code == 403, headers
    assert await server.runtime.store.list_clients() == []
    same = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert (await panel.post("/admin/clients/new", NEW_CLIENT, headers=same)).status_code == 200


async def test_sign_out_ends_the_sso_session_and_is_audited(server: Server) -> None:
    """The panel's sign-out button: a CSRF-checked POST that deletes the SSO session."""
    panel = await sign_in_panel(server)
    page = await panel.get("/admin/clients")
    assert 'action="/admin/sign-out"' in page.text
    refused = await panel.post("/admin/sign-out", csrf="forged")
    assert refused.status_code == 403
    assert (await panel.get("/admin/clients")).status_code == 200  # still signed in
    response = await panel.post("/admin/sign-out")
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")
    assert "keyfob_sso=" in response.headers["set-cookie"]  # cleared
    token_hash = hash_refresh_token(panel.token)
    assert await server.runtime.store.get_sso_session(token_hash, now=server.clock()) is None
    server.client.cookies.set(PLAIN_COOKIE, panel.token)  # the old cookie is worthless now
    again = await server.client.get("/admin/clients")
    assert (again.status_code, again.headers["location"]) == (303, "/admin/login")
    (event,) = await server.runtime.store.audit_events(event="admin.sign_out")
    assert (event.actor_id, event.user_id) == (panel.admin.id, panel.admin.id)
