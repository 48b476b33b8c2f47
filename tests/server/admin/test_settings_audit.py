"""The admin panel's settings (default lifetimes) and its audit log page."""

from __future__ import annotations

import re

import pytest

from keyfob.server.admin import audit_log
from keyfob.server.services.audit import record_event
from keyfob.server.services.clients import create_client
from tests.server.admin.panel import marked_invalid, sign_in_panel
from tests.server.conftest import Server


@pytest.mark.parametrize(
    ("token", "sso"),
    [
        ("0", "60"),
        ("5", "527041"),
        ("five", "60"),
        ("", "60"),
        ("-1", "60"),
        ("\u00b2", "60"),  # a digit to str.isdigit, not to int: was a 500
        ("\u0663", "60"),  # an Arabic-Indic 3: int() takes it; keyfob asks for 0-9
        ("9" * 5000, "60"),  # past int()'s digit limit: was a 500
    ],
)
async def test_settings_are_validated(server: Server, token: str, sso: str) -> None:
    panel = await sign_in_panel(server)
    response = await panel.post(
        "/admin/settings",
        {"token_lifetime_minutes": token, "authorized_client_lifetime_minutes": sso},
    )
    assert response.status_code == 422
    assert 'class="error"' in response.text
    bad = "authorized_client_lifetime_minutes" if token == "5" else "token_lifetime_minutes"
    assert marked_invalid(response.text) == [bad]
    assert await server.runtime.store.admin_settings() == {}


async def test_settings_are_saved_and_used_for_new_clients(server: Server) -> None:
    panel = await sign_in_panel(server)
    response = await panel.post(
        "/admin/settings",
        {"token_lifetime_minutes": "527040", "authorized_client_lifetime_minutes": "1"},
    )
    assert (response.status_code, response.headers["location"]) == (
        303, "/admin/settings?done=settings_saved"
    )  # fmt: skip
    assert await server.runtime.store.admin_settings() == {
        "token_lifetime_minutes": "527040",
        "authorized_client_lifetime_minutes": "1",
    }
    page = await panel.get("/admin/settings?done=settings_saved")
    assert 'value="527040"' in page.text
    assert "The settings were saved." in page.text
    client, _ = await create_client(server.runtime, name="A", redirect_uris=[])
    assert (client.token_lifetime_minutes, client.authorized_client_lifetime_minutes) == (527040, 1)
    (event,) = await server.runtime.store.audit_events(event="admin.settings_changed")
    assert event.actor_id == panel.admin.id
    assert '"token_lifetime_minutes":527040' in event.detail


def listed_events(html: str) -> list[str]:
    return re.findall(r"<td data-label=\"Event\">((?:admin\.|sign_in)[a-z_.]*)</td>", html)


async def test_audit_log_filters_and_pages(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = await sign_in_panel(server)
    runtime = server.runtime
    await record_event(runtime, "sign_in", user_id="u-1")
    await record_event(runtime, "sign_in_failed", user_id="u-2", client_id="c-1")
    await record_event(runtime, "admin.client_created", client_id="c-1", actor_id="a")
    await record_event(runtime, "admin.user_disabled", user_id="u-1", actor_id="a")

    everything = await panel.get("/admin/audit")
    assert listed_events(everything.text) == [
        "admin.user_disabled", "admin.client_created", "sign_in_failed", "sign_in"
    ]  # fmt: skip
    cases = {
        "event=sign_in": ["sign_in"],
        "event=admin.*": ["admin.user_disabled", "admin.client_created"],
        "event=sign_in*": ["sign_in_failed", "sign_in"],
        "user_id=u-1": ["admin.user_disabled", "sign_in"],
        "client_id=c-1": ["admin.client_created", "sign_in_failed"],
        "client_id=c-1&event=admin.*": ["admin.client_created"],
        "user_id=nobody": [],
    }
    for query, expected in cases.items():
        page = await panel.get(f"/admin/audit?{query}")
        assert page.status_code == 200
        assert listed_events(page.text) == expected, query

    monkeypatch.setattr(audit_log, "PAGE_SIZE", 2)
    first = await panel.get("/admin/audit?event=admin.*")
    older = re.search(r'href="(/admin/audit\?[^"]*before=(\d+))"', first.text)
    assert older is not None
    second = await panel.get(older.group(1).replace("&amp;", "&"))
    assert listed_events(second.text) == []  # the two admin events were the first page
    page_two = await panel.get(f"/admin/audit?before={older.group(2)}")
    assert listed_events(page_two.text) == ["sign_in_failed", "sign_in"]
    assert (await panel.get("/admin/audit?before=abc")).status_code == 422
