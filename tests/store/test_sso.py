"""Store: SSO sessions of the hosted pages (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from keyfob.errors import Conflict, InvalidRequest, NotFound
from keyfob.store.records import SsoSessionRecord
from keyfob.store.schema import users
from tests.store import admin_fixtures
from tests.store.admin_fixtures import Combined
from tests.store.factories import DAY, NOW, set_row, sign_in

full_store = admin_fixtures.full_store


def sso(user_id: str, token_hash: str = "sso-1", **changes: Any) -> SsoSessionRecord:
    record = SsoSessionRecord(
        token_hash=token_hash,
        user_id=user_id,
        amr=("passkey", "user_verified"),
        authenticated_at=NOW,
        expires_at=NOW + DAY,
    )
    return replace(record, **changes)


async def test_round_trip(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store)
    record = sso(alice.id)
    await full_store.create_sso_session(record)
    assert await full_store.get_sso_session("sso-1", now=NOW) == record
    assert await full_store.get_sso_session("sso-1", now=NOW + DAY - timedelta(seconds=1)) == record
    single = sso(alice.id, "sso-2", amr=("ethereum",))
    await full_store.create_sso_session(single)
    assert await full_store.get_sso_session("sso-2", now=NOW) == single


@pytest.mark.parametrize("token_hash", ["unknown", "h" * 200, "a\x00b", ""])
async def test_unknown_token(full_store: Combined, token_hash: str) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.create_sso_session(sso(alice.id))
    assert await full_store.get_sso_session(token_hash, now=NOW) is None
    assert await full_store.delete_sso_session(token_hash) is False
    assert await full_store.get_sso_session("sso-1", now=NOW) is not None


async def test_expired_is_gone(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.create_sso_session(sso(alice.id))
    assert await full_store.get_sso_session("sso-1", now=NOW + DAY) is None  # expires exactly now
    assert await full_store.get_sso_session("sso-1", now=NOW + 2 * DAY) is None


async def test_disabled_user_has_no_sso_session(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.create_sso_session(sso(alice.id))
    await set_row(full_store, users, alice.id, disabled=True)
    assert await full_store.get_sso_session("sso-1", now=NOW) is None
    await set_row(full_store, users, alice.id, disabled=False)
    assert await full_store.get_sso_session("sso-1", now=NOW) == sso(alice.id)


async def test_delete(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store)
    await full_store.create_sso_session(sso(alice.id))
    await full_store.create_sso_session(sso(alice.id, "sso-2"))
    assert await full_store.delete_sso_session("sso-1") is True
    assert await full_store.delete_sso_session("sso-1") is False
    assert await full_store.get_sso_session("sso-1", now=NOW) is None
    assert await full_store.get_sso_session("sso-2", now=NOW) is not None


@pytest.mark.parametrize("user_id", ["no-such-user", "u" * 37])
async def test_unknown_user_is_not_found(full_store: Combined, user_id: str) -> None:
    with pytest.raises(NotFound):
        await full_store.create_sso_session(sso(user_id))
    assert await full_store.get_sso_session("sso-1", now=NOW) is None


async def test_token_hash_in_use_conflicts(full_store: Combined) -> None:
    alice, _ = await sign_in(full_store, "0xA11CE")
    bob, _ = await sign_in(full_store, "0xB0B")
    await full_store.create_sso_session(sso(alice.id))
    with pytest.raises(Conflict):
        await full_store.create_sso_session(sso(bob.id))
    assert await full_store.get_sso_session("sso-1", now=NOW) == sso(alice.id)


@pytest.mark.parametrize(
    "change",
    [
        {"token_hash": "h" * 129},
        {"amr": ("x" * 256,)},
        {"amr": ("a\x00",)},
        {"sid": "s" * 65},
        {"sid": "s\x00"},
    ],
    ids=["hash", "amr", "nul", "sid", "sid-nul"],
)
async def test_values_that_do_not_fit_are_refused(
    full_store: Combined, change: dict[str, Any]
) -> None:
    alice, _ = await sign_in(full_store)
    with pytest.raises(InvalidRequest):
        await full_store.create_sso_session(sso(alice.id, **change))


async def test_sid_round_trips_and_finds_the_session(full_store: Combined) -> None:
    """The public OIDC session id (migration 0004): stored, unique, looked up on the same terms
    as the token; sessions without one (from before 0004) do not clash."""
    alice, _ = await sign_in(full_store, "0xA11CE")
    bob, _ = await sign_in(full_store, "0xB0B")
    mine = sso(alice.id, sid="sid-alice")
    await full_store.create_sso_session(mine)
    await full_store.create_sso_session(sso(alice.id, "sso-2"))  # no sid
    await full_store.create_sso_session(sso(bob.id, "sso-3"))  # no sid either
    assert await full_store.get_sso_session("sso-1", now=NOW) == mine
    assert await full_store.get_sso_session_by_sid("sid-alice", now=NOW) == mine
    assert (await full_store.get_sso_session("sso-2", now=NOW)) == sso(alice.id, "sso-2")
    with pytest.raises(Conflict):
        await full_store.create_sso_session(sso(bob.id, "sso-4", sid="sid-alice"))
    assert await full_store.get_sso_session("sso-4", now=NOW) is None
    for unknown in ("sid-bob", "", "s" * 65, "a\x00b"):
        assert await full_store.get_sso_session_by_sid(unknown, now=NOW) is None
    assert await full_store.get_sso_session_by_sid("sid-alice", now=NOW + DAY) is None
    await set_row(full_store, users, alice.id, disabled=True)
    assert await full_store.get_sso_session_by_sid("sid-alice", now=NOW) is None
    await set_row(full_store, users, alice.id, disabled=False)
    assert await full_store.delete_sso_session("sso-1")
    assert await full_store.get_sso_session_by_sid("sid-alice", now=NOW) is None
