"""The client form's OpenID Connect fieldset: every setting created, shown, edited alone;
every bad value refused with its reason on both forms, before anything is stored; audited."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from keyfob.core.keys import generate_signing_key, public_jwk
from keyfob.server.services.oidc_clients import settings_of
from keyfob.store.records import ClientRecord
from tests.server.admin.panel import Panel, marked_invalid, sign_in_panel
from tests.server.admin.test_clients import FORM, admin_events, create, shown
from tests.server.conftest import Server

ED25519, P256 = (public_jwk(generate_signing_key(alg)) for alg in ("EdDSA", "ES256"))
JWKS = json.dumps({"keys": [ED25519, P256]}, indent=2)
# A client with some settings on and some off, so that every edit below changes one.
BASE: dict[str, Any] = {
    **FORM,
    "redirect_uris": "https://notes.example/cb",
    "post_logout_redirect_uris": "https://notes.example/bye",
    "backchannel_logout_uri": "https://notes.example/backchannel",
    "first_party": "on",
    "refresh_lifetime_minutes": "60",
    "resources": "https://api.notes.example/",
}
EVERY_FIELD: dict[str, Any] = {
    **BASE,
    "client_type": "confidential",
    "token_endpoint_auth_method": "private_key_jwt",
    "scopes": ["openid", "profile", "wallet", "email", "offline_access"],
    "post_logout_redirect_uris": "https://notes.example/bye\r\n\r\nhttps://notes.example/bye2\r\n",
    "subject_type": "pairwise",
    "id_token_alg": "EdDSA",
    "backchannel_logout_uri": " https://notes.example/backchannel ",
    "issue_refresh_tokens": "on",
    "refresh_lifetime_minutes": "1440",
    "jwks": JWKS,
    "resources": "https://api.notes.example/\r\nurn:notes:api",
    "synthetic_email": "on",
}


@pytest.fixture
def routing() -> str:
    return "fastapi"  # the admin panel is served alike either way; no need to run it twice


def changed(form: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``form`` with ``changes`` (None: the field left out, as an unchecked box is)."""
    new = {**form, **changes}
    return {key: value for key, value in new.items() if value is not None}


def error_of(page: str) -> str:
    found = re.search(r'<p class="error" role="alert" id="form-error">([^<]*)</p>', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def words(page: str) -> str:
    """The page's text unescaped, every run of white space one space (templates wrap lines)."""
    return " ".join(html.unescape(page).split())


async def stored(server: Server, client_id: str) -> ClientRecord:
    client = await server.runtime.store.get_client(client_id)
    assert client is not None
    return client


async def test_create_with_every_setting_and_read_it_back(server: Server) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, **EVERY_FIELD)
    client = await stored(server, client_id)
    assert settings_of(client) == {
        "client_type": "confidential",
        "token_endpoint_auth_method": "private_key_jwt",
        "scopes": ("openid", "profile", "wallet", "email", "offline_access"),
        "post_logout_redirect_uris": ("https://notes.example/bye", "https://notes.example/bye2"),
        "subject_type": "pairwise",
        "sector_identifier": "notes.example",
        "id_token_alg": "EdDSA",
        "backchannel_logout_uri": "https://notes.example/backchannel",
        "first_party": True,
        "issue_refresh_tokens": True,
        "jwks": json.dumps({"keys": [ED25519, P256]}, separators=(",", ":")),
        "resources": ("https://api.notes.example/", "urn:notes:api"),
        "synthetic_email": True,
        "refresh_lifetime_minutes": 1440,
    }
    assert (client.name, client.redirect_uris) == ("Notes", ("https://notes.example/cb",))
    assert (client.token_lifetime_minutes, client.token_delivery) == (10, "form_post")

    (event,) = await admin_events(panel)
    assert event.event == "admin.client_created"
    detail = json.loads(event.detail)
    assert detail["name"] == "Notes"
    assert detail["oidc"]["jwks_keys"] == 2
    assert detail["oidc"]["scopes"] == list(client.scopes)
    assert detail["oidc"]["subject_type"] == "pairwise"
    assert "jwks" not in detail["oidc"]
    assert ED25519["x"] not in event.detail
    assert P256["y"] not in event.detail

    page = (await panel.get(f"/admin/clients/{client_id}")).text
    for selected in ("private_key_jwt", "pairwise", "EdDSA"):
        assert f'value="{selected}" selected' in page
    for scope in client.scopes:
        assert f'value="{scope}" checked' in page
    for box in ("first_party", "issue_refresh_tokens", "synthetic_email"):
        assert re.search(rf'name="{box}"[^>]* checked', page), box
    assert "https://notes.example/bye\nhttps://notes.example/bye2</textarea>" in page
    assert 'value="https://notes.example/backchannel"' in page
    assert 'value="1440"' in page
    assert json.dumps(json.loads(JWKS), indent=2) in html.unescape(page)
    assert "<code>notes.example</code>" in page  # the pairwise sector, and that it stays


