"""Store: OpenID Connect grants, their rotating refresh tokens (no grace: reuse revokes the
grant), revocation by grant, token, session id and user, and purge. On SQLite and PostgreSQL
(``store`` is parametrized)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from keyfob.store import Store
from keyfob.store.records_oidc import CodeUse, OidcGrantRecord, RefreshKind, RefreshOutcome
from keyfob.store.schema import oidc_codes, oidc_grants, oidc_refresh_tokens
from tests.store.factories import DAY, NOW, set_row
from tests.store.oidc_factories import (
    GRANT_TTL,
    OTHER_CLIENT,
    SID,
    Party,
    code_hash,
    code_record,
    exchange,
    party,
)

CONCURRENCY = 20
HOUR = timedelta(hours=1)
SECOND_GRANT = "9a7b0000-0000-4000-8000-000000000002"


async def rotate(
    store: Store, old: str, new: str, client_id: str, now: datetime = NOW
) -> RefreshOutcome:
    return await store.rotate_oidc_refresh_token(
        code_hash(old), new_hash=code_hash(new), client_id=client_id, now=now, expires_at=now + DAY
    )


async def refresh_expiry(store: Store, token: str) -> datetime | None:
    async with store.engine.connect() as conn:
        found = select(oidc_refresh_tokens.c.expires_at).where(
            oidc_refresh_tokens.c.token_hash == code_hash(token)
        )
        return await conn.scalar(found)


async def test_rotation_chain(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    assert await rotate(store, "rt-0", "rt-1", who.client_id) == RefreshOutcome("rotated", grant)
    later = NOW + 20 * HOUR  # rt-0 would be close to its end; rt-1 lives a day from NOW
    assert await rotate(store, "rt-1", "rt-2", who.client_id, later) == RefreshOutcome(
        "rotated", grant
    )
    assert await refresh_expiry(store, "rt-2") == later + DAY
    # Spending a token leaves its own expiry alone.
    assert await refresh_expiry(store, "rt-0") == NOW + DAY
    assert await refresh_expiry(store, "rt-1") == NOW + DAY
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(oidc_refresh_tokens))).all()
    chain = {row.token_hash: (row.parent_hash, row.replaced_by) for row in rows}
    assert chain == {
        code_hash("rt-0"): (None, code_hash("rt-1")),
        code_hash("rt-1"): (code_hash("rt-0"), code_hash("rt-2")),
        code_hash("rt-2"): (code_hash("rt-1"), None),
    }


async def test_a_successor_never_outlives_its_grant(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    near_end = grant.expires_at - HOUR
    await set_row(store, oidc_refresh_tokens, code_hash("rt-0"), expires_at=grant.expires_at)
    assert (await rotate(store, "rt-0", "rt-1", who.client_id, near_end)).kind == "rotated"
    assert await refresh_expiry(store, "rt-1") == grant.expires_at
    assert (await rotate(store, "rt-1", "rt-2", who.client_id, grant.expires_at)).kind == "invalid"


async def _nothing(store: Store, who: Party, grant: OidcGrantRecord) -> None:
    return None


async def _revoke(store: Store, who: Party, grant: OidcGrantRecord) -> None:
    assert await store.revoke_grant(grant.id, now=NOW)


async def _grant_over(store: Store, who: Party, grant: OidcGrantRecord) -> None:
    await set_row(store, oidc_grants, grant.id, expires_at=NOW + HOUR)


async def _rotate_once(store: Store, who: Party, grant: OidcGrantRecord) -> None:
    assert (await rotate(store, "rt-0", "rt-1", who.client_id)).kind == "rotated"


Setup = Callable[[Store, Party, OidcGrantRecord], Awaitable[None]]


@pytest.mark.parametrize(
    ("setup", "token", "client", "now", "kind", "revokes"),
    [
        (_nothing, "unknown", "mine", NOW, "invalid", False),
        (_nothing, "rt-0", "mine", NOW + DAY, "invalid", False),  # expires exactly now
        (_nothing, "rt-0", "mine", NOW + 2 * DAY, "invalid", False),
        (_revoke, "rt-0", "mine", NOW, "invalid", False),
        (_grant_over, "rt-0", "mine", NOW + HOUR, "invalid", False),
        (_nothing, "rt-0", "other", NOW, "wrong_client", False),
        (_nothing, "rt-0", "unknown", NOW, "wrong_client", False),
        (_rotate_once, "rt-0", "other", NOW, "wrong_client", False),  # reuse, but not theirs
        (_rotate_once, "rt-0", "mine", NOW, "reused", True),  # no grace, not even a second
        (_rotate_once, "rt-0", "mine", NOW + 2 * DAY, "reused", True),  # past its own expiry
        (_revoke, "rt-0", "other", NOW, "wrong_client", False),
        (_nothing, "x" * 129, "mine", NOW, "invalid", False),
        (_nothing, "rt-0", "x" * 37, NOW, "invalid", False),
    ],
    ids=[
        "unknown",
        "expires-now",
        "expired",
        "grant-revoked",
        "grant-over",
        "other-client",
        "unknown-client",
        "other-client-reusing",
        "reused",
        "reused-after-expiry",
        "other-client-revoked",
        "impossible-token",
        "impossible-client",
    ],
)
async def test_rotation_refused(
    store: Store,
    setup: Setup,
    token: str,
    client: str,
    now: datetime,
    kind: RefreshKind,
    revokes: bool,
) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    await setup(store, who, grant)
    before = await store.get_grant(grant.id)
    assert before is not None
    client_id = {"mine": who.client_id, "other": OTHER_CLIENT}.get(client, client)
    presented = token if len(token) > 128 else code_hash(token)
    outcome = await store.rotate_oidc_refresh_token(
        presented, new_hash=code_hash("rt-new"), client_id=client_id, now=now, expires_at=now + DAY
    )
    assert await refresh_expiry(store, "rt-new") is None  # no successor stored
    after = await store.get_grant(grant.id)
    if revokes:
        assert outcome == RefreshOutcome("reused", replace(grant, revoked_at=now))
        assert after == replace(grant, revoked_at=now)
        assert (await rotate(store, "rt-1", "rt-2", who.client_id, now)).kind == "invalid"
    else:
        assert outcome == RefreshOutcome(kind)
        assert after == before  # refused without side effects
    if kind == "wrong_client" and before.revoked_at is None:
        live = "rt-1" if setup is _rotate_once else "rt-0"
        assert (await rotate(store, live, "rt-own", who.client_id)).kind == "rotated"


async def test_concurrent_rotations_have_one_winner(store: Store, stores: list[Store]) -> None:
    """No grace: a loser presents a rotated token, which revokes the grant; those after it
    find the grant revoked."""
    who = await party(store)
    grant = await exchange(store, who)
    outcomes = await asyncio.gather(
        *(
            rotate(stores[i % len(stores)], "rt-0", f"rt-new-{i}", who.client_id)
            for i in range(CONCURRENCY)
        )
    )
    kinds = [outcome.kind for outcome in outcomes]
    assert kinds.count("rotated") == 1
    assert kinds.count("reused") >= 1
    assert set(kinds) <= {"rotated", "reused", "invalid"}
    assert not await store.is_grant_active(grant.id, now=NOW)
    async with store.engine.connect() as conn:
        count = select(func.count()).select_from(oidc_refresh_tokens)
        assert await conn.scalar(count) == 2  # rt-0 and the one winner's successor


async def test_grant_liveness_and_revocation(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    assert await store.is_grant_active(grant.id, now=NOW)
    assert await store.is_grant_active(grant.id, now=grant.expires_at - timedelta(seconds=1))
    assert not await store.is_grant_active(grant.id, now=grant.expires_at)
    for impossible in ("unknown", "x" * 37, "a\x00b", ""):
        assert not await store.is_grant_active(impossible, now=NOW)
        assert await store.get_grant(impossible) is None
        assert not await store.revoke_grant(impossible, now=NOW)
    later = NOW + HOUR
    assert await store.revoke_grant(grant.id, now=later) is True
    assert await store.revoke_grant(grant.id, now=later + HOUR) is False
    assert await store.get_grant(grant.id) == replace(grant, revoked_at=later)
    assert not await store.is_grant_active(grant.id, now=later)
    assert (await rotate(store, "rt-0", "rt-1", who.client_id, later)).kind == "invalid"


async def test_revoking_a_refresh_token_revokes_its_grant(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    await rotate(store, "rt-0", "rt-1", who.client_id)
    for token, client in (("rt-1", OTHER_CLIENT), ("unknown", who.client_id), ("x" * 200, "c")):
        assert not await store.revoke_refresh_token(code_hash(token), client_id=client, now=NOW)
        assert not await store.revoke_refresh_token(token, client_id=client, now=NOW)
    assert await store.is_grant_active(grant.id, now=NOW)  # another client could not
    # Any token of the family will do, a spent one too (RFC 7009 section 2.1).
    assert await store.revoke_refresh_token(code_hash("rt-0"), client_id=who.client_id, now=NOW)
    assert not await store.revoke_refresh_token(code_hash("rt-1"), client_id=who.client_id, now=NOW)
    assert not await store.is_grant_active(grant.id, now=NOW)
    assert (await rotate(store, "rt-1", "rt-2", who.client_id)).kind == "invalid"


async def test_revoke_by_sid(store: Store) -> None:
    who = await party(store)
    first = await exchange(store, who)
    second = await exchange(store, who, "code-2", SECOND_GRANT, "rt-b", client_id=OTHER_CLIENT)
    elsewhere = await exchange(
        store, who, "code-3", "9a7b0000-0000-4000-8000-000000000003", "rt-c", sid="sid-other"
    )
    unsid = await exchange(
        store, who, "code-4", "9a7b0000-0000-4000-8000-000000000004", "rt-d", sid=None
    )
    await store.add_code(code_record(who, "code-pending"))  # issued in SID, not yet exchanged
    assert await store.grants_of_sid(SID, now=NOW) == [first, second]
    assert await store.grants_of_sid(SID, now=first.expires_at) == []  # over: not live
    later = NOW + HOUR
    assert await store.revoke_grants_of_sid(SID, now=later) == [
        replace(first, revoked_at=later),
        replace(second, revoked_at=later),
    ]
    assert await store.revoke_grants_of_sid(SID, now=later) == []
    assert await store.grants_of_sid(SID, now=later) == []
    assert await store.consume_code(code_hash("code-pending"), now=NOW) == CodeUse(None)
    assert await store.grants_of_sid("sid-other", now=later) == [elsewhere]
    assert await store.is_grant_active(unsid.id, now=later)
    for impossible in ("x" * 65, "a\x00b"):
        assert await store.grants_of_sid(impossible, now=NOW) == []
        assert await store.revoke_grants_of_sid(impossible, now=NOW) == []


async def test_revoke_by_sid_includes_grants_over_but_not_revoked(store: Store) -> None:
    """Their clients may still hold a session: back-channel logout still tells them."""
    who = await party(store)
    grant = await exchange(store, who)
    after_end = grant.expires_at + HOUR
    assert await store.revoke_grants_of_sid(SID, now=after_end) == [
        replace(grant, revoked_at=after_end)
    ]


async def test_revoke_grants_of_user(store: Store) -> None:
    alice = await party(store)
    bob = await party(store, "0xB0B")
    notes = await exchange(store, alice)
    wiki = await exchange(store, alice, "code-2", SECOND_GRANT, "rt-b", client_id=OTHER_CLIENT)
    bobs = await exchange(store, bob, "code-3", "9a7b0000-0000-4000-8000-000000000003", "rt-c")
    await store.add_code(code_record(alice, "code-pending", client_id=OTHER_CLIENT))
    assert await store.grants_of_user(alice.user_id, now=NOW) == [notes, wiki]
    assert await store.grants_of_user(alice.user_id, now=NOW, client_id=OTHER_CLIENT) == [wiki]
    n = await store.revoke_grants_of_user(alice.user_id, now=NOW, client_id=OTHER_CLIENT)
    assert n == 1
    assert await store.consume_code(code_hash("code-pending"), now=NOW) == CodeUse(None)
    assert await store.grants_of_user(alice.user_id, now=NOW) == [notes]
    assert await store.revoke_grants_of_user(alice.user_id, now=NOW) == 1
    assert await store.revoke_grants_of_user(alice.user_id, now=NOW) == 0
    assert await store.grants_of_user(alice.user_id, now=NOW) == []
    assert await store.grants_of_user(bob.user_id, now=NOW) == [bobs]
    for impossible in ("x" * 37, "a\x00b"):
        assert await store.grants_of_user(impossible, now=NOW) == []
        assert await store.revoke_grants_of_user(impossible, now=NOW) == 0
        assert await store.revoke_grants_of_user(alice.user_id, now=NOW, client_id=impossible) == 0


async def test_disabling_a_user_revokes_their_grants(store: Store) -> None:
    alice = await party(store)
    bob = await party(store, "0xB0B")
    mine = await exchange(store, alice)
    theirs = await exchange(store, bob, "code-b", SECOND_GRANT, "rt-b")
    await store.add_code(code_record(alice, "code-pending"))
    assert await store.disable_user(alice.user_id, now=NOW, deny_until=NOW + HOUR)
    assert await store.get_grant(mine.id) == replace(mine, revoked_at=NOW)
    assert (await rotate(store, "rt-0", "rt-1", alice.client_id)).kind == "invalid"
    assert await store.consume_code(code_hash("code-pending"), now=NOW) == CodeUse(None)
    assert await store.get_grant(theirs.id) == theirs
    assert (await rotate(store, "rt-b", "rt-b1", bob.client_id)).kind == "rotated"
    # Enabling the user again brings nothing back.
    assert await store.enable_user(alice.user_id)
    assert not await store.is_grant_active(mine.id, now=NOW)


async def test_purge_expired_oidc_rows(store: Store) -> None:
    who = await party(store)
    short = await exchange(store, who)  # rt-0 expires at NOW + DAY
    await set_row(store, oidc_grants, short.id, expires_at=NOW + 2 * DAY)
    kept = await exchange(store, who, "code-2", SECOND_GRANT, "rt-k")
    rotated = await store.rotate_oidc_refresh_token(
        code_hash("rt-k"),
        new_hash=code_hash("rt-k1"),
        client_id=who.client_id,
        now=NOW + HOUR,
        expires_at=NOW + 3 * DAY,
    )
    assert rotated.kind == "rotated"
    await store.add_code(code_record(who, "code-old"))  # expires a minute after NOW
    await store.add_code(code_record(who, "code-live", expires_at=NOW + 5 * DAY))
    # rows: refresh tokens rt-0 and rt-k (a day), the grant short, three codes (a minute)
    assert await store.purge_expired(now=NOW + 2 * DAY + HOUR) == 2 + 1 + 3
    assert await store.purge_expired(now=NOW + 2 * DAY + HOUR) == 0
    assert await store.get_grant(short.id) is None
    assert await store.get_grant(kept.id) == kept
    assert (await rotate(store, "rt-k1", "rt-k2", who.client_id, NOW + 2 * DAY + HOUR)).kind == (
        "rotated"
    )
    async with store.engine.connect() as conn:
        codes = (await conn.execute(select(oidc_codes.c.code_hash))).scalars().all()
    assert codes == [code_hash("code-live")]
    # kept with rt-k1 and rt-k2 (both expired by now), and code-live
    assert await store.purge_expired(now=NOW + GRANT_TTL) == 1 + 2 + 1
