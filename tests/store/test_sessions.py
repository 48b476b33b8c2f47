"""Store: sessions, refresh-token rotation with reuse detection, app session keys.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture is parametrized).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from keyfob.errors import (
    InvalidSessionKey,
    InvalidToken,
    RefreshTokenReused,
    RefreshTokenSuperseded,
    TokenRevoked,
)
from keyfob.store import SessionRecord, Store
from keyfob.store.schema import session_keys, users
from tests.store.factories import DAY, NOW, open_session, session_key, set_row, sign_in

CONCURRENCY = 20
GRACE = timedelta(seconds=30)
MAX_AGE = 30 * DAY
TOKEN_TTL = timedelta(minutes=15)


async def rotate(store: Store, old: str, new: str, now: datetime = NOW) -> SessionRecord:
    return await store.rotate_refresh_token(
        token_hash=old,
        new_token_hash=new,
        now=now,
        new_expires_at=now + DAY,
        grace=GRACE,
        max_age=MAX_AGE,
        deny_until=now + TOKEN_TTL,
    )


async def test_create_and_get_session(store: Store) -> None:
    user, identity = await sign_in(store)
    session = await store.create_session(
        user_id=user.id,
        identity_id=identity.id,
        amr=("ethereum", "session_key"),
        refresh_token_hash="rt-0",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    assert (session.user_id, session.identity_id) == (user.id, identity.id)
    assert (session.amr, session.created_at, session.revoked_at) == (
        ("ethereum", "session_key"),
        NOW,
        None,
    )
    assert await store.get_session(session.id) == session
    assert await store.session_for_refresh_token("rt-0") == session
    assert await store.get_session("nope") is None
    assert await store.session_for_refresh_token("nope") is None


async def test_rotation_chain(store: Store) -> None:
    session = await open_session(store)
    assert await rotate(store, "rt-0", "rt-1") == session
    used = replace(session, last_used_at=NOW + timedelta(hours=1))  # a refresh is a use
    assert await rotate(store, "rt-1", "rt-2", NOW + timedelta(hours=1)) == used
    assert await store.session_for_refresh_token("rt-0") == used  # spent tokens still map


async def test_successor_expires_at_its_own_time(store: Store) -> None:
    await open_session(store)
    await rotate(store, "rt-0", "rt-1", NOW + timedelta(hours=23))
    await rotate(store, "rt-1", "rt-2", NOW + timedelta(hours=46))  # rt-0 would be dead by now


async def test_just_rotated_token_is_superseded_not_reused(store: Store) -> None:
    session = await open_session(store)
    await rotate(store, "rt-0", "rt-1")
    with pytest.raises(RefreshTokenSuperseded):
        await rotate(store, "rt-0", "rt-x", NOW + GRACE)
    assert await store.get_session(session.id) == session  # nothing revoked
    await rotate(store, "rt-1", "rt-2", NOW + GRACE)


async def _revoke(store: Store, session: SessionRecord) -> None:
    await store.revoke_session(session.id, now=NOW, deny_until=NOW + TOKEN_TTL)


async def _disable(store: Store, session: SessionRecord) -> None:
    await set_row(store, users, session.user_id, disabled=True)


async def _rotate_twice(store: Store, session: SessionRecord) -> None:
    await rotate(store, "rt-0", "rt-1")
    await rotate(store, "rt-1", "rt-2")


async def _rotate_once(store: Store, session: SessionRecord) -> None:
    await rotate(store, "rt-0", "rt-1")


async def _nothing(store: Store, session: SessionRecord) -> None:
    return None


Setup = Callable[[Store, SessionRecord], Awaitable[None]]


@pytest.mark.parametrize(
    ("setup", "token", "now", "error", "revokes"),
    [
        (_nothing, "unknown", NOW, InvalidToken, False),
        (_nothing, "rt-0", NOW + DAY, InvalidToken, False),  # expires exactly now
        (_nothing, "rt-0", NOW + 2 * DAY, InvalidToken, False),
        (_revoke, "rt-0", NOW, TokenRevoked, False),
        (_disable, "rt-0", NOW, TokenRevoked, False),
        (_rotate_once, "rt-0", NOW + GRACE + timedelta(seconds=1), RefreshTokenReused, True),
        (_rotate_twice, "rt-0", NOW, RefreshTokenReused, True),  # not the live token's parent
        (_rotate_twice, "rt-1", NOW + timedelta(hours=1), RefreshTokenReused, True),
    ],
    ids=[
        "unknown",
        "expired-now",
        "expired",
        "session-revoked",
        "user-disabled",
        "reused-after-grace",
        "grandparent-in-grace",
        "parent-after-grace",
    ],
)
async def test_rotation_refused(
    store: Store,
    setup: Setup,
    token: str,
    now: datetime,
    error: type[InvalidToken],
    revokes: bool,
) -> None:
    session = await open_session(store)
    await setup(store, session)
    with pytest.raises(error) as raised:
        await rotate(store, token, "rt-new", now)
    assert type(raised.value) is error
    after = await store.get_session(session.id)
    assert after is not None
    if revokes:
        assert after.revoked_at == now
        with pytest.raises(TokenRevoked):  # the live token dies with its session
            await rotate(store, "rt-2" if setup is _rotate_twice else "rt-1", "rt-y", now)
    elif setup is not _revoke:
        assert after.revoked_at is None


async def test_reuse_revokes_session_keys(store: Store) -> None:
    session = await open_session(store)
    await store.add_session_key(session_key(session))
    await _rotate_twice(store, session)
    with pytest.raises(RefreshTokenReused):
        await rotate(store, "rt-0", "rt-x")
    assert await store.use_session_key("tp-1", timestamp_ms=1, now=NOW) is None
    assert await store.list_session_keys(session.user_id, now=NOW) == []


async def test_concurrent_rotations_have_one_winner(store: Store, stores: list[Store]) -> None:
    session = await open_session(store)

    async def attempt(index: int) -> str:
        try:
            await rotate(stores[index % len(stores)], "rt-0", f"rt-new-{index}")
        except RefreshTokenSuperseded:
            return "superseded"
        return f"rt-new-{index}"

    results = await asyncio.gather(*(attempt(i) for i in range(CONCURRENCY)))
    winners = [r for r in results if r != "superseded"]
    assert len(winners) == 1
    assert await store.get_session(session.id) == session
    assert await rotate(store, winners[0], "rt-next") == session


async def test_revoke_session(store: Store) -> None:
    session = await open_session(store)
    await store.add_session_key(session_key(session))
    assert await store.revoke_session(session.id, now=NOW, deny_until=NOW + TOKEN_TTL) is True
    assert (
        await store.revoke_session(session.id, now=NOW + DAY, deny_until=NOW + TOKEN_TTL) is False
    )
    assert await store.revoke_session("unknown", now=NOW, deny_until=NOW + TOKEN_TTL) is False
    after = await store.get_session(session.id)
    assert after is not None
    assert after.revoked_at == NOW
    key = await store.get_session_key("tp-1")
    assert key is not None
    assert key.revoked_at == NOW


async def test_session_key_lifecycle(store: Store) -> None:
    session = await open_session(store)
    record = session_key(session)
    await store.add_session_key(record)
    assert await store.get_session_key("tp-1") == record
    assert await store.list_session_keys(session.user_id, now=NOW) == [record]
    used = await store.use_session_key("tp-1", timestamp_ms=1_000, now=NOW)
    assert used is not None
    assert used.last_timestamp_ms == 1_000
    assert await store.use_session_key("tp-1", timestamp_ms=1_000, now=NOW) is None  # replay
    assert await store.use_session_key("tp-1", timestamp_ms=999, now=NOW) is None  # older
    assert await store.use_session_key("tp-1", timestamp_ms=1_001, now=NOW) is not None
    assert await store.revoke_session_key("someone-else", "tp-1", now=NOW) is False
    assert await store.revoke_session_key(session.user_id, "tp-1", now=NOW) is True
    assert await store.revoke_session_key(session.user_id, "tp-1", now=NOW) is False
    assert await store.list_session_keys(session.user_id, now=NOW) == []
    assert await store.get_session_key("unknown") is None


async def test_reauthorising_a_key_replaces_it_but_keeps_its_watermark(store: Store) -> None:
    session = await open_session(store)
    await store.add_session_key(session_key(session))
    await store.use_session_key("tp-1", timestamp_ms=5_000, now=NOW)
    await store.revoke_session_key(session.user_id, "tp-1", now=NOW)
    second = await store.create_session(
        user_id=session.user_id,
        identity_id=session.identity_id,
        amr=("ethereum",),
        refresh_token_hash="rt-second",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    renewed = session_key(second, jwk='{"new":1}', expires_at=NOW + 2 * DAY)
    await store.add_session_key(renewed)
    stored = await store.get_session_key("tp-1")
    assert stored == session_key(
        second, jwk='{"new":1}', expires_at=NOW + 2 * DAY, last_timestamp_ms=5_000
    )
    assert await store.use_session_key("tp-1", timestamp_ms=5_000, now=NOW) is None
    assert await store.use_session_key("tp-1", timestamp_ms=5_001, now=NOW) is not None


async def test_key_of_another_user_is_refused(store: Store) -> None:
    alice = await open_session(store, "rt-a", address="0xA11CE")
    bob = await open_session(store, "rt-b", address="0xB0B")
    await store.add_session_key(session_key(alice))
    with pytest.raises(InvalidSessionKey):
        await store.add_session_key(session_key(bob))
    assert await store.get_session_key("tp-1") == session_key(alice)


async def test_key_on_unknown_session_is_refused(store: Store) -> None:
    session = await open_session(store)
    with pytest.raises(InvalidSessionKey):
        await store.add_session_key(session_key(session, session_id="no-such-session"))


@pytest.mark.parametrize(
    ("change", "thumbprint", "timestamp_ms", "now"),
    [
        ({}, "unknown", 1, NOW),
        ({}, "tp-1", 0, NOW),  # not newer than the watermark
        ({"revoked_at": NOW}, "tp-1", 1, NOW),
        ({}, "tp-1", 1, NOW + DAY),  # expires exactly now
        ("session", "tp-1", 1, NOW),
        ("user", "tp-1", 1, NOW),
    ],
    ids=["unknown", "stale", "key-revoked", "expired", "session-revoked", "user-disabled"],
)
async def test_session_key_use_refused(
    store: Store,
    change: dict[str, datetime] | str,
    thumbprint: str,
    timestamp_ms: int,
    now: datetime,
) -> None:
    session = await open_session(store)
    await store.add_session_key(session_key(session))
    if change == "session":
        await store.revoke_session(session.id, now=NOW, deny_until=NOW + TOKEN_TTL)
        await set_row(store, session_keys, "tp-1", revoked_at=None)  # only the session is revoked
    elif change == "user":
        await set_row(store, users, session.user_id, disabled=True)
    elif isinstance(change, dict) and change:
        await set_row(store, session_keys, "tp-1", **change)
    assert await store.use_session_key(thumbprint, timestamp_ms=timestamp_ms, now=now) is None
    stored = await store.get_session_key("tp-1")
    assert stored is not None
    assert stored.last_timestamp_ms == 0


async def test_concurrent_proofs_have_one_winner(store: Store, stores: list[Store]) -> None:
    session = await open_session(store)
    await store.add_session_key(session_key(session))
    results = await asyncio.gather(
        *(
            stores[i % len(stores)].use_session_key("tp-1", timestamp_ms=7, now=NOW)
            for i in range(CONCURRENCY)
        )
    )
    assert len([r for r in results if r is not None]) == 1