async def test_the_new_form_has_the_defaults(server: Server) -> None:
    panel = await sign_in_panel(server)
    page = (await panel.get("/admin/clients/new")).text
    assert re.search(r'name="client_type" value="confidential" checked', page)
    assert '<option value="" selected>By the client type</option>' in page
    assert re.findall(r'name="scopes" value="([a-z_]+)" checked', page) == ["openid", "profile"]
    assert 'value="openid" checked required' in page
    assert 'value="public" selected' in page  # the subject type
    assert 'value="RS256" selected' in page
    boxes = "first_party|issue_refresh_tokens|synthetic_email"
    assert not re.search(rf'name="({boxes})"[^>]* checked', page)


EDITS = [
    ({"client_type": "public"}, {"client_type": "public", "token_endpoint_auth_method": "none"}),
    ({"token_endpoint_auth_method": "client_secret_post"},
     {"token_endpoint_auth_method": "client_secret_post"}),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks": JWKS},
     {"token_endpoint_auth_method": "private_key_jwt",
      "jwks": json.dumps(json.loads(JWKS), separators=(",", ":"))}),
    ({"scopes": ["openid", "wallet"]}, {"scopes": ("openid", "wallet")}),
    ({"post_logout_redirect_uris": "https://notes.example/a\nhttps://notes.example/b"},
     {"post_logout_redirect_uris": ("https://notes.example/a", "https://notes.example/b")}),
    ({"post_logout_redirect_uris": ""}, {"post_logout_redirect_uris": ()}),
    ({"subject_type": "pairwise"},
     {"subject_type": "pairwise", "sector_identifier": "notes.example"}),
    ({"id_token_alg": "ES256"}, {"id_token_alg": "ES256"}),
    ({"backchannel_logout_uri": "https://notes.example/bc2"},
     {"backchannel_logout_uri": "https://notes.example/bc2"}),
    ({"backchannel_logout_uri": ""}, {"backchannel_logout_uri": None}),
    ({"first_party": None}, {"first_party": False}),
    ({"issue_refresh_tokens": "on"}, {"issue_refresh_tokens": True}),
    ({"refresh_lifetime_minutes": "120"}, {"refresh_lifetime_minutes": 120}),
    ({"refresh_lifetime_minutes": ""}, {"refresh_lifetime_minutes": None}),
    ({"jwks": JWKS}, {"jwks": json.dumps(json.loads(JWKS), separators=(",", ":"))}),
    ({"resources": "urn:notes:api"}, {"resources": ("urn:notes:api",)}),
    ({"resources": ""}, {"resources": ()}),
    ({"synthetic_email": "on"}, {"synthetic_email": True}),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), EDITS, ids=[str(e[0])[:40] for e in EDITS])
async def test_each_setting_is_edited_alone(
    server: Server, changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, **BASE)
    before = await stored(server, client_id)
    response = await panel.post(f"/admin/clients/{client_id}", changed(BASE, changes))
    assert response.status_code == 303, error_of(response.text)
    after = await stored(server, client_id)
    assert settings_of(after) == {**settings_of(before), **expected}
    assert (after.name, after.redirect_uris, after.sealed_secret) == (
        before.name, before.redirect_uris, before.sealed_secret
    )  # fmt: skip
    updated, _ = await admin_events(panel)
    assert updated.event == "admin.client_updated"
    audited = json.loads(updated.detail)["oidc"]
    renamed = {"jwks_keys" if key == "jwks" else key for key in expected}
    assert set(audited) == renamed
    if "jwks" in expected:
        assert audited["jwks_keys"] == 2
        assert ED25519["x"] not in updated.detail
    # The form shows the new value: saving it again changes nothing (and audits no setting).
    again = await panel.post(f"/admin/clients/{client_id}", changed(BASE, changes))
    assert again.status_code == 303
    assert settings_of(await stored(server, client_id)) == settings_of(after)
    assert "oidc" not in json.loads((await admin_events(panel))[0].detail)


