"""The account page's sessions: what it lists (device, area, started, last used, this one),
ending one of them, and the forms it refuses (SQLite and PostgreSQL, both routings)."""

from __future__ import annotations

import json
import re

import pytest

from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.account_sessions import BROWSER
from tests.node_clients import NodeClients
from tests.server.account.holder import open_browser, signed_in
from tests.server.account.sessions_helpers import app_session, listed
from tests.server.conftest import Server


async def test_the_page_lists_every_session_and_marks_this_one(
    server: Server, node_clients: NodeClients
) -> None:
    app = await app_session(server, node_clients)
    here = await open_browser(server, app.user)
    await open_browser(server, app.user)
    page = (await here.page()).text
    assert page.count("this session") == 1
    assert "Firefox 121 on Windows" in page  # the app session's User-Agent, summed up
    assert "127.0.0.x" in page  # the test client's address, its last part hidden
    assert "App session" in page
    assert page.count("Browser sign-in") == 2
    assert "keyfob has no location database" in page
    assert "Mozilla/5.0" not in page  # the header itself is never kept
    views = await listed(server, here)
    assert [(view.kind, view.current) for view in views] == [
        (BROWSER, True),
        (BROWSER, False),
        ("app", False),
    ]
    current = re.search(r'<li class="method session" id="session-([^"]+)" aria-current', page)
    assert current is not None
    assert current.group(1) == views[0].id
    stored = await server.runtime.store.get_session(app.sid)
    assert stored is not None
    assert (stored.device, stored.ip_area) == ("Firefox 121 on Windows", "127.0.0.x")


async def test_a_browser_session_records_its_use_once_a_minute(server: Server) -> None:
    browser = await signed_in(server)
    store, token_hash = server.runtime.store, hash_refresh_token(browser.token)
    await browser.page()
    first = await store.get_sso_session(token_hash, now=server.clock())
    assert first is not None
    assert first.last_used_at is not None
    assert first.ip_area == "127.0.0.x"
    server.clock.advance(30)
    await browser.page()
    again = await store.get_sso_session(token_hash, now=server.clock())
    assert again is not None
    assert again.last_used_at == first.last_used_at  # within the minute: nothing written
    server.clock.advance(31)
    await browser.page()
    later = await store.get_sso_session(token_hash, now=server.clock())
    assert later is not None
    assert later.last_used_at is not None
    assert later.last_used_at > first.last_used_at


async def test_a_refresh_is_a_use_of_the_app_session(
    server: Server, node_clients: NodeClients
) -> None:
    app = await app_session(server, node_clients)
    server.clock.advance(120)
    rotated = await server.post("/auth/refresh", {"refreshToken": app.tokens["refreshToken"]})
    assert rotated.status_code == 200, rotated.text
    stored = await server.runtime.store.get_session(app.sid)
    assert stored is not None
    assert stored.last_used_at is not None
    assert stored.last_used_at > stored.created_at
    assert stored.ip_area == "127.0.0.x"


async def test_ending_another_browser_signs_it_out_only(server: Server) -> None:
    here = await signed_in(server)
    there = await open_browser(server, here.user)
    [_, other] = await listed(server, here)
    response = await here.post("/account/sessions/end", {"session": other.id})
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/account?done=session_ended",
    )
    assert "The session has ended." in (await here.client.get(response.headers["location"])).text
    assert (await there.client.get("/account")).headers["location"] == "/account/login"
    assert (await here.client.get("/account")).status_code == 200
    [event] = await server.runtime.store.audit_events(event="account.session_ended")
    assert event.user_id == here.user.id
    assert json.loads(event.detail) == {"session": other.id, "kind": BROWSER}


async def test_ending_this_browser_is_signing_out(server: Server) -> None:
    here = await signed_in(server)
    [this] = await listed(server, here)
    response = await here.post("/account/sessions/end", {"session": this.id})
    assert (response.status_code, response.headers["location"]) == (303, "/account/login")
    assert 'keyfob_sso=""' in response.headers["set-cookie"]
    assert (await here.client.get("/account")).headers["location"] == "/account/login"


