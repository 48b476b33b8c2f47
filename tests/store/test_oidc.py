"""Store: OpenID Connect authorization codes (consumed once; reuse revokes the grant), the
grants their exchange starts, and consents. On SQLite and PostgreSQL (``store`` is
parametrized)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from keyfob.errors import Conflict, InvalidGrant, InvalidRequest, NotFound
from keyfob.store import Store
from keyfob.store.records_oidc import CodeUse, ConsentRecord
from keyfob.store.schema import oidc_codes, oidc_refresh_tokens, users
from tests.store.factories import DAY, NOW, set_row
from tests.store.oidc_factories import (
    CODE_TTL,
    GRANT_TTL,
    OTHER_CLIENT,
    code_hash,
    code_record,
    exchange,
    grant_record,
    party,
)

CONCURRENCY = 20
GRANT = "9a7b0000-0000-4000-8000-000000000001"


async def rotate(store: Store, old: str, new: str, client_id: str, now: datetime = NOW) -> str:
    outcome = await store.rotate_oidc_refresh_token(
        code_hash(old), new_hash=code_hash(new), client_id=client_id, now=now, expires_at=now + DAY
    )
    return outcome.kind


async def test_a_code_is_consumed_once(store: Store) -> None:
    who = await party(store)
    code = code_record(who)
    await store.add_code(code)
    assert await store.consume_code(code.code_hash, now=NOW) == CodeUse(replace(code, used_at=NOW))
    later = NOW + timedelta(seconds=1)
    assert await store.consume_code(code.code_hash, now=later) == CodeUse(None, reused=True)
    assert await store.consume_code(code.code_hash, now=later) == CodeUse(None, reused=True)


@pytest.mark.parametrize(
    ("presented", "now"),
    [
        (code_hash("unknown"), NOW),
        (None, NOW + CODE_TTL),  # expires exactly now
        (None, NOW + DAY),
        ("x" * 129, NOW),  # longer than any stored hash
        ("a\x00b", NOW),
        ("", NOW),
    ],
    ids=["unknown", "expires-now", "expired", "too-long", "nul", "empty"],
)
async def test_codes_that_are_not_consumed(
    store: Store, presented: str | None, now: datetime
) -> None:
    who = await party(store)
    code = code_record(who)
    await store.add_code(code)
    presented = code.code_hash if presented is None else presented
    assert await store.consume_code(presented, now=now) == CodeUse(None)
    # Refused without being marked: while valid, the code can still be exchanged, once.
    assert (await store.consume_code(code.code_hash, now=NOW)).code is not None


async def test_reuse_revokes_the_grant_and_its_refresh_tokens(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    assert await rotate(store, "rt-0", "rt-1", who.client_id) == "rotated"
    later = NOW + timedelta(seconds=30)
    use = await store.consume_code(code_hash("code-1"), now=later)
    assert use == CodeUse(None, reused=True, revoked_grant_id=grant.id)
    assert await store.get_grant(grant.id) == replace(grant, revoked_at=later)
    assert not await store.is_grant_active(grant.id, now=later)
    assert await rotate(store, "rt-1", "rt-2", who.client_id, later) == "invalid"
    # Presented yet again: still reported, the revocation keeps its first time.
    again = await store.consume_code(code_hash("code-1"), now=later + DAY)
    assert again == CodeUse(None, reused=True, revoked_grant_id=grant.id)
    assert await store.get_grant(grant.id) == replace(grant, revoked_at=later)


async def test_a_code_presented_again_before_its_grant_cannot_start_one(store: Store) -> None:
    who = await party(store)
    code = code_record(who)
    await store.add_code(code)
    assert (await store.consume_code(code.code_hash, now=NOW)).code is not None
    assert (await store.consume_code(code.code_hash, now=NOW)).reused
    with pytest.raises(InvalidGrant):
        await store.start_grant(
            code.code_hash, grant_record(code, GRANT), refresh_token_hash="h", now=NOW
        )
    assert await store.get_grant(GRANT) is None


async def test_start_grant_stores_grant_code_link_and_first_token(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who)
    assert await store.get_grant(grant.id) == grant
    assert await store.is_grant_active(grant.id, now=NOW)
    async with store.engine.connect() as conn:
        linked = await conn.scalar(select(oidc_codes.c.grant_id))
        token = (await conn.execute(select(oidc_refresh_tokens))).one()
    assert linked == grant.id
    assert (token.token_hash, token.grant_id, token.parent_hash) == (code_hash("rt-0"), GRANT, None)
    assert (token.created_at, token.expires_at, token.rotated_at) == (NOW, NOW + DAY, None)


async def test_a_grant_without_refresh_token(store: Store) -> None:
    who = await party(store)
    grant = await exchange(store, who, refresh=None)
    assert await store.is_grant_active(grant.id, now=NOW)
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(oidc_refresh_tokens))).all() == []
    use = await store.consume_code(code_hash("code-1"), now=NOW)
    assert use.revoked_grant_id == grant.id  # the link was made all the same


async def test_the_first_refresh_token_never_outlives_its_grant(store: Store) -> None:
    who = await party(store)
    code = code_record(who)
    await store.add_code(code)
    await store.consume_code(code.code_hash, now=NOW)
    grant = grant_record(code, GRANT, expires_at=NOW + DAY)
    await store.start_grant(
        code.code_hash,
        grant,
        refresh_token_hash=code_hash("rt-0"),
        now=NOW,
        refresh_expires_at=NOW + GRANT_TTL,
    )
    async with store.engine.connect() as conn:
        assert await conn.scalar(select(oidc_refresh_tokens.c.expires_at)) == NOW + DAY
    await store.add_code(code_record(who, "code-2"))
    await store.consume_code(code_hash("code-2"), now=NOW)
    second = grant_record(code, "9a7b0000-0000-4000-8000-000000000002", expires_at=NOW + DAY)
    await store.start_grant(code_hash("code-2"), second, refresh_token_hash="rt-x", now=NOW)
    async with store.engine.connect() as conn:
        ends = select(oidc_refresh_tokens.c.expires_at).where(
            oidc_refresh_tokens.c.token_hash == "rt-x"
        )
        assert await conn.scalar(ends) == NOW + DAY  # no refresh_expires_at: the grant's end


def _other_client(grant: Any) -> Any:
    return replace(grant, client_id=OTHER_CLIENT)


def _other_user(grant: Any) -> Any:
    return replace(grant, user_id="00000000-0000-4000-8000-00000000000b")


@pytest.mark.parametrize(
    ("consume", "change", "code"),
    [
        (False, None, "code-1"),  # never consumed
        (True, _other_client, "code-1"),
        (True, _other_user, "code-1"),
        (True, None, "unknown"),
        (True, None, "x" * 200),
    ],
    ids=["unconsumed", "other-client", "other-user", "unknown-code", "impossible-code"],
)
async def test_start_grant_refused(store: Store, consume: bool, change: Any, code: str) -> None:
    who = await party(store)
    record = code_record(who)
    await store.add_code(record)
    if consume:
        await store.consume_code(record.code_hash, now=NOW)
    grant = grant_record(record, GRANT)
    grant = grant if change is None else change(grant)
    presented = code if len(code) > 128 else code_hash(code)
    with pytest.raises(InvalidGrant):
        await store.start_grant(presented, grant, refresh_token_hash=code_hash("rt-0"), now=NOW)
    assert await store.get_grant(GRANT) is None
    assert await rotate(store, "rt-0", "rt-1", who.client_id) == "invalid"


@pytest.mark.parametrize("how", ["disable_user", "flag only"])
async def test_no_grant_for_a_user_disabled_after_the_code_was_consumed(
    store: Store, how: str
) -> None:
    """The token endpoint reads no user: start_grant itself refuses a disabled one, whether
    disable_user dropped the code or only the flag is set (the grant's own check)."""
    who = await party(store)
    record = code_record(who)
    await store.add_code(record)
    await store.consume_code(record.code_hash, now=NOW)
    if how == "disable_user":
        assert await store.disable_user(who.user_id, now=NOW, deny_until=NOW + DAY)
    else:
        await set_row(store, users, who.user_id, disabled=True)
    with pytest.raises(InvalidGrant):
        await store.start_grant(
            record.code_hash, grant_record(record, GRANT), refresh_token_hash=None, now=NOW
        )
    assert await store.get_grant(GRANT) is None


async def test_a_code_starts_one_grant_only(store: Store) -> None:
    who = await party(store)
    code = code_record(who)
    grant = await exchange(store, who)
    second = grant_record(code, "9a7b0000-0000-4000-8000-000000000002")
    with pytest.raises(InvalidGrant):
        await store.start_grant(code.code_hash, second, refresh_token_hash="rt-x", now=NOW)
    assert await store.get_grant(second.id) is None
    assert await store.get_grant(grant.id) == grant


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "no-such-client"}, NotFound),
        ({"user_id": "no-such-user"}, NotFound),
        ({"client_id": "x" * 37}, NotFound),
        ({"redirect_uri": "https://x.example/" + "a" * 2048}, InvalidRequest),
        ({"nonce": "n" * 513}, InvalidRequest),
        ({"scope": ("openid", "two words")}, InvalidRequest),
        ({"scope": ("openid", "")}, InvalidRequest),
        ({"redirect_uri": "https://x.example/\x00"}, InvalidRequest),
    ],
    ids=["client", "user", "long-client", "uri", "nonce", "spaced-scope", "empty-scope", "nul"],
)
async def test_codes_refused_at_storage(
    store: Store, change: dict[str, Any], error: type[Exception]
) -> None:
    who = await party(store)
    with pytest.raises(error):
        await store.add_code(code_record(who, **change))
    assert await store.consume_code(code_hash("code-1"), now=NOW) == CodeUse(None)


