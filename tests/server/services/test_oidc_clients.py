"""A client's OpenID Connect settings: checked before anything is written, stored in one go."""

from __future__ import annotations

import json

import pytest

from keyfob.errors import InvalidRequest
from keyfob.server.services.clients import create_client
from keyfob.server.services.oidc_clients import (
    audited,
    changed_settings,
    configure_oidc,
    oidc_settings,
    settings_of,
)
from tests.server.conftest import Server

APP = "https://app.example/cb"
JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "kid": "k1",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
JWKS = json.dumps({"keys": [JWK]})


@pytest.fixture
def routing() -> str:
    return "fastapi"  # no request goes through the app


async def test_the_defaults_are_a_new_clients(server: Server) -> None:
    """oidc_settings' defaults are what a client created without them has (the columns')."""
    client, _ = await create_client(server.runtime, name="A", redirect_uris=[APP])
    assert oidc_settings([APP]) == settings_of(client)


async def test_create_client_stores_the_settings_in_its_one_write(server: Server) -> None:
    settings = oidc_settings(
        [APP],
        auth_method="private_key_jwt",
        jwks=JWKS,
        scopes="openid wallet",
        subject_type="pairwise",
        resources=["https://api.example/"],
        refresh_lifetime_minutes=90,
    )
    client, _ = await create_client(server.runtime, name="A", redirect_uris=[APP], oidc=settings)
    stored = await server.runtime.store.get_client(client.id)
    assert stored == client
    assert settings_of(stored) == settings
    assert stored.sector_identifier == "app.example"
    assert json.loads(stored.jwks or "") == {"keys": [JWK]}


async def test_a_value_the_store_refuses_leaves_no_client(server: Server) -> None:
    """Settings the store refuses (a sector longer than its column, which oidc_settings never
    makes) leave no client half registered: create_client writes once."""
    settings = oidc_settings([APP], subject_type="pairwise")
    settings["sector_identifier"] = "a" * 300
    with pytest.raises(InvalidRequest, match="sector identifier"):
        await create_client(server.runtime, name="A", redirect_uris=[APP], oidc=settings)
    assert await server.runtime.store.list_clients() == []


def test_a_pairwise_client_keeps_its_sector() -> None:
    """A sector once given stays (its users' sub with it) when the redirect URIs move; one
    becoming pairwise gets its redirect URIs' host; a public one has none."""
    moved = ["https://new.example/cb", "https://other.example/cb"]
    assert (
        oidc_settings(moved, subject_type="pairwise", sector="app.example")["sector_identifier"]
        == "app.example"
    )
    assert oidc_settings([APP], subject_type="pairwise")["sector_identifier"] == "app.example"
    assert oidc_settings([APP], sector="app.example")["sector_identifier"] is None
    with pytest.raises(InvalidRequest, match="2 hosts"):
        oidc_settings(moved, subject_type="pairwise")


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"scopes": "openid  profile"}, "RFC 6749"),  # InvalidScope, made an InvalidRequest
        ({"resources": ["https://api.example/#x"]}, "fragment"),  # InvalidTarget, likewise
        ({"resources": ["api"]}, "absolute URI"),
        ({"post_logout_redirect_uris": ["ftp://a.example/"]}, "post-logout redirect URI"),
        ({"backchannel_logout_uri": "https://a.example/#f"}, "back-channel logout URI"),
        ({"refresh_lifetime_minutes": 0}, "refresh token lifetime"),
        ({"refresh_lifetime_minutes": 2**31}, "refresh token lifetime"),
        ({"auth_method": "private_key_jwt", "jwks": '{"keys": [1]}'}, "JSON object"),
        ({"auth_method": "private_key_jwt", "jwks": "[" * 100_000}, "must be JSON"),
        ({"jwks": json.dumps({"keys": [{**JWK, "x": "short"}]})}, "not a valid EdDSA"),
    ],
)
def test_every_refusal_is_an_invalid_request(options: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint) as refused:
        oidc_settings([APP], **options)  # type: ignore[arg-type]
    assert type(refused.value) is InvalidRequest


async def test_configure_oidc_with_a_bad_value_changes_nothing(server: Server) -> None:
    client, _ = await create_client(server.runtime, name="A", redirect_uris=[APP])
    with pytest.raises(InvalidRequest):
        await configure_oidc(server.runtime, client.id, first_party=True, scopes="profile")
    assert await server.runtime.store.get_client(client.id) == client


async def test_the_audit_view_counts_keys_and_shows_what_changed(server: Server) -> None:
    before = oidc_settings([APP], auth_method="private_key_jwt", jwks=JWKS)
    shown = audited(before)
    assert shown["jwks_keys"] == 1
    assert "jwks" not in shown
    assert JWK["x"] not in json.dumps(shown)
    client, _ = await create_client(server.runtime, name="A", redirect_uris=[APP], oidc=before)
    assert changed_settings(client, before) == {}
    other = json.dumps({"keys": [{**JWK, "kid": "k2"}]})  # as many keys, but others
    after = oidc_settings([APP], auth_method="private_key_jwt", jwks=other, first_party=True)
    assert changed_settings(client, after) == {"first_party": True, "jwks_keys": 1}
    assert changed_settings(client, oidc_settings([APP])) == {
        "token_endpoint_auth_method": "client_secret_basic",
        "jwks_keys": None,
    }
