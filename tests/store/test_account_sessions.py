"""Store: where sessions were seen (migration 0005), a user's live sessions, signing a user out
everywhere (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from keyfob.store import NonceSpend, SessionRecord, Store
from keyfob.store.records import NonceRecord, SessionDevice, SsoSessionRecord
from keyfob.store.schema import refresh_tokens, sessions
from tests.store.factories import DAY, NOW, open_session, session_key, set_row, sign_in
from tests.store.test_sessions import MAX_AGE, rotate

PHONE = SessionDevice(device="Mobile Safari 17 on iOS, iPhone", ip_area="203.0.113.x")
MINUTE = timedelta(minutes=1)


def sso(user_id: str, token_hash: str, at: datetime = NOW, **seen: Any) -> SsoSessionRecord:
    record = SsoSessionRecord(
        token_hash=token_hash,
        user_id=user_id,
        amr=("ethereum",),
        authenticated_at=at,
        expires_at=at + DAY,
        sid="sid-" + token_hash,
    )
    return replace(record, **seen)


async def test_a_session_remembers_its_device_and_is_used_when_it_opens(store: Store) -> None:
    user, identity = await sign_in(store)
    session = await store.create_session(
        user_id=user.id,
        identity_id=identity.id,
        amr=("ethereum",),
        refresh_token_hash="rt-0",
        now=NOW,
        refresh_expires_at=NOW + DAY,
        device=PHONE,
    )
    assert (session.device, session.ip_area, session.last_used_at) == (
        PHONE.device,
        PHONE.ip_area,
        NOW,
    )
    assert await store.get_session(session.id) == session
    unknown = await open_session(store, "rt-x", "0xB0B")
    assert (unknown.device, unknown.ip_area, unknown.last_used_at) == (None, None, NOW)


async def test_a_sign_in_opens_its_session_on_the_device(store: Store) -> None:
    await store.add_nonce(NonceRecord("n-1", "ethereum", None, NOW, NOW + DAY))
    outcome = await store.complete_sign_in(
        spend=NonceSpend(nonce="n-1"),
        kind="ethereum",
        address="0xA11CE",
        public_key=None,
        amr=("ethereum",),
        refresh_token_hash="rt-1",
        now=NOW,
        refresh_expires_at=NOW + DAY,
        device=PHONE,
    )
    assert outcome.session is not None
    assert (outcome.session.device, outcome.session.ip_area) == (PHONE.device, PHONE.ip_area)


async def test_a_refresh_is_a_use_kept_to_the_minute(store: Store) -> None:
    session = await open_session(store, "rt-0")
    soon = NOW + timedelta(seconds=30)
    await store.rotate_refresh_token(
        token_hash="rt-0",
        new_token_hash="rt-1",
        now=soon,
        new_expires_at=soon + DAY,
        grace=timedelta(seconds=30),
        max_age=MAX_AGE,
        deny_until=soon + DAY,
        ip_area="198.51.100.x",
    )
    stored = await store.get_session(session.id)
    assert stored is not None
    assert (stored.last_used_at, stored.ip_area) == (NOW, None)  # used a minute ago: no write
    later = NOW + 2 * MINUTE
    await store.rotate_refresh_token(
        token_hash="rt-1",
        new_token_hash="rt-2",
        now=later,
        new_expires_at=later + DAY,
        grace=timedelta(seconds=30),
        max_age=MAX_AGE,
        deny_until=later + DAY,
        ip_area="198.51.100.x",
    )
    stored = await store.get_session(session.id)
    assert stored is not None
    assert (stored.last_used_at, stored.ip_area) == (later, "198.51.100.x")
    await rotate(store, "rt-2", "rt-3", later + 2 * MINUTE)  # no address known: the area stays
    stored = await store.get_session(session.id)
    assert stored is not None
    assert (stored.last_used_at, stored.ip_area) == (later + 2 * MINUTE, "198.51.100.x")


async def test_an_sso_session_is_touched_at_most_once_a_minute(store: Store) -> None:
    alice, _ = await sign_in(store)
    record = sso(alice.id, "sso-1", device=PHONE.device, ip_area=PHONE.ip_area, last_used_at=NOW)
    await store.create_sso_session(record)
    assert await store.get_sso_session("sso-1", now=NOW) == record
    assert not await store.touch_sso_session("sso-1", now=NOW + MINUTE / 2, ip_area="x")
    assert await store.touch_sso_session("sso-1", now=NOW + MINUTE, ip_area=None)
    touched = await store.get_sso_session("sso-1", now=NOW + MINUTE)
    assert touched is not None
    assert (touched.last_used_at, touched.ip_area) == (NOW + MINUTE, PHONE.ip_area)
    assert await store.touch_sso_session("sso-1", now=NOW + 3 * MINUTE, ip_area="192.0.2.x")
    touched = await store.get_sso_session("sso-1", now=NOW + 3 * MINUTE)
    assert touched is not None
    assert (touched.last_used_at, touched.ip_area) == (NOW + 3 * MINUTE, "192.0.2.x")
    assert not await store.touch_sso_session("no-such", now=NOW + DAY, ip_area=None)
    assert not await store.touch_sso_session("x" * 200, now=NOW + DAY, ip_area=None)


async def test_the_sso_sessions_of_a_user(store: Store) -> None:
    alice, _ = await sign_in(store)
    bob, _ = await sign_in(store, "0xB0B")
    await store.create_sso_session(sso(alice.id, "old", NOW - DAY / 2))
    await store.create_sso_session(sso(alice.id, "new"))
    await store.create_sso_session(sso(alice.id, "gone", NOW - 2 * DAY))  # expired
    await store.create_sso_session(sso(bob.id, "bobs"))
    found = await store.sso_sessions_of_user(alice.id, now=NOW)
    assert [session.token_hash for session in found] == ["new", "old"]
    assert await store.sso_sessions_of_user("x" * 100, now=NOW) == []


async def test_the_live_sessions_of_a_user(store: Store) -> None:
    live = await open_session(store, "rt-live")
    user_id = live.user_id
    _, identity = await sign_in(store)
    revoked = await _session(store, user_id, identity.id, "rt-revoked")
    assert await store.revoke_session(revoked.id, now=NOW, deny_until=NOW + DAY)
    expired = await _session(store, user_id, identity.id, "rt-expired")
    await set_row(store, refresh_tokens, "rt-expired", expires_at=NOW - MINUTE)
    with_key = await _session(store, user_id, identity.id, "rt-key")
    await set_row(store, refresh_tokens, "rt-key", expires_at=NOW - MINUTE)
    proof = NOW + 5 * MINUTE
    await store.add_session_key(session_key(with_key))
    assert await store.use_session_key(
        "tp-1", timestamp_ms=int(proof.timestamp() * 1000), now=proof
    )
    old = await _session(store, user_id, identity.id, "rt-old")
    await set_row(store, sessions, old.id, created_at=NOW - MAX_AGE - MINUTE)
    await open_session(store, "rt-bob", "0xB0B")
    found = await store.live_sessions_of_user(user_id, now=NOW + 6 * MINUTE, max_age=MAX_AGE)
    assert {session.id for session in found} == {live.id, with_key.id}
    by_id = {session.id: session for session in found}
    assert by_id[live.id].last_used_at == NOW
    assert by_id[with_key.id].last_used_at == datetime.fromtimestamp(
        int(proof.timestamp() * 1000) / 1000, UTC
    )
    assert expired.id not in by_id
    assert await store.live_sessions_of_user("x" * 100, now=NOW, max_age=MAX_AGE) == []


async def test_signing_out_everywhere_ends_every_session_of_the_user_only(store: Store) -> None:
    first = await open_session(store, "rt-1")
    user_id = first.user_id
    _, identity = await sign_in(store)
    second = await _session(store, user_id, identity.id, "rt-2")
    await store.add_session_key(session_key(second))
    await store.create_sso_session(sso(user_id, "sso-a"))
    await store.create_sso_session(sso(user_id, "sso-b", NOW - DAY / 2))
    bob = await open_session(store, "rt-bob", "0xB0B")
    await store.create_sso_session(sso(bob.user_id, "sso-bob"))

    ended = await store.end_every_session(user_id, now=NOW, deny_until=NOW + DAY)
    assert ended.sessions == 2
    assert sorted(session.token_hash for session in ended.sso_sessions) == ["sso-a", "sso-b"]
    assert {sid for sid, _ in await store.denied_sessions(now=NOW)} == {first.id, second.id}
    assert await store.live_sessions_of_user(user_id, now=NOW, max_age=MAX_AGE) == []
    assert await store.sso_sessions_of_user(user_id, now=NOW) == []
    assert await store.list_session_keys(user_id, now=NOW) == []
    # Bob is signed in as before.
    assert [
        s.id for s in await store.live_sessions_of_user(bob.user_id, now=NOW, max_age=MAX_AGE)
    ] == [bob.id]
    assert await store.get_sso_session("sso-bob", now=NOW) is not None
    again = await store.end_every_session(user_id, now=NOW, deny_until=NOW + DAY)
    assert (again.sessions, again.sso_sessions) == (0, ())
    nobody = await store.end_every_session("x" * 100, now=NOW, deny_until=NOW + DAY)
    assert (nobody.sessions, nobody.sso_sessions) == (0, ())


async def _session(store: Store, user_id: str, identity_id: str, token_hash: str) -> SessionRecord:
    return await store.create_session(
        user_id=user_id,
        identity_id=identity_id,
        amr=("ethereum",),
        refresh_token_hash=token_hash,
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