async def test_a_code_hash_is_stored_once(store: Store) -> None:
    who = await party(store)
    await store.add_code(code_record(who))
    with pytest.raises(Conflict):
        await store.add_code(code_record(who, redirect_uri="https://evil.example/cb"))
    use = await store.consume_code(code_hash("code-1"), now=NOW)
    assert use.code is not None
    assert use.code.redirect_uri == "https://notes.example/callback"


async def test_concurrent_exchanges_have_one_winner(store: Store, stores: list[Store]) -> None:
    who = await party(store)
    await store.add_code(code_record(who))
    results = await asyncio.gather(
        *(
            stores[i % len(stores)].consume_code(code_hash("code-1"), now=NOW)
            for i in range(CONCURRENCY)
        )
    )
    assert len([r for r in results if r.code is not None]) == 1
    assert [r for r in results if r.code is None] == [CodeUse(None, reused=True)] * (
        CONCURRENCY - 1
    )


async def test_a_grant_racing_a_reuse_never_stays_live(store: Store, stores: list[Store]) -> None:
    """Whichever commits first, a code presented twice leaves no live grant behind."""
    who = await party(store)
    for round_ in range(5):
        code = code_record(who, f"code-{round_}")
        await store.add_code(code)
        assert (await store.consume_code(code.code_hash, now=NOW)).code is not None
        grant = grant_record(code, f"9a7b0000-0000-4000-8000-00000000000{round_}")

        async def start(grant: Any = grant, code: Any = code, token: str = f"rt-{round_}") -> bool:
            try:
                await stores[0].start_grant(
                    code.code_hash, grant, refresh_token_hash=token, now=NOW
                )
            except InvalidGrant:
                return False
            return True

        again = (other.consume_code(code.code_hash, now=NOW) for other in stores[1:])
        started, uses = await asyncio.gather(start(), asyncio.gather(*again))
        assert all(use.reused for use in uses)
        assert not await store.is_grant_active(grant.id, now=NOW)
        stored = await store.get_grant(grant.id)
        assert (stored is not None) == started
        # Started: every reuse came after and revoked it. Refused: a reuse came first.
        assert {use.revoked_grant_id for use in uses} == {grant.id if started else None}


