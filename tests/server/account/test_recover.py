"""``/account/recover`` and ``/account/recover/link``: a recovery code or an admin's link opens
an SSO session of ``amr`` ``recovery`` with the account page's step-up grant; every failure is
the same page, sets no cookie and changes nothing."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.account.step_up import COOKIE
from keyfob.server.services.recovery import create_recovery_link, generate_recovery_codes
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store.records import UserRecord
from keyfob.store.schema import users
from tests.server.account.holder import open_browser, signed_in
from tests.server.admin.panel import make_user
from tests.server.conftest import PUBLIC_URL, Server
from tests.store.factories import set_row

SAME_ORIGIN = {"origin": PUBLIC_URL}
FAILED = "This recovery code does not open that account"


async def _alice(server: Server, *roles: str) -> tuple[UserRecord, tuple[str, ...]]:
    user = await make_user(server, "0x" + "a1" * 20, roles)
    await set_row(server.runtime.store, users, user.id, username="alice")
    return user, await generate_recovery_codes(server.runtime, user)


def _cookies(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


async def _recover(server: Server, identifier: str, code: str, **headers: str) -> httpx.Response:
    form = {"identifier": identifier, "code": code}
    return await server.client.post(
        "/account/recover", data=form, headers={**SAME_ORIGIN, **headers}
    )


async def test_the_pages(server: Server) -> None:
    login = await server.client.get("/account/login")
    assert 'Lost every key? <a href="/account/recover">' in login.text
    page = await server.client.get("/account/recover")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'action="/account/recover"' in page.text
    assert 'name="identifier"' in page.text
    assert 'name="code"' in page.text
    link = await server.client.get("/account/recover/link")
    assert link.status_code == 200
    assert '<script src="/static/recover_link.js" defer></script>' in link.text
    assert 'name="token" value=""' in link.text
    script = await server.client.get("/static/recover_link.js")
    assert script.status_code == 200
    assert "location.hash" in script.text
    assert "history.replaceState" in script.text


async def test_a_code_signs_in_with_a_step_up_grant(server: Server) -> None:
    user, codes = await _alice(server)
    earlier = await open_browser(server, user)  # this browser's earlier session
    server.client.cookies.set(PLAIN_COOKIE, earlier.token)
    response = await _recover(server, "Alice", codes[0].lower())
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account?done=recovered"
    assert response.headers["cache-control"] == "no-store"
    cookies = _cookies(response)
    sso, grant = cookies[PLAIN_COOKIE], cookies[COOKIE]
    assert sso["httponly"]
    assert sso["samesite"] == "lax"
    assert grant["httponly"]
    assert grant["samesite"] == "strict"
    assert grant["path"] == "/account"
    store, now = server.runtime.store, server.clock()
    session = await store.get_sso_session(hash_refresh_token(sso.value), now=now)
    assert session is not None
    assert (session.user_id, session.amr) == (user.id, ("recovery",))
    assert await store.get_sso_session(hash_refresh_token(earlier.token), now=now) is None
    [step_up] = await store.audit_events(event="step_up")
    assert '"method":"recovery_code"' in step_up.detail

    page = await server.client.get("/account?done=recovered")
    assert page.status_code == 200
    assert "You are signed in by account recovery" in page.text
    assert 'id="recovered"' in page.text
    assert "9</strong> of 10 recovery codes left" in page.text
    # The grant is good for the account page's changes at once: new codes, no second proof.
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    renewed = await server.client.post(
        "/account/recovery-codes", data={"csrf": csrf}, headers=SAME_ORIGIN
    )
    assert renewed.status_code == 200, renewed.text


async def test_a_recovery_session_does_not_open_the_admin_panel(server: Server) -> None:
    _, codes = await _alice(server, "admin")
    assert (await _recover(server, "alice", codes[0])).status_code == 303
    assert (await server.client.get("/account")).status_code == 200
    panel = await server.client.get("/admin/users")
    assert (panel.status_code, panel.headers["location"]) == (303, "/admin/login")


@pytest.mark.parametrize(
    "case",
    [
        "used-code",
        "wrong-code",
        "code-of-another-user",
        "unknown-user",
        "no-fields",
        "other-origin",
        "cross-site",
    ],
)
async def test_code_refusals(server: Server, case: str) -> None:
    user, codes = await _alice(server)
    bob = await make_user(server, "0x" + "b0" * 20)
    bob_codes = await generate_recovery_codes(server.runtime, bob)
    identifier, code, headers, status = "alice", codes[1], {}, 401
    if case == "used-code":
        assert (await _recover(server, "alice", codes[1])).status_code == 303
        server.client.cookies.clear()
    elif case == "wrong-code":
        code = "AAAA-BBBB-CCCC-DDDD"
    elif case == "code-of-another-user":
        code = bob_codes[0]
    elif case == "unknown-user":
        identifier = "mallory"
    elif case == "no-fields":
        identifier, code = "", ""
    else:
        headers = (
            {"origin": "https://evil.example"}
            if case == "other-origin"
            else {"sec-fetch-site": "cross-site"}
        )
        status = 403
    refused = await _recover(server, identifier, code, **headers)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in refused.headers
    assert 'id="recover-error"' in refused.text
    assert 'aria-invalid="true" aria-describedby="recover-error" autofocus' in refused.text
    if status == 401:
        assert FAILED in refused.text
        assert f'value="{identifier}"' in refused.text  # typed again, never the code
        assert code not in refused.text or not code
    left = (await server.runtime.store.recovery_codes_status(user.id)).remaining
    assert left == (9 if case == "used-code" else 10)
    assert (await server.runtime.store.recovery_codes_status(bob.id)).remaining == 10


async def _link(server: Server, user: UserRecord) -> str:
    link, _ = await create_recovery_link(server.runtime, user)
    return link.split("#", 1)[1]


async def test_a_link_signs_in_once(server: Server) -> None:
    user, _ = await _alice(server)
    token = await _link(server, user)
    form = {"token": token}
    response = await server.client.post("/account/recover/link", data=form, headers=SAME_ORIGIN)
    assert (response.status_code, response.headers["location"]) == (303, "/account?done=recovered")
    cookies = _cookies(response)
    assert cookies[COOKIE].value
    store = server.runtime.store
    session = await store.get_sso_session(
        hash_refresh_token(cookies[PLAIN_COOKIE].value), now=server.clock()
    )
    assert session is not None
    assert session.amr == ("recovery",)
    [step_up] = await store.audit_events(event="step_up")
    assert '"method":"recovery_link"' in step_up.detail
    server.client.cookies.clear()
    again = await server.client.post("/account/recover/link", data=form, headers=SAME_ORIGIN)
    assert again.status_code == 401
    assert "This recovery link is unknown, already used or expired" in again.text
    assert "set-cookie" not in again.headers


@pytest.mark.parametrize("case", ["expired", "unknown", "empty", "other-origin", "cross-site"])
async def test_link_refusals(server: Server, case: str) -> None:
    user, _ = await _alice(server)
    token, headers, status = await _link(server, user), dict(SAME_ORIGIN), 401
    if case == "expired":
        server.clock.advance(server.runtime.settings.recovery_link_ttl + 1)
    elif case == "unknown":
        token = "A" * 43
    elif case == "empty":
        token = ""
    elif case == "other-origin":
        headers, status = {"origin": "https://evil.example"}, 403
    else:
        headers["sec-fetch-site"], status = "cross-site", 403
    refused = await server.client.post(
        "/account/recover/link", data={"token": token}, headers=headers
    )
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert 'id="link-error"' in refused.text
    assert "set-cookie" not in refused.headers
    assert await server.runtime.store.audit_events(event="sign_in") == []


async def test_a_signed_in_browser_recovering_another_account_leaves_its_session(
    server: Server,
) -> None:
    """A new sign-in never rides on the old session: the other account's session ends."""
    browser = await signed_in(server, "0x" + "c3" * 20)
    _, codes = await _alice(server)
    response = await browser.client.post(
        "/account/recover", data={"identifier": "alice", "code": codes[0]}, headers=SAME_ORIGIN
    )
    assert response.status_code == 303
    store = server.runtime.store
    assert (
        await store.get_sso_session(hash_refresh_token(browser.token), now=server.clock()) is None
    )