async def test_a_save_with_no_oidc_change_keeps_a_pairwise_sector(server: Server) -> None:
    """Moving a pairwise client's redirect URIs keeps its sector, so its users' sub."""
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, **changed(BASE, {"subject_type": "pairwise"}))
    moved = changed(BASE, {"subject_type": "pairwise", "redirect_uris": "https://n2.example/cb"})
    assert (await panel.post(f"/admin/clients/{client_id}", moved)).status_code == 303
    client = await stored(server, client_id)
    assert (client.redirect_uris, client.sector_identifier) == (
        ("https://n2.example/cb",), "notes.example"
    )  # fmt: skip


BAD = [
    ({"scopes": ["openid", "calendar"]}, "Each scope must be one of openid, profile"),
    ({"scopes": ["profile"]}, "needs the openid scope"),
    ({"scopes": None}, "needs the openid scope"),
    ({"scopes": ['openid "x"']}, "scope tokens of printable ASCII"),
    ({"client_type": "public", "token_endpoint_auth_method": "client_secret_basic"},
     "A public client authenticates with none, and only a public one."),
    ({"token_endpoint_auth_method": "none"}, "A public client authenticates with none"),
    ({"token_endpoint_auth_method": "tls_client_auth"},
     "The token endpoint authentication method must be one of"),
    ({"client_type": None}, "The client type is confidential or public."),
    ({"client_type": "secret"}, "The client type is confidential or public."),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt needs the client's"),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks": "{keys: []}"}, "must be JSON"),
    ({"jwks": '{"keys": []}'}, "must be JSON"),
    ({"jwks": json.dumps({"keys": [{**ED25519, "d": "x"}]})}, "holds private key members"),
    ({"jwks": json.dumps({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]})},
     "holds private key members"),
    ({"jwks": json.dumps({"keys": [{**ED25519, "x": "AAAA"}]})}, "not a valid EdDSA public key"),
    ({"jwks": json.dumps({"keys": [{**P256, "kid": ""}]})}, "needs a kid"),
    ({"post_logout_redirect_uris": "javascript:alert(1)"},
     "The post-logout redirect URI 'javascript:alert(1)' must be an absolute http(s) URL."),
    ({"post_logout_redirect_uris": "https://notes.example/bye#x"},
     "The post-logout redirect URI 'https://notes.example/bye#x' must not have a fragment."),
    ({"post_logout_redirect_uris": "https://user@notes.example/bye"}, "user name or password"),
    ({"backchannel_logout_uri": "ftp://notes.example/bc"},
     "The back-channel logout URI 'ftp://notes.example/bc' must be an absolute http(s) URL."),
    ({"backchannel_logout_uri": "https://notes.example/bc#"}, "must not have a fragment"),
    ({"backchannel_logout_uri": "https://notes.example/a b"}, "without spaces"),
    ({"resources": "api"}, "The resource must be an absolute URI"),
    ({"resources": "https://api.notes.example/#x"}, "must not have a fragment"),
    ({"resources": "https:///path"}, "An http(s) resource must name a host."),
    ({"refresh_lifetime_minutes": "0"}, "The refresh token lifetime must be between 1 and"),
    ({"refresh_lifetime_minutes": "527041"}, "The refresh token lifetime must be between 1 and"),
    ({"refresh_lifetime_minutes": "ten"}, "The refresh token lifetime is a whole number"),
    ({"refresh_lifetime_minutes": "-5"}, "The refresh token lifetime is a whole number"),
    ({"refresh_lifetime_minutes": "9" * 5000}, "The refresh token lifetime must be between"),
    ({"id_token_alg": "HS256"}, "The ID token algorithm must be one of RS256, ES256, EdDSA."),
    ({"id_token_alg": "none"}, "The ID token algorithm must be one of"),
    ({"subject_type": "secret"}, "The subject type must be one of public, pairwise."),
    ({"subject_type": "pairwise", "redirect_uris": "https://a.example/cb\nhttps://b.example/cb"},
     "The redirect URIs are on 2 hosts"),
    ({"subject_type": "pairwise", "redirect_uris": ""}, "needs a redirect URI"),
]  # fmt: skip


# The field an error of BAD is tied to, where it is not the last one the case changes.
BLAMED = {
    "private_key_jwt needs the client's": "jwks",
    "The redirect URIs are on 2 hosts": "subject_type",
    "needs a redirect URI": "subject_type",
}