async def test_consents_upsert_union_and_revoke(store: Store) -> None:
    who = await party(store)
    assert await store.get_consent(who.user_id, who.client_id) is None
    assert await store.consents_of_user(who.user_id) == []
    first = await store.grant_consent(who.user_id, who.client_id, ["openid", "profile"], now=NOW)
    assert first == {"openid", "profile"}
    later = NOW + timedelta(hours=1)
    merged = await store.grant_consent(who.user_id, who.client_id, ("email", "openid"), now=later)
    assert merged == {"openid", "profile", "email"}
    assert await store.get_consent(who.user_id, who.client_id) == merged
    await store.grant_consent(who.user_id, OTHER_CLIENT, [], now=NOW)
    assert await store.consents_of_user(who.user_id) == sorted(
        [
            ConsentRecord(who.user_id, who.client_id, frozenset(merged), later),
            ConsentRecord(who.user_id, OTHER_CLIENT, frozenset(), NOW),
        ],
        key=lambda consent: consent.client_id,
    )
    assert await store.get_consent(who.user_id, OTHER_CLIENT) == frozenset()
    assert await store.revoke_consent(who.user_id, who.client_id) is True
    assert await store.revoke_consent(who.user_id, who.client_id) is False
    assert await store.get_consent(who.user_id, who.client_id) is None
    assert await store.get_consent(who.user_id, OTHER_CLIENT) == frozenset()


