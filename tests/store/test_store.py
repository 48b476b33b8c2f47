"""Store: nonces, single-use keys, users and identities, denylist, signing keys, purge.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture is parametrized).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import StatementError

from keyfob.store import NonceRecord, SigningKeyRecord, Store
from keyfob.store.schema import identities, nonces, refresh_tokens, sessions, users
from tests.store.factories import DAY, NOW, open_session, session_key, set_row, sign_in

CONCURRENCY = 20


def nonce(value: str = "n-1", *, expires_at: datetime = NOW + timedelta(minutes=5)) -> NonceRecord:
    return NonceRecord(
        nonce=value, chain="ethereum", address=None, issued_at=NOW, expires_at=expires_at
    )


async def test_nonce_is_consumed_once(store: Store) -> None:
    record = NonceRecord("n-1", "nimiq", "NQ07 0000", NOW, NOW + timedelta(minutes=5))
    await store.add_nonce(record)
    assert await store.consume_nonce("n-1", now=NOW) == record
    assert await store.consume_nonce("n-1", now=NOW) is None


@pytest.mark.parametrize(
    ("stored", "asked", "now"),
    [
        (None, "n-1", NOW),  # unknown
        ("n-1", "n-2", NOW),  # another nonce
        ("n-1", "n-1", NOW + timedelta(minutes=5)),  # expires exactly now
        ("n-1", "n-1", NOW + DAY),  # long expired
    ],
)
async def test_nonce_refused(store: Store, stored: str | None, asked: str, now: datetime) -> None:
    if stored is not None:
        await store.add_nonce(nonce(stored))
    assert await store.consume_nonce(asked, now=now) is None


async def test_times_come_back_aware_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    issued = datetime(2030, 1, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    await store.add_nonce(NonceRecord("n-tz", "solana", None, issued, issued + DAY))
    got = await store.consume_nonce("n-tz", now=issued)
    assert got is not None
    assert got.issued_at == issued
    assert got.issued_at.tzinfo is UTC
    assert got.expires_at.tzinfo is UTC
    assert got.issued_at.hour == 12
    assert got.issued_at.microsecond == 123456


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive"):
        await store.add_nonce(nonce(expires_at=datetime(2030, 1, 1)))


async def test_concurrent_consumers_get_one_nonce(store: Store, stores: list[Store]) -> None:
    await store.add_nonce(nonce())
    results = await asyncio.gather(
        *(stores[i % len(stores)].consume_nonce("n-1", now=NOW) for i in range(CONCURRENCY))
    )
    assert [r for r in results if r is not None] == [nonce()]


async def test_mark_used_is_true_once(store: Store) -> None:
    assert await store.mark_used("nonce:abc", expires_at=NOW) is True
    assert await store.mark_used("nonce:abc", expires_at=NOW + DAY) is False
    assert await store.mark_used("challenge:abc", expires_at=NOW) is True


async def test_concurrent_mark_used_has_one_winner(stores: list[Store]) -> None:
    results = await asyncio.gather(
        *(
            stores[i % len(stores)].mark_used("challenge:x", expires_at=NOW)
            for i in range(CONCURRENCY)
        )
    )
    assert results.count(True) == 1


async def test_first_sign_in_creates_user_and_identity(store: Store) -> None:
    user, identity = await store.sign_in_identity(
        kind="solana", address="So1ana", public_key=b"\x01" * 32, now=NOW
    )
    assert (identity.kind, identity.address, identity.public_key) == (
        "solana",
        "So1ana",
        b"\x01" * 32,
    )
    assert identity.user_id == user.id
    assert len(user.id) == 36
    assert (user.created_at, user.last_login, identity.last_used_at) == (NOW, NOW, NOW)
    assert (user.disabled, user.roles, user.identities) == (False, (), (identity,))
    assert await store.get_user(user.id) == user


async def test_later_sign_in_stamps_and_fills_public_key(store: Store) -> None:
    first, identity = await sign_in(store)
    later = NOW + timedelta(hours=1)
    user, again = await store.sign_in_identity(
        kind="ethereum", address="0xA11CE", public_key=b"pk-1", now=later
    )
    assert (user.id, again.id) == (first.id, identity.id)
    assert (user.created_at, user.last_login) == (NOW, later)
    assert (again.created_at, again.last_used_at, again.public_key) == (NOW, later, b"pk-1")
    _, third = await store.sign_in_identity(
        kind="ethereum", address="0xA11CE", public_key=b"pk-2", now=later
    )
    assert third.public_key == b"pk-1"  # filled once, never overwritten
    stored = await store.get_user(user.id)
    assert stored is not None
    assert (stored.last_login, stored.identities) == (later, (third,))


@pytest.mark.parametrize(("kind", "address"), [("ethereum", "0xB0B"), ("nimiq", "0xA11CE")])
async def test_other_identity_is_another_user(store: Store, kind: str, address: str) -> None:
    alice, _ = await sign_in(store)
    other, identity = await sign_in(store, address=address, kind=kind)
    assert other.id != alice.id
    assert identity.user_id == other.id


async def test_sign_in_returns_all_identities_and_touches_one(store: Store) -> None:
    user, identity = await sign_in(store)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(identities).values(
                id="second", user_id=user.id, kind="nimiq", address="NQ01", created_at=NOW
            )
        )
    later = NOW + timedelta(minutes=1)
    again, touched = await store.sign_in_identity(
        kind="ethereum", address="0xA11CE", public_key=None, now=later
    )
    assert touched.id == identity.id
    assert touched.last_used_at == later
    assert [(i.id, i.last_used_at) for i in again.identities] == [
        (identity.id, later),
        ("second", None),
    ]


async def test_concurrent_first_sign_ins_make_one_user(store: Store, stores: list[Store]) -> None:
    results = await asyncio.gather(*(sign_in(stores[i % len(stores)]) for i in range(CONCURRENCY)))
    assert len({user.id for user, _ in results}) == 1
    assert len({identity.id for _, identity in results}) == 1
    async with store.engine.connect() as conn:
        assert len((await conn.execute(select(users.c.id))).all()) == 1


async def test_get_user_unknown(store: Store) -> None:
    assert await store.get_user("00000000-0000-0000-0000-000000000000") is None


async def test_user_flags_are_read(store: Store) -> None:
    user, _ = await sign_in(store)
    await set_row(store, users, user.id, disabled=True, roles="admin auditor")
    got = await store.get_user(user.id)
    assert got is not None
    assert got.disabled is True
    assert got.roles == ("admin", "auditor")


async def test_deny_token(store: Store) -> None:
    assert await store.is_token_denied("jti-1") is False
    await store.deny_token("jti-1", expires_at=NOW + DAY)
    await store.deny_token("jti-1", expires_at=NOW + DAY)  # idempotent
    await store.deny_token("jti-old", expires_at=NOW - DAY)
    assert await store.is_token_denied("jti-1") is True
    assert await store.denied_tokens(now=NOW) == [("jti-1", NOW + DAY)]


def signing_key(kid: str, created_at: datetime) -> SigningKeyRecord:
    return SigningKeyRecord(
        kid, "EdDSA", b"sealed-" + kid.encode(), '{"kid":"' + kid + '"}', created_at, None
    )


async def test_signing_keys_newest_first_and_retired(store: Store) -> None:
    assert await store.signing_keys() == []
    for age, kid in enumerate(["k3", "k2", "k1"]):
        await store.add_signing_key(signing_key(kid, NOW - timedelta(days=age)))
    assert [k.kid for k in await store.signing_keys()] == ["k3", "k2", "k1"]
    assert await store.signing_keys() == [
        signing_key(k, NOW - timedelta(days=i)) for i, k in enumerate(["k3", "k2", "k1"])
    ]
    later = NOW + DAY
    assert await store.retire_signing_keys(now=later, except_kid="k3") == 2
    assert await store.retire_signing_keys(now=later, except_kid="k3") == 0
    assert [(k.kid, k.retired_at) for k in await store.signing_keys()] == [
        ("k3", None),
        ("k2", later),
        ("k1", later),
    ]
    assert await store.retire_signing_keys(now=later) == 1


async def test_reseal_signing_key_is_compare_and_set(store: Store) -> None:
    await store.add_signing_key(signing_key("k1", NOW))
    await store.add_signing_key(signing_key("k2", NOW))
    assert not await store.reseal_signing_key("k1", b"sealed-k2", b"new")
    assert await store.reseal_signing_key("k1", b"sealed-k1", b"new")
    assert not await store.reseal_signing_key("k1", b"sealed-k1", b"newer")
    sealed = {k.kid: k.sealed_private_key for k in await store.signing_keys()}
    assert sealed == {"k1": b"new", "k2": b"sealed-k2"}


async def test_purge_expired(store: Store) -> None:
    later = NOW + 2 * DAY
    await store.add_nonce(nonce("old"))
    await store.add_nonce(nonce("live", expires_at=later + DAY))
    await store.mark_used("old", expires_at=NOW)
    await store.mark_used("live", expires_at=later + DAY)
    await store.deny_token("old", expires_at=NOW)
    await store.deny_token("live", expires_at=later + DAY)
    dead = await open_session(store, "rt-dead", address="0xDEAD")  # its token expires at NOW + DAY
    kept = await open_session(store, "rt-kept", address="0xBEEF")
    await store.add_session_key(session_key(kept, expires_at=later + DAY))
    # rows: 1 nonce + 1 used + 1 denied + 2 refresh tokens (rt-kept expired too) + 1 session
    assert await store.purge_expired(now=later) == 6
    assert await store.purge_expired(now=later) == 0
    assert await store.consume_nonce("live", now=later) is not None
    assert await store.mark_used("live", expires_at=later) is False
    assert await store.is_token_denied("live")
    assert not await store.is_token_denied("old")
    assert await store.get_session(dead.id) is None  # no tokens or keys left
    assert await store.get_session(kept.id) == kept  # still has a live session key
    assert await store.get_session_key("tp-1") is not None
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(refresh_tokens.c.token_hash))).all() == []
        assert len((await conn.execute(select(sessions.c.id))).all()) == 1
        assert (await conn.execute(select(nonces.c.nonce))).scalars().all() == []


@pytest.mark.parametrize("bad_id", ["\x00", "a\x00b", "x" * 400])
async def test_reads_by_impossible_id_answer_none(store: Store, bad_id: str) -> None:
    # PostgreSQL refuses NUL bytes and over-long keys with a server error; they can't be ids.
    assert await store.get_user(bad_id) is None
    assert await store.get_session(bad_id) is None
