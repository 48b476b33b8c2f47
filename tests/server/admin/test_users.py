"""Users in the admin panel: search, their page, disable, enable, delete, permissions."""

from __future__ import annotations

import json
from datetime import timedelta

from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.server.services.clients import create_client
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.store.records import UserRecord
from tests.server.admin.panel import Panel, make_user, sign_in_panel, sso_session
from tests.server.conftest import Server

ALICE = "0x" + "a1" * 20


async def with_refresh_token(server: Server, user: UserRecord) -> str:
    """A session of ``user`` whose refresh token is returned."""
    token, now = new_refresh_token(), server.runtime.now()
    await server.runtime.store.create_session(
        user_id=user.id,
        identity_id=user.identities[0].id,
        amr=("ethereum",),
        refresh_token_hash=hash_refresh_token(token),
        now=now,
        refresh_expires_at=now + timedelta(days=1),
    )
    return token


async def last_event(panel: Panel) -> tuple[str, str | None, str | None, str | None]:
    event = (await panel.server.runtime.store.audit_events(event_prefix="admin."))[0]
    return event.event, event.user_id, event.client_id, event.actor_id


async def test_search_and_user_page(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    for query in (ALICE, ALICE[:10], alice.id, alice.id[:8]):
        found = await panel.get("/admin/users", params={"q": query})
        assert found.status_code == 200, query
        assert f"/admin/users/{alice.id}" in found.text, query
    nothing = await panel.get("/admin/users", params={"q": "0xnobody-at-all"})
    assert "No user matches" in nothing.text
    page = await panel.get(f"/admin/users/{alice.id}")
    assert page.status_code == 200
    assert ALICE in page.text
    assert "ethereum" in page.text
    assert "active" in page.text
    assert (await panel.get("/admin/users/no-such-user")).status_code == 404


async def test_disable_revokes_refresh_tokens_and_sso_sessions(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    refresh = await with_refresh_token(server, alice)
    alice_sso = await sso_session(server, alice)
    rotated = await server.post("/auth/refresh", {"refreshToken": refresh})
    assert rotated.status_code == 200, rotated.text
    refresh = rotated.json()["refreshToken"]

    response = await panel.post(f"/admin/users/{alice.id}/disable")
    assert (response.status_code, response.headers["location"]) == (
        303, f"/admin/users/{alice.id}?done=user_disabled"
    )  # fmt: skip
    assert await last_event(panel) == ("admin.user_disabled", alice.id, None, panel.admin.id)
    assert (await server.post("/auth/refresh", {"refreshToken": refresh})).status_code in (401, 403)
    # Apps learn it too: the session is on the denylist feed for one access-token lifetime.
    session = await server.runtime.store.session_for_refresh_token(hash_refresh_token(refresh))
    assert session is not None
    feed = (await server.client.get("/auth/denylist")).json()
    until = int(server.runtime.now().timestamp()) + server.runtime.settings.access_token_ttl
    assert [entry["sid"] for entry in feed["revoked_sessions"]] == [session.id]
    assert until - 5 <= feed["revoked_sessions"][0]["exp"] <= until

    response = await panel.post(f"/admin/users/{alice.id}/enable")
    assert response.status_code == 303
    assert await last_event(panel) == ("admin.user_enabled", alice.id, None, panel.admin.id)
    enabled = await server.runtime.store.get_user(alice.id)
    assert enabled is not None
    assert not enabled.disabled
    # enabled again, but what was revoked stays revoked
    assert (await server.post("/auth/refresh", {"refreshToken": refresh})).status_code == 401
    gone = await server.runtime.store.get_sso_session(
        hash_refresh_token(alice_sso), now=server.runtime.now()
    )
    assert gone is None


async def test_an_admin_cannot_disable_or_delete_themselves(server: Server) -> None:
    panel = await sign_in_panel(server)
    assert (await panel.post(f"/admin/users/{panel.admin.id}/disable")).status_code == 403
    assert (await panel.post(f"/admin/users/{panel.admin.id}/delete")).status_code == 403
    assert (await panel.get("/admin/clients")).status_code == 200


async def test_delete_asks_first_then_deletes(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    confirm = await panel.get(f"/admin/users/{alice.id}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    assert await server.runtime.store.get_user(alice.id) is not None
    response = await panel.post(f"/admin/users/{alice.id}/delete")
    assert (response.status_code, response.headers["location"]) == (
        303, "/admin/users?done=user_deleted"
    )  # fmt: skip
    assert await server.runtime.store.get_user(alice.id) is None
    assert await last_event(panel) == ("admin.user_deleted", alice.id, None, panel.admin.id)


async def test_grant_and_revoke_permission(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    store = server.runtime.store
    client, _ = await create_client(
        server.runtime, name="Wiki", redirect_uris=["https://w.example/"]
    )
    page = await panel.get(f"/admin/users/{alice.id}")
    assert f'<option value="{client.id}">Wiki</option>' in page.text

    granted = await panel.post(f"/admin/users/{alice.id}/grant", {"client_id": client.id})
    assert granted.status_code == 303
    assert await store.has_permission(alice.id, client.id)
    assert await last_event(panel) == (
        "admin.permission_granted",
        alice.id,
        client.id,
        panel.admin.id,
    )
    assert alice.id in (await panel.get(f"/admin/clients/{client.id}")).text

    unknown = await panel.post(f"/admin/users/{alice.id}/grant", {"client_id": "nope"})
    assert unknown.status_code == 404

    revoked = await panel.post(f"/admin/users/{alice.id}/revoke", {"client_id": client.id})
    assert revoked.status_code == 303
    assert not await store.has_permission(alice.id, client.id)
    assert await last_event(panel) == (
        "admin.permission_revoked",
        alice.id,
        client.id,
        panel.admin.id,
    )
    again = await panel.post(f"/admin/users/{alice.id}/revoke", {"client_id": client.id})
    assert again.status_code == 404


async def test_deleting_a_user_puts_their_live_sessions_on_the_denylist(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    refresh = await with_refresh_token(server, alice)
    session = await server.runtime.store.session_for_refresh_token(hash_refresh_token(refresh))
    assert session is not None
    response = await panel.post(f"/admin/users/{alice.id}/delete")
    assert response.status_code == 303, response.text
    assert await server.runtime.store.get_session(session.id) is None  # gone with the user
    feed = (await server.client.get("/auth/denylist")).json()
    assert [entry["sid"] for entry in feed["revoked_sessions"]] == [session.id]


async def test_make_and_remove_another_admin(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE, ("support",))
    page = await panel.get(f"/admin/users/{alice.id}")
    assert f'action="/admin/users/{alice.id}/make-admin"' in page.text
    made = await panel.post(f"/admin/users/{alice.id}/make-admin")
    assert made.headers["location"] == f"/admin/users/{alice.id}?done=admin_role_granted"
    assert await last_event(panel) == ("admin.admin_role_granted", alice.id, None, panel.admin.id)
    promoted = await server.runtime.store.get_user(alice.id)
    assert promoted is not None
    assert promoted.roles == ("support", "admin")
    # Alice's own panel works now, and stops working once the role is taken back.
    alice_sso = await sso_session(server, alice)
    server.client.cookies.set(PLAIN_COOKIE, alice_sso)
    assert (await server.client.get("/admin/clients")).status_code == 200
    server.client.cookies.set(PLAIN_COOKIE, panel.token)
    removed = await panel.post(f"/admin/users/{alice.id}/remove-admin")
    assert removed.headers["location"] == f"/admin/users/{alice.id}?done=admin_role_revoked"
    assert await last_event(panel) == ("admin.admin_role_revoked", alice.id, None, panel.admin.id)
    demoted = await server.runtime.store.get_user(alice.id)
    assert demoted is not None
    assert demoted.roles == ("support",)
    server.client.cookies.set(PLAIN_COOKIE, alice_sso)
    assert (await server.client.get("/admin/clients")).status_code == 403
    server.client.cookies.set(PLAIN_COOKIE, panel.token)
    # Never one's own role: an admin cannot lock themselves out this way.
    assert (await panel.post(f"/admin/users/{panel.admin.id}/remove-admin")).status_code == 403
    assert (await panel.get("/admin/clients")).status_code == 200
    assert (
        await panel.post(f"/admin/users/{alice.id}/make-admin", csrf="forged")
    ).status_code == 403


async def test_remove_a_lost_sign_in_method_but_never_the_last(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    refresh = await with_refresh_token(server, alice)  # a session opened with the first
    kept = await server.runtime.store.link_identity(
        user_id=alice.id, kind="ethereum", address="0x" + "b2" * 20, public_key=None,
        now=server.clock(),
    )  # fmt: skip
    lost = alice.identities[0]
    page = await panel.get(f"/admin/users/{alice.id}")
    assert f"/admin/users/{alice.id}/methods/{lost.id}/remove" in page.text
    removed = await panel.post(f"/admin/users/{alice.id}/methods/{lost.id}/remove")
    assert removed.headers["location"] == f"/admin/users/{alice.id}?done=sign_in_method_removed"
    (event,) = await server.runtime.store.audit_events(event="admin.sign_in_method_removed")
    assert (event.user_id, event.actor_id) == (alice.id, panel.admin.id)
    assert json.loads(event.detail)["address"] == lost.address
    assert (await server.post("/auth/refresh", {"refreshToken": refresh})).status_code == 401
    left = await server.runtime.store.get_user(alice.id)
    assert left is not None
    assert [i.id for i in left.identities] == [kept.id]
    page = await panel.get(f"/admin/users/{alice.id}")
    assert "/methods/" not in page.text
    assert "the last one" in page.text
    last = await panel.post(f"/admin/users/{alice.id}/methods/{kept.id}/remove")
    assert last.status_code == 409
    unknown = await panel.post(f"/admin/users/{alice.id}/methods/{lost.id}/remove")
    assert unknown.status_code == 404


async def test_the_audit_log_names_users_and_clients(server: Server) -> None:
    panel = await sign_in_panel(server)
    alice = await make_user(server, ALICE)
    client, _ = await create_client(
        server.runtime, name="Notes", redirect_uris=["https://n.example/cb"]
    )
    await panel.post(f"/admin/users/{alice.id}/grant", {"client_id": client.id})
    page = await panel.get("/admin/audit")
    assert page.status_code == 200
    row = page.text.split("admin.permission_granted", 1)[1].split("</tr>", 1)[0]
    assert ALICE in row  # the user: address beside the id
    assert alice.id in row
    assert ">Notes</a>" in row
    assert client.id in row
    assert panel.admin.identities[0].address in row  # the actor