@pytest.mark.parametrize(
    ("user", "client", "scopes", "error"),
    [
        ("unknown", "mine", ["openid"], NotFound),
        ("mine", "unknown", ["openid"], NotFound),
        ("a\x00b", "mine", ["openid"], NotFound),
        ("mine", "mine", ["open id"], InvalidRequest),
        ("mine", "mine", [""], InvalidRequest),
        ("mine", "mine", [f"scope-{i:03}" for i in range(30)], InvalidRequest),  # > 255 chars
    ],
    ids=["user", "client", "nul", "spaced", "empty", "too-many"],
)
async def test_consents_refused(
    store: Store, user: str, client: str, scopes: list[str], error: type[Exception]
) -> None:
    who = await party(store)
    await store.grant_consent(who.user_id, who.client_id, ["openid"], now=NOW)
    user_id = who.user_id if user == "mine" else user
    client_id = who.client_id if client == "mine" else client
    with pytest.raises(error):
        await store.grant_consent(user_id, client_id, scopes, now=NOW + DAY)
    assert await store.consents_of_user(who.user_id) == [
        ConsentRecord(who.user_id, who.client_id, frozenset({"openid"}), NOW)
    ]


async def test_concurrent_consents_add_up(store: Store, stores: list[Store]) -> None:
    who = await party(store)
    scopes = [f"s{i}" for i in range(CONCURRENCY)]
    await asyncio.gather(
        *(
            stores[i % len(stores)].grant_consent(who.user_id, who.client_id, [scope], now=NOW)
            for i, scope in enumerate(scopes)
        )
    )
    assert await store.get_consent(who.user_id, who.client_id) == frozenset(scopes)


async def test_deleting_a_client_or_user_takes_its_oidc_rows(store: Store) -> None:
    alice = await party(store)
    bob = await party(store, "0xB0B")
    mine = await exchange(store, alice)
    theirs = await exchange(store, bob, "code-b", "9a7b0000-0000-4000-8000-00000000000b", "rt-b")
    await store.add_code(code_record(alice, "code-2"))
    await store.grant_consent(alice.user_id, alice.client_id, ["openid"], now=NOW)
    await store.grant_consent(bob.user_id, bob.client_id, ["openid"], now=NOW)
    assert await store.delete_user(alice.user_id, now=NOW, deny_until=NOW + DAY)
    assert await store.get_grant(mine.id) is None
    assert await store.consume_code(code_hash("code-2"), now=NOW) == CodeUse(None)
    assert await store.consents_of_user(alice.user_id) == []
    assert await store.get_grant(theirs.id) == theirs
    assert await store.delete_client(bob.client_id)
    assert await store.get_grant(theirs.id) is None
    assert await store.get_consent(bob.user_id, bob.client_id) is None
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(oidc_refresh_tokens))).all() == []
        assert (await conn.execute(select(oidc_codes))).all() == []
