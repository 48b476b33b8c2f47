"""Store: client apps, their secrets and who may sign in to them (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from keyfob.errors import Conflict, InvalidRequest, NotFound
from keyfob.store.clients import CLEAR
from tests.store import admin_fixtures
from tests.store.admin_fixtures import Combined, client_record
from tests.store.factories import NOW, sign_in

full_store = admin_fixtures.full_store

LATER = NOW + timedelta(hours=1)
NOT_IDS = ["nope", "c0a1e1e5-0000-4000-8000-00000000000f", "x" * 100, "a\x00b", ""]


async def test_round_trip_and_list_by_name(full_store: Combined) -> None:
    notes = client_record("id-1", name="notes")
    admin = client_record("id-2", name="admin", redirect_uris=(), token_delivery="form_post")
    wiki = client_record("id-3", name="wiki", open_to_all=True, registration_enabled=False)
    for record in (notes, admin, wiki):
        await full_store.add_client(record)
    assert await full_store.get_client("id-1") == notes
    assert await full_store.get_client("id-2") == admin
    assert await full_store.list_clients() == [admin, notes, wiki]


@pytest.mark.parametrize("client_id", NOT_IDS)
async def test_unknown_client(full_store: Combined, client_id: str) -> None:
    await full_store.add_client(client_record())
    assert await full_store.get_client(client_id) is None
    assert await full_store.update_client(client_id, now=LATER, name="x") is None
    assert await full_store.set_client_secret(client_id, b"s", now=LATER) is False
    assert await full_store.delete_client(client_id) is False
    assert await full_store.users_permitted(client_id) == []
    assert len(await full_store.list_clients()) == 1


async def test_duplicate_id_conflicts(full_store: Combined) -> None:
    await full_store.add_client(client_record())
    with pytest.raises(Conflict):
        await full_store.add_client(client_record(name="other"))
    assert [c.name for c in await full_store.list_clients()] == ["notes"]


@pytest.mark.parametrize(
    "change",
    [{"name": "n" * 256}, {"token_delivery": "x" * 17}, {"token_lifetime_minutes": 2**31}],
    ids=["name", "delivery", "lifetime"],
)
async def test_values_that_do_not_fit_are_refused(
    full_store: Combined, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        await full_store.add_client(client_record(**change))
    await full_store.add_client(client_record())
    with pytest.raises(InvalidRequest):
        await full_store.update_client(client_record().id, now=LATER, **change)
    assert await full_store.get_client(client_record().id) == client_record()


async def test_partial_updates(full_store: Combined) -> None:
    original = client_record()
    await full_store.add_client(original)
    renamed = await full_store.update_client(original.id, now=LATER, name="notes 2")
    assert renamed == replace(original, name="notes 2", updated_at=LATER)
    assert await full_store.get_client(original.id) == renamed
    later = LATER + timedelta(minutes=5)
    changed = await full_store.update_client(
        original.id,
        now=later,
        redirect_uris=("https://new.example/cb",),
        registration_enabled=False,  # False is a value, not "unchanged"
        open_to_all=True,
        token_lifetime_minutes=5,
        authorized_client_lifetime_minutes=0,
        token_delivery="query",
    )
    assert changed == replace(
        original,
        name="notes 2",
        redirect_uris=("https://new.example/cb",),
        registration_enabled=False,
        open_to_all=True,
        token_lifetime_minutes=5,
        authorized_client_lifetime_minutes=0,
        token_delivery="query",
        updated_at=later,
    )
    emptied = await full_store.update_client(original.id, now=later, redirect_uris=())
    assert emptied is not None
    assert emptied.redirect_uris == ()
    touched = await full_store.update_client(original.id, now=NOW + timedelta(days=1))
    assert touched == replace(emptied, updated_at=NOW + timedelta(days=1))


async def test_set_secret(full_store: Combined) -> None:
    await full_store.add_client(client_record())
    assert await full_store.set_client_secret(client_record().id, b"\x01new", now=LATER)
    stored = await full_store.get_client(client_record().id)
    assert stored == replace(client_record(), sealed_secret=b"\x01new", updated_at=LATER)


async def test_reseal_secret_is_compare_and_set_and_keeps_updated_at(full_store: Combined) -> None:
    await full_store.add_client(client_record())
    cid, old = client_record().id, client_record().sealed_secret
    assert not await full_store.reseal_client_secret(cid, b"not what it holds", b"\x02x")
    assert not await full_store.reseal_client_secret("nope", old, b"\x02x")
    assert await full_store.reseal_client_secret(cid, old, b"\x02resealed")
    assert not await full_store.reseal_client_secret(cid, old, b"\x02again")  # a racing start
    assert await full_store.get_client(cid) == replace(
        client_record(), sealed_secret=b"\x02resealed"
    )


async def test_permissions(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store, "0xA11CE")
    bob, _ = await sign_in(full_store, "0xB0B")
    await full_store.add_client(client_record("id-1"))
    await full_store.add_client(client_record("id-2"))
    assert await full_store.has_permission(alice.id, "id-1") is False
    assert await full_store.grant_permission(alice.id, "id-1", now=NOW) is True
    assert await full_store.grant_permission(alice.id, "id-1", now=LATER) is False  # idempotent
    assert await full_store.grant_permission(alice.id, "id-2", now=NOW) is True
    assert await full_store.grant_permission(bob.id, "id-1", now=NOW) is True
    assert await full_store.has_permission(alice.id, "id-1") is True
    assert await full_store.has_permission(bob.id, "id-2") is False
    assert await full_store.permissions_of_user(alice.id) == ["id-1", "id-2"]
    assert await full_store.users_permitted("id-1") == sorted([alice.id, bob.id])
    assert await full_store.revoke_permission(alice.id, "id-1") is True
    assert await full_store.revoke_permission(alice.id, "id-1") is False
    assert await full_store.has_permission(alice.id, "id-1") is False
    assert await full_store.users_permitted("id-1") == [bob.id]
    assert await full_store.permissions_of_user("unknown") == []
    assert await full_store.permissions_of_user("a\x00b") == []


@pytest.mark.parametrize("who", ["user", "client"])
@pytest.mark.parametrize("missing", ["unknown", "x" * 40, "a\x00b"])
async def test_grant_to_unknown_is_not_found(full_store: Combined, who: str, missing: str) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.add_client(client_record())
    user_id, client_id = (missing, client_record().id) if who == "user" else (alice.id, missing)
    with pytest.raises(NotFound):
        await full_store.grant_permission(user_id, client_id, now=NOW)
    assert await full_store.has_permission(user_id, client_id) is False
    assert await full_store.revoke_permission(user_id, client_id) is False
    assert await full_store.permissions_of_user(alice.id) == []


async def test_deleting_a_client_takes_its_permissions(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.add_client(client_record("id-1"))
    await full_store.add_client(client_record("id-2"))
    await full_store.grant_permission(alice.id, "id-1", now=NOW)
    await full_store.grant_permission(alice.id, "id-2", now=NOW)
    assert await full_store.delete_client("id-1") is True
    assert await full_store.delete_client("id-1") is False
    assert await full_store.get_client("id-1") is None
    assert await full_store.permissions_of_user(alice.id) == ["id-2"]
    assert await full_store.users_permitted("id-1") == []
    await full_store.add_client(client_record("id-1"))  # a new client of that id starts empty
    assert await full_store.has_permission(alice.id, "id-1") is False


async def test_require_state_round_trips_and_updates(full_store: Combined) -> None:
    """The per-client "require state" switch (migration 0003) is stored, read and changed."""
    strict = client_record("id-1", require_state=True)
    lax = client_record("id-2", name="lax")
    for record in (strict, lax):
        await full_store.add_client(record)
    assert (await full_store.get_client("id-1")) == strict
    assert (await full_store.get_client("id-2")) == replace(lax, require_state=False)
    relaxed = await full_store.update_client("id-1", now=LATER, require_state=False)
    assert relaxed == replace(strict, require_state=False, updated_at=LATER)
    untouched = await full_store.update_client("id-1", now=LATER, name="renamed")
    assert untouched is not None
    assert untouched.require_state is False
    assert (await full_store.update_client("id-2", now=LATER, require_state=True)) == replace(
        lax, require_state=True, updated_at=LATER
    )


OIDC_SETTINGS: dict[str, Any] = {
    "client_type": "public",
    "token_endpoint_auth_method": "none",
    "post_logout_redirect_uris": ("https://notes.example/bye", "https://notes.example/x?y=1"),
    "scopes": ("openid", "profile", "email", "offline_access"),
    "subject_type": "pairwise",
    "sector_identifier": "notes.example",
    "id_token_alg": "EdDSA",
    "backchannel_logout_uri": "https://notes.example/backchannel",
    "first_party": True,
    "issue_refresh_tokens": True,
    "jwks": '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}',
    "resources": ("https://api.notes.example",),
    "synthetic_email": True,
    "refresh_lifetime_minutes": 60 * 24 * 14,
}
NULLABLE = ("sector_identifier", "backchannel_logout_uri", "jwks", "refresh_lifetime_minutes")
CLEARED: dict[str, Any] = dict.fromkeys(NULLABLE, CLEAR)
NULLED: dict[str, Any] = dict.fromkeys(NULLABLE)


async def test_oidc_settings_default_round_trip_and_update(full_store: Combined) -> None:
    """The OIDC settings (migration 0004): defaults, round trip, partial update, CLEAR."""
    plain = client_record("id-1")
    assert (plain.client_type, plain.scopes, plain.post_logout_redirect_uris) == (
        "confidential",
        ("openid", "profile"),
        (),
    )
    oidc = client_record("id-2", name="oidc", **OIDC_SETTINGS)
    for record in (plain, oidc):
        await full_store.add_client(record)
    assert await full_store.get_client("id-1") == plain
    assert await full_store.get_client("id-2") == oidc
    updated = await full_store.update_client("id-1", now=LATER, **OIDC_SETTINGS)
    assert updated == replace(plain, updated_at=LATER, **OIDC_SETTINGS)
    kept = await full_store.update_client("id-1", now=LATER, first_party=False, scopes=("openid",))
    assert kept == replace(updated, first_party=False, scopes=("openid",))
    cleared = await full_store.update_client("id-1", now=LATER, **CLEARED)
    assert cleared == replace(kept, **NULLED)
    emptied = await full_store.update_client(
        "id-1", now=LATER, post_logout_redirect_uris=(), resources=(), scopes=()
    )
    assert emptied == replace(cleared, post_logout_redirect_uris=(), resources=(), scopes=())
    assert await full_store.get_client("id-1") == emptied
    assert await full_store.get_client("id-2") == oidc  # the other client untouched


@pytest.mark.parametrize("name", NULLABLE)
async def test_clear_sets_only_its_own_setting(full_store: Combined, name: str) -> None:
    oidc = client_record(**OIDC_SETTINGS)
    await full_store.add_client(oidc)
    clear: dict[str, Any] = {name: CLEAR}
    nulled: dict[str, Any] = {name: None}
    cleared = await full_store.update_client(oidc.id, now=LATER, **clear)
    assert cleared == replace(oidc, updated_at=LATER, **nulled)


@pytest.mark.parametrize(
    "change",
    [
        {"client_type": "x" * 17},
        {"token_endpoint_auth_method": "x" * 33},
        {"scopes": ("openid", "two words")},
        {"scopes": ("",)},
        {"scopes": tuple(f"scope-{i:03}" for i in range(30))},  # > 255 characters
        {"sector_identifier": "h" * 256},
        {"backchannel_logout_uri": "https://x.example/" + "a" * 2048},
        {"id_token_alg": "x" * 17},
        {"refresh_lifetime_minutes": 2**31},
        {"jwks": "{\x00}"},
    ],
    ids=[
        "type",
        "method",
        "spaced-scope",
        "empty",
        "scopes",
        "sector",
        "uri",
        "alg",
        "life",
        "nul",
    ],
)
async def test_oidc_values_that_do_not_fit_are_refused(
    full_store: Combined, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        await full_store.add_client(client_record(**change))
    await full_store.add_client(client_record())
    with pytest.raises(InvalidRequest):
        await full_store.update_client(client_record().id, now=LATER, **change)
    assert await full_store.get_client(client_record().id) == client_record()


async def test_logo_round_trips_updates_and_clears(full_store: Combined) -> None:
    """A client's logo (migration 0007): none by default, kept by other updates, CLEAR."""
    logo = "https://cdn.notes.example/logo.svg"
    plain = client_record("id-1")
    assert plain.logo_uri is None
    branded = client_record("id-2", name="branded", logo_uri=logo)
    for record in (plain, branded):
        await full_store.add_client(record)
    assert await full_store.get_client("id-1") == plain
    assert await full_store.get_client("id-2") == branded
    added = await full_store.update_client("id-1", now=LATER, logo_uri=logo)
    assert added == replace(plain, logo_uri=logo, updated_at=LATER)
    renamed = await full_store.update_client("id-1", now=LATER, name="renamed")
    assert renamed is not None
    assert renamed.logo_uri == logo
    cleared = await full_store.update_client("id-1", now=LATER, logo_uri=CLEAR)
    assert cleared == replace(renamed, logo_uri=None)
    assert await full_store.get_client("id-2") == branded
    too_long = "https://cdn.notes.example/" + "a" * 2048
    with pytest.raises(InvalidRequest):
        await full_store.add_client(client_record("id-3", logo_uri=too_long))
    with pytest.raises(InvalidRequest):
        await full_store.update_client("id-2", now=LATER, logo_uri=too_long)
    assert await full_store.get_client("id-2") == branded
