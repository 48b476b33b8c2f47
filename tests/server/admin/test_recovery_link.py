"""The admin panel's *Create recovery link*: shown once, CSRF-checked, audited without the
link, refused for a disabled or unknown user; the link works once."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from keyfob.server.services.recovery import generate_recovery_codes
from tests.server.admin.panel import make_user, sign_in_panel
from tests.server.conftest import PUBLIC_URL, Server

LINK = re.compile(r'<code id="recovery-link">(http://localhost:8000/account/recover/link#([^<]+))<')


async def test_the_user_page_offers_a_link_and_counts_codes(server: Server) -> None:
    panel = await sign_in_panel(server)
    user = await make_user(server, "0x" + "be" * 20)
    page = await panel.get(f"/admin/users/{user.id}")
    assert f'action="/admin/users/{user.id}/recovery-link"' in page.text
    assert "for 60 minutes" in page.text
    assert "No recovery codes." in page.text
    await generate_recovery_codes(server.runtime, user)
    page = await panel.get(f"/admin/users/{user.id}")
    assert "10 of 10 recovery codes left" in page.text


async def test_a_link_is_shown_once_and_audited_without_its_token(server: Server) -> None:
    panel = await sign_in_panel(server)
    user = await make_user(server, "0x" + "be" * 20)
    created = await panel.post(f"/admin/users/{user.id}/recovery-link")
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"
    found = LINK.search(created.text)
    assert found is not None, created.text
    token = found.group(2)
    [event] = await server.runtime.store.audit_events(event="admin.recovery_link_created")
    assert (event.user_id, event.actor_id) == (user.id, panel.admin.id)
    assert "expires_at" in json.loads(event.detail)
    assert token not in event.detail
    assert token not in (await panel.get(f"/admin/users/{user.id}")).text

    server.client.cookies.clear()  # the user's own browser
    headers = {"origin": PUBLIC_URL}
    used = await server.client.post("/account/recover/link", data={"token": token}, headers=headers)
    assert (used.status_code, used.headers["location"]) == (303, "/account?done=recovered")
    page = await server.client.get("/account")
    assert user.id in page.text
    server.client.cookies.clear()
    again = await server.client.post(
        "/account/recover/link", data={"token": token}, headers=headers
    )
    assert again.status_code == 401


@pytest.mark.parametrize(
    ("case", "status"),
    [("no-csrf", 403), ("other-origin", 403), ("unknown-user", 404), ("disabled-user", 409)],
)
async def test_refusals_make_no_link(server: Server, case: str, status: int) -> None:
    panel = await sign_in_panel(server)
    user = await make_user(server, "0x" + "be" * 20, disabled=case == "disabled-user")
    user_id = "00000000-0000-4000-8000-000000000000" if case == "unknown-user" else user.id
    options: dict[str, Any] = {}
    if case == "no-csrf":
        options["csrf"] = None
    if case == "other-origin":
        options["headers"] = {"origin": "https://evil.example"}
    refused = await panel.post(f"/admin/users/{user_id}/recovery-link", **options)
    assert refused.status_code == status, refused.text
    assert LINK.search(refused.text) is None
    assert await server.runtime.store.audit_events(event="admin.recovery_link_created") == []
