"""Store: every way a session ends puts it on the denylist (``denied_sessions``) until its last
access token expires; a session past its absolute lifetime cannot be refreshed and its refresh
tokens never outlive it. On SQLite and PostgreSQL (the ``store`` fixture is parametrized)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from keyfob.errors import RefreshTokenReused, SessionExpired
from keyfob.store import SessionRecord, Store
from keyfob.store.schema import refresh_tokens
from tests.store.factories import DAY, NOW, open_session, session_key, sign_in

TTL = timedelta(minutes=15)
MAX_AGE = 30 * DAY
UNTIL = NOW + TTL


async def rotate(
    store: Store, old: str, new: str, now: datetime, *, max_age: timedelta = MAX_AGE
) -> SessionRecord:
    return await store.rotate_refresh_token(
        token_hash=old,
        new_token_hash=new,
        now=now,
        new_expires_at=now + 7 * DAY,
        grace=timedelta(seconds=10),
        max_age=max_age,
        deny_until=now + TTL,
    )


async def test_a_revoked_session_is_denied_until_its_tokens_expire(store: Store) -> None:
    session = await open_session(store)
    assert await store.denied_sessions(now=NOW) == []
    assert await store.revoke_session(session.id, now=NOW, deny_until=UNTIL)
    assert not await store.revoke_session(session.id, now=NOW + DAY, deny_until=UNTIL + DAY)
    assert await store.denied_sessions(now=NOW) == [(session.id, UNTIL)]
    assert await store.denied_tokens(now=NOW) == []  # jti entries stay apart
    assert await store.denied_sessions(now=UNTIL) == []  # expired: off the feed
    assert await store.purge_expired(now=UNTIL) >= 1
    await store.deny_token("jti-1", expires_at=UNTIL)
    assert await store.denied_tokens(now=NOW) == [("jti-1", UNTIL)]
    assert await store.denied_sessions(now=NOW) == []


async def test_reuse_detection_denies_the_session(store: Store) -> None:
    session = await open_session(store)
    await rotate(store, "rt-0", "rt-1", NOW)
    with pytest.raises(RefreshTokenReused):
        await rotate(store, "rt-0", "rt-2", NOW + timedelta(minutes=1))
    assert await store.denied_sessions(now=NOW) == [(session.id, UNTIL + timedelta(minutes=1))]


async def test_disabling_a_user_denies_every_live_session(store: Store) -> None:
    first = await open_session(store, "rt-a")
    second = await store.create_session(
        user_id=first.user_id,
        identity_id=first.identity_id,
        amr=("ethereum",),
        refresh_token_hash="rt-b",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    ended = await open_session(store, "rt-c")  # the same user: revoked before, not listed again
    earlier = NOW - timedelta(hours=1)
    await store.revoke_session(ended.id, now=earlier, deny_until=earlier + TTL)
    other = await open_session(store, "rt-d", "0xB0B")
    assert await store.disable_user(first.user_id, now=NOW, deny_until=UNTIL)
    denied = await store.denied_sessions(now=NOW)
    assert sorted(denied) == sorted([(first.id, UNTIL), (second.id, UNTIL)])
    assert other.id not in {sid for sid, _ in denied}


async def test_deleting_a_user_or_a_method_denies_its_sessions(store: Store) -> None:
    """The sessions are deleted by cascade, so only the denylist remembers them."""
    mine = await open_session(store, "rt-a")
    user, _ = await sign_in(store)
    second, _ = await store.sign_in_identity(
        kind="solana", address="So1ana", public_key=None, now=NOW
    )
    assert second.id != user.id  # a separate user, deleted below
    linked = await store.link_identity(
        user_id=user.id, kind="nimiq", address="NQ00 LINK", public_key=None, now=NOW
    )
    by_link = await store.create_session(
        user_id=user.id,
        identity_id=linked.id,
        amr=("nimiq",),
        refresh_token_hash="rt-n",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    await store.add_session_key(session_key(by_link))
    await store.remove_identity(user_id=user.id, identity_id=linked.id, now=NOW, deny_until=UNTIL)
    assert await store.get_session(by_link.id) is None
    assert await store.denied_sessions(now=NOW) == [(by_link.id, UNTIL)]
    gone = await store.create_session(
        user_id=second.id,
        identity_id=second.identities[0].id,
        amr=("solana",),
        refresh_token_hash="rt-s",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    later = UNTIL + timedelta(minutes=1)
    assert await store.delete_user(second.id, now=NOW, deny_until=later)
    assert sorted(await store.denied_sessions(now=NOW)) == sorted(
        [(by_link.id, UNTIL), (gone.id, later)]
    )
    assert await store.get_session(mine.id) is not None  # the first method's session lives


async def test_a_session_past_its_max_age_cannot_refresh(store: Store) -> None:
    await open_session(store)
    hour = timedelta(hours=1)
    await rotate(store, "rt-0", "rt-1", NOW + hour - timedelta(seconds=1), max_age=hour)
    with pytest.raises(SessionExpired):
        await rotate(store, "rt-1", "rt-2", NOW + hour, max_age=hour)
    # Refused, not revoked: nothing goes on the denylist.
    assert await store.denied_sessions(now=NOW) == []


async def test_a_refresh_token_never_outlives_its_session(store: Store) -> None:
    await open_session(store)
    hour = timedelta(hours=1)
    await rotate(store, "rt-0", "rt-1", NOW + timedelta(minutes=50), max_age=hour)
    async with store.engine.connect() as conn:
        query = select(refresh_tokens.c.expires_at).where(refresh_tokens.c.token_hash == "rt-1")
        expiry = (await conn.execute(query)).scalar_one()
    assert expiry == NOW + hour  # 7 days were asked for; the session ends first