async def test_ending_an_app_session_revokes_its_tokens(
    server: Server, node_clients: NodeClients
) -> None:
    app = await app_session(server, node_clients)
    here = await open_browser(server, app.user)
    response = await here.post("/account/sessions/end", {"session": app.page_id})
    assert response.headers["location"] == "/account?done=session_ended"
    refused = await server.post("/auth/refresh", {"refreshToken": app.tokens["refreshToken"]})
    assert refused.status_code == 401, refused.text
    feed = (await server.client.get("/auth/denylist")).json()
    assert [entry["sid"] for entry in feed["revoked_sessions"]] == [app.sid]
    assert [view.kind for view in await listed(server, here)] == [BROWSER]


async def test_ending_a_browser_runs_its_end_hooks(server: Server) -> None:
    """The OpenID Provider's hook (revoke the session's grants, back-channel logout) hears of
    a browser session ended from the account page, as of every other sign-out."""
    here = await signed_in(server)
    there = await open_browser(server, here.user)
    heard: list[str] = []

    async def hook(sso: object) -> None:
        heard.append(getattr(sso, "token_hash", ""))

    server.runtime.session_end_hooks.append(hook)
    [_, other] = await listed(server, here)
    await here.post("/account/sessions/end", {"session": other.id})
    assert heard == [hash_refresh_token(there.token)]


FORGED = [
    pytest.param(None, {}, id="no-token"),
    pytest.param("0" * 64, {}, id="wrong-token"),
    pytest.param("page", {"origin": "https://evil.example"}, id="other-origin"),
    pytest.param("page", {"sec-fetch-site": "cross-site"}, id="cross-site"),
]


@pytest.mark.parametrize(("csrf", "headers"), FORGED)
async def test_a_forged_form_ends_nothing(
    server: Server, csrf: str | None, headers: dict[str, str]
) -> None:
    here = await signed_in(server)
    await open_browser(server, here.user)
    before = [view.id for view in await listed(server, here)]
    for path, data in (
        ("/account/sessions/end", {"session": before[1]}),
        ("/account/sessions/end-all", {}),
    ):
        response = await here.post(path, data, csrf=csrf, headers=headers)
        assert response.status_code == 403, response.text
        assert "Your account" in response.text  # the page again, the message on it
    assert [view.id for view in await listed(server, here)] == before
    assert await server.runtime.store.audit_events(event_prefix="account.") == []


async def test_a_token_of_another_browser_ends_nothing(server: Server) -> None:
    here = await signed_in(server)
    other = await open_browser(server, here.user)
    before = [view.id for view in await listed(server, here)]
    response = await here.post("/account/sessions/end-all", csrf=await other.csrf())
    assert response.status_code == 403
    assert [view.id for view in await listed(server, here)] == before


@pytest.mark.parametrize(
    "session",
    ["", "browser-" + "0" * 32, "app-00000000-0000-4000-8000-000000000000", "x" * 5000, "other"],
    ids=["empty", "unknown-browser", "unknown-app", "huge", "another-users"],
)
async def test_a_session_not_of_this_user_is_not_found(
    server: Server, node_clients: NodeClients, session: str
) -> None:
    bob = await app_session(server, node_clients)  # Bob's app session and browser
    bobs_browser = await open_browser(server, bob.user)
    alice = await signed_in(server)
    if session == "other":
        session = bob.page_id
        others = [view.id for view in await listed(server, bobs_browser)]
    response = await alice.post("/account/sessions/end", {"session": session})
    assert response.status_code == 404, response.text
    assert "You have no such session" in response.text
    assert 'id="error--account-sessions-end"' in response.text  # beside the sessions
    if session == bob.page_id:
        assert [view.id for view in await listed(server, bobs_browser)] == others
    rotated = await server.post("/auth/refresh", {"refreshToken": bob.tokens["refreshToken"]})
    assert rotated.status_code == 200
    assert await server.runtime.store.audit_events(event_prefix="account.") == []


async def test_an_ended_session_cannot_be_ended_twice(server: Server) -> None:
    here = await signed_in(server)
    await open_browser(server, here.user)
    [_, other] = await listed(server, here)
    assert (await here.post("/account/sessions/end", {"session": other.id})).status_code == 303
    assert (await here.post("/account/sessions/end", {"session": other.id})).status_code == 404