@pytest.mark.parametrize("form", ["create", "edit"])
@pytest.mark.parametrize(("changes", "message"), BAD, ids=[m[:40] for _, m in BAD])
async def test_a_bad_setting_is_refused_and_nothing_is_stored(
    server: Server, form: str, changes: dict[str, Any], message: str
) -> None:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, **BASE)
    before = await stored(server, client_id)
    path = "/admin/clients/new" if form == "create" else f"/admin/clients/{client_id}"
    response = await panel.post(path, changed(BASE, changes))
    assert response.status_code == 422
    assert message in error_of(response.text)
    assert "<fieldset" in response.text  # the form again, not an error page
    assert marked_invalid(response.text) == [BLAMED.get(message, list(changes)[-1])]
    assert await server.runtime.store.list_clients() == [before]  # not even its updated_at
    assert [event.event for event in await admin_events(panel)] == ["admin.client_created"]


async def test_the_form_shows_what_was_typed_after_an_error(server: Server) -> None:
    panel = await sign_in_panel(server)
    typed = changed(EVERY_FIELD, {"refresh_lifetime_minutes": "ten", "scopes": ["openid", "email"]})
    for path in ("/admin/clients/new", f"/admin/clients/{(await create(panel, **BASE))[0]}"):
        response = await panel.post(path, typed)
        assert response.status_code == 422
        page = response.text
        assert 'value="ten"' in page
        assert re.findall(r'name="scopes" value="([a-z_]+)" checked', page) == ["openid", "email"]
        assert 'value="private_key_jwt" selected' in page
        assert 'value="pairwise" selected' in page
        assert 'value="EdDSA" selected' in page
        assert JWKS in html.unescape(page)
        assert "urn:notes:api</textarea>" in page
        assert 'value=" https://notes.example/backchannel "' in page  # as typed
        for box in ("first_party", "issue_refresh_tokens", "synthetic_email"):
            assert re.search(rf'name="{box}"[^>]* checked', page), box


async def test_an_edit_needs_the_csrf_token(panel_with_client: tuple[Panel, str]) -> None:
    panel, client_id = panel_with_client
    before = await stored(panel.server, client_id)
    edit = changed(BASE, {"scopes": ["openid", "wallet"], "client_type": "public"})
    for csrf in (None, "", "0" * 64):
        response = await panel.post(f"/admin/clients/{client_id}", edit, csrf=csrf)
        assert response.status_code == 403
    other_site = await panel.post(
        f"/admin/clients/{client_id}", edit, headers={"origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    assert await stored(panel.server, client_id) == before


@pytest.fixture
async def panel_with_client(server: Server) -> tuple[Panel, str]:
    panel = await sign_in_panel(server)
    client_id, _ = await create(panel, **BASE)
    return panel, client_id


async def test_a_public_client_is_told_it_needs_no_secret_for_oidc(server: Server) -> None:
    """The secret page, the client's page and the list say that OpenID Connect needs no secret
    for a public client, and what the secret still does (the hosted redirect's tokens)."""
    panel = await sign_in_panel(server)
    response = await panel.post("/admin/clients/new", changed(BASE, {"client_type": "public"}))
    assert response.status_code == 200
    client_id, secret = shown(response.text, "client-id"), shown(response.text, "client-secret")
    use = "This is a public client: OpenID Connect needs no secret for it"
    assert use in words(response.text)
    assert "The secret only signs the tokens of keyfob's hosted redirect" in words(response.text)
    assert use in words((await panel.get(f"/admin/clients/{client_id}")).text)
    listed = words((await panel.get("/admin/clients")).text)
    assert "OpenID Connect: public, no secret (none, PKCE)" in listed
    rotated = await panel.post(f"/admin/clients/{client_id}/rotate")
    assert use in words(rotated.text)
    assert shown(rotated.text, "client-secret") != secret

    confidential = words((await panel.post("/admin/clients/new", BASE)).text)
    assert "The secret is the client secret of OpenID Connect (client_secret_basic)" in (
        confidential
    )
    assert use not in confidential
    keyed = await panel.post(
        "/admin/clients/new",
        changed(BASE, {"token_endpoint_auth_method": "private_key_jwt", "jwks": JWKS}),
    )
    assert "with its keys (private_key_jwt), not with the secret" in words(keyed.text)
    assert "OpenID Connect: confidential, client_secret_basic" in words(
        (await panel.get("/admin/clients")).text
    )
