"""Client apps in the admin panel: create (secret shown once), edit, rotate, delete; audited."""

from __future__ import annotations

import json
import re
import uuid

from keyfob.server.services.clients import client_secret
from keyfob.store.records import AuditEvent
from tests.server.admin.panel import Panel, marked_invalid, sign_in_panel
from tests.server.conftest import Server

FORM = {
    "name": "Notes",
    "redirect_uris": "https://notes.example/cb\r\n\r\nhttp://127.0.0.1:8080/cb\r\n",
    "registration_enabled": "on",
    "access": "open",
    "token_lifetime_minutes": "10",
    "authorized_client_lifetime_minutes": "120",
    "token_delivery": "form_post",
    # The OpenID Connect fieldset as the new-client form sends it untouched.
    "client_type": "confidential",
    "token_endpoint_auth_method": "",
    "scopes": ["openid", "profile"],
    "subject_type": "public",
    "id_token_alg": "RS256",
}


def shown(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]+)<', html)
    assert found is not None, html
    return found.group(1)


async def admin_events(panel: Panel) -> list[AuditEvent]:
    return await panel.server.runtime.store.audit_events(event_prefix="admin.")


async def create(panel: Panel, **changes: str) -> tuple[str, str]:
    response = await panel.post("/admin/clients/new", {**FORM, **changes})
    assert response.status_code == 200, response.text
    assert "shown only once" in response.text
    return shown(response.text, "client-id"), shown(response.text, "client-secret")


async def test_create_shows_the_id_and_secret_once(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, secret = await create(panel)
    assert str(uuid.UUID(client_id)) == client_id
    assert len(secret) >= 43
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert client.redirect_uris == ("https://notes.example/cb", "http://127.0.0.1:8080/cb")
    assert client.registration_enabled
    assert client.open_to_all
    assert (client.token_lifetime_minutes, client.authorized_client_lifetime_minutes) == (10, 120)
    assert client.token_delivery == "form_post"
    assert client_secret(server.runtime, client) == secret
    for path in ("/admin/clients", f"/admin/clients/{client_id}"):
        page = await panel.get(path)
        assert page.status_code == 200
        assert client_id in page.text
        assert secret not in page.text
    (event,) = await admin_events(panel)
    assert (event.event, event.client_id, event.actor_id) == (
        "admin.client_created", client_id, panel.admin.id
    )  # fmt: skip
    assert event.ip is not None


async def test_empty_lifetimes_take_the_defaults(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(
        panel, token_lifetime_minutes="", authorized_client_lifetime_minutes=""
    )
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert (client.token_lifetime_minutes, client.authorized_client_lifetime_minutes) == (5, 1440)


async def test_bad_input_shows_the_form_again_and_creates_nothing(server: Server) -> None:
    panel = await sign_in_panel(server)
    for changes in (
        {"name": ""},
        {"redirect_uris": "javascript:alert(1)"},
        {"token_delivery": "email"},
        {"token_lifetime_minutes": "0"},
        {"authorized_client_lifetime_minutes": "527041"},
        {"token_lifetime_minutes": "ten"},
        {"token_lifetime_minutes": "\u00b2"},  # str.isdigit says yes, int says no: was a 500
        {"authorized_client_lifetime_minutes": "9" * 5000},  # past int()'s limit: was a 500
    ):
        response = await panel.post("/admin/clients/new", {**FORM, **changes})
        assert response.status_code == 422, changes
        assert 'class="error"' in response.text
        assert marked_invalid(response.text) == list(changes)
    assert await server.runtime.store.list_clients() == []
    assert await admin_events(panel) == []


async def test_names_and_uris_are_escaped(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, name='<script>alert("x")</script>')
    page = await panel.get("/admin/clients")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text
    assert client_id in page.text


async def test_edit_saves_and_redirects(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, secret = await create(panel)
    edited = {**FORM, "name": "Notes 2", "redirect_uris": "https://n2.example/cb",
              "access": "permitted", "token_delivery": "fragment"}  # fmt: skip
    del edited["registration_enabled"]
    response = await panel.post(f"/admin/clients/{client_id}", edited)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/clients/{client_id}?done=client_updated"
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert (client.name, client.redirect_uris) == ("Notes 2", ("https://n2.example/cb",))
    assert not client.registration_enabled
    assert not client.open_to_all
    assert client.token_delivery == "fragment"
    assert client_secret(server.runtime, client) == secret
    page = await panel.get(response.headers["location"])
    assert "The client was saved." in page.text

    refused = await panel.post(
        f"/admin/clients/{client_id}", {**edited, "token_lifetime_minutes": ""}
    )
    assert refused.status_code == 422
    assert marked_invalid(refused.text) == ["token_lifetime_minutes"]
    assert (await server.runtime.store.get_client(client_id)) == client
    events = [event.event for event in await admin_events(panel)]
    assert events == ["admin.client_updated", "admin.client_created"]


async def test_rotate_shows_a_new_secret_and_the_old_one_stops(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, old = await create(panel)
    response = await panel.post(f"/admin/clients/{client_id}/rotate")
    assert response.status_code == 200
    new = shown(response.text, "client-secret")
    assert new != old
    assert len(new) >= 43
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert client_secret(server.runtime, client) == new
    assert (await admin_events(panel))[0].event == "admin.client_secret_rotated"


async def test_delete_asks_first_then_deletes(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel)
    confirm = await panel.get(f"/admin/clients/{client_id}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    assert await server.runtime.store.get_client(client_id) is not None
    response = await panel.post(f"/admin/clients/{client_id}/delete")
    assert (response.status_code, response.headers["location"]) == (
        303, "/admin/clients?done=client_deleted"
    )  # fmt: skip
    assert await server.runtime.store.get_client(client_id) is None
    (deleted, *_) = await admin_events(panel)
    assert (deleted.event, deleted.client_id) == ("admin.client_deleted", client_id)
    assert (await panel.get(f"/admin/clients/{client_id}")).status_code == 404
    assert (await panel.post(f"/admin/clients/{client_id}/delete")).status_code == 404
    assert (await panel.post(f"/admin/clients/{client_id}/rotate")).status_code == 404


async def test_the_form_sets_require_state_and_explains_each_delivery(server: Server) -> None:
    """The require-state switch is created and edited from the form, which says plainly that
    query delivery puts a bearer token in URLs and form_post does not."""
    panel = await sign_in_panel(server)
    empty = await panel.get("/admin/clients/new")
    assert 'name="require_state"' in empty.text
    assert "login CSRF" in empty.text
    assert "query delivery puts a bearer token" in empty.text  # the default is query
    assert "browser history, server and proxy logs and Referer headers" in empty.text
    assert "no URL, history, log or Referer carries it" in empty.text
    client_id, _ = await create(panel, require_state="on")
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert client.require_state
    edit = await panel.get(f"/admin/clients/{client_id}")
    assert re.search(r'name="require_state"[^>]* checked', edit.text), edit.text
    assert "query delivery puts a bearer token" not in edit.text  # form_post
    saved = await panel.post(f"/admin/clients/{client_id}", {**FORM, "token_delivery": "query"})
    assert saved.status_code == 303, saved.text
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert not client.require_state  # unchecked box: off
    assert client.token_delivery == "query"
    assert "query delivery puts a bearer token" in (await panel.get(saved.headers["location"])).text


async def test_a_client_logo_is_set_changed_and_removed(server: Server) -> None:
    """The logo field: checked, stored, audited, shown on the client's pages."""
    panel = await sign_in_panel(server)
    logo = "https://cdn.notes.example/logo.svg"
    for bad in ("http://cdn.notes.example/logo.svg", "javascript:alert(1)", "https://a b/"):
        refused = await panel.post("/admin/clients/new", {**FORM, "logo_uri": bad})
        assert refused.status_code == 422, bad
        assert "The logo URL" in refused.text
        assert f'value="{bad}"' in refused.text.replace("&#34;", '"')  # shown again to fix
    assert await server.runtime.store.list_clients() == []
    client_id, _ = await create(panel, logo_uri=f" {logo} ")
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    assert client.logo_uri == logo
    (created,) = await admin_events(panel)
    assert json.loads(created.detail)["logo_uri"] == logo
    form = await panel.get(f"/admin/clients/{client_id}")
    assert f'name="logo_uri" type="url" aria-describedby="logo-hint" value="{logo}"' in form.text
    signin = await server.client.get(f"/auth/registration/{client_id}")  # the admin is signed in
    assert f'<img class="client-logo" src="{logo}" alt="Notes logo"' in signin.text

    local = "http://localhost:3000/logo.png"
    edited = await panel.post(f"/admin/clients/{client_id}", {**FORM, "logo_uri": local})
    assert edited.status_code == 303
    assert (await server.runtime.store.get_client(client_id)).logo_uri == local  # type: ignore[union-attr]
    renamed = await panel.post(
        f"/admin/clients/{client_id}", {**FORM, "name": "Notes 2", "logo_uri": local}
    )
    assert renamed.status_code == 303
    removed = await panel.post(f"/admin/clients/{client_id}", {**FORM, "logo_uri": ""})
    assert removed.status_code == 303
    assert (await server.runtime.store.get_client(client_id)).logo_uri is None  # type: ignore[union-attr]
    details = [json.loads(event.detail) for event in await admin_events(panel)]
    assert [detail.get("logo_uri", "unchanged") for detail in details[:3]] == [
        "",  # removed
        "unchanged",  # renamed, same logo
        local,
    ]
