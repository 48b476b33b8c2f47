"""The whole sign-in in one transaction: all of it or nothing, one winner per nonce."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import update

from keyfob.errors import Forbidden, InvalidNonce, KeyfobError, RegistrationDisabled
from keyfob.store import NonceRecord, NonceSpend, SignInOutcome, Store
from keyfob.store.records import AuditEvent
from keyfob.store.schema import users
from tests.store.factories import DAY, NOW

CONCURRENCY = 20


async def _add_nonce(store: Store, nonce: str = "n-1", chain: str = "ethereum") -> None:
    await store.add_nonce(
        NonceRecord(nonce=nonce, chain=chain, address=None, issued_at=NOW, expires_at=NOW + DAY)
    )


async def _complete(store: Store, spend: NonceSpend, token: str = "rt-1") -> SignInOutcome:
    return await store.complete_sign_in(
        spend=spend,
        kind="ethereum",
        address="0xA11CE",
        public_key=b"\x04key",
        amr=("ethereum",),
        refresh_token_hash=token,
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )


async def test_sign_in_without_session_writes_its_audit_event(store: Store) -> None:
    await _add_nonce(store)
    outcome = await store.complete_sign_in(
        spend=NonceSpend(nonce="n-1"),
        kind="ethereum",
        address="0xA11CE",
        public_key=None,
        amr=("ethereum",),
        refresh_token_hash=None,
        now=NOW,
        refresh_expires_at=NOW,
        audit=AuditEvent(at=NOW, event="sign_in", client_id="c-1", detail='{"method":"x"}'),
    )
    assert outcome.session is None
    [event] = await store.audit_events()
    assert (event.event, event.user_id, event.client_id) == ("sign_in", outcome.user.id, "c-1")
    with pytest.raises(InvalidNonce):  # spent with the rest of the transaction
        await _complete(store, NonceSpend(nonce="n-1"))
    assert len(await store.audit_events()) == 1


async def test_stored_nonce_sign_in_creates_user_identity_and_session(store: Store) -> None:
    await _add_nonce(store)
    outcome = await _complete(store, NonceSpend(nonce="n-1"))
    assert outcome.identity.address == "0xA11CE"
    assert outcome.identity.public_key == b"\x04key"
    assert outcome.session is not None
    assert outcome.session.user_id == outcome.user.id
    assert outcome.session.amr == ("ethereum",)
    assert await store.session_for_refresh_token("rt-1") == outcome.session
    assert await store.consume_nonce("n-1", now=NOW) is None  # spent
    again = await _complete(store, NonceSpend(used_key="nonce:x", used_until=NOW + DAY), "rt-2")
    assert again.user.id == outcome.user.id


async def test_unknown_nonce_is_refused(store: Store) -> None:
    with pytest.raises(InvalidNonce):
        await _complete(store, NonceSpend(nonce="unknown"))


async def test_used_key_is_refused_the_second_time(store: Store) -> None:
    spend = NonceSpend(used_key="challenge:j", used_until=NOW + DAY)
    await _complete(store, spend)
    with pytest.raises(InvalidNonce):
        await _complete(store, spend, token="rt-2")
    assert await store.session_for_refresh_token("rt-2") is None


async def test_a_refused_nonce_rolls_everything_back(store: Store) -> None:
    await _add_nonce(store, chain="solana")

    def check(record: NonceRecord) -> None:
        if record.chain != "ethereum":
            raise InvalidNonce("wrong chain")

    with pytest.raises(InvalidNonce, match="wrong chain"):
        await _complete(store, NonceSpend(nonce="n-1", check=check))
    # Nothing happened: no user, no session, the nonce still there.
    assert await store.session_for_refresh_token("rt-1") is None
    assert await store.consume_nonce("n-1", now=NOW) is not None


async def test_disabled_user_gets_no_session_and_keeps_the_nonce(store: Store) -> None:
    first = await _complete(store, NonceSpend(used_key="nonce:a", used_until=NOW + DAY))
    async with store.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == first.user.id).values(disabled=True))
    await _add_nonce(store)
    with pytest.raises(Forbidden):
        await _complete(store, NonceSpend(nonce="n-1"), token="rt-2")
    assert await store.session_for_refresh_token("rt-2") is None
    assert await store.consume_nonce("n-1", now=NOW) is not None


@pytest.mark.parametrize("kind", ["stored", "signed"])
async def test_concurrent_sign_ins_with_one_nonce_have_one_winner(
    store: Store, stores: list[Store], kind: str
) -> None:
    await _add_nonce(store)

    async def attempt(i: int) -> str:
        spend = (
            NonceSpend(nonce="n-1")
            if kind == "stored"
            else NonceSpend(used_key="nonce:n-1", used_until=NOW + DAY)
        )
        try:
            await _complete(stores[i % len(stores)], spend, token=f"rt-{i}")
        except KeyfobError as exc:
            return exc.code
        return "ok"

    results = Counter(await asyncio.gather(*(attempt(i) for i in range(CONCURRENCY))))
    assert results == {"ok": 1, "invalid_nonce": CONCURRENCY - 1}


async def test_create_user_false_refuses_an_unknown_identity_and_writes_nothing(
    store: Store,
) -> None:
    """A client with registration off: an unknown wallet is refused, no user, no session, no
    audit row, and its nonce is left as it was; a known identity still signs in."""
    await _add_nonce(store)
    with pytest.raises(RegistrationDisabled):
        await store.complete_sign_in(
            spend=NonceSpend(nonce="n-1"),
            kind="ethereum",
            address="0xA11CE",
            public_key=None,
            amr=("ethereum",),
            refresh_token_hash="rt-1",
            now=NOW,
            refresh_expires_at=NOW + DAY,
            audit=AuditEvent(at=NOW, event="sign_in"),
            create_user=False,
        )
    assert await store.count_users() == 0
    assert await store.audit_events() == []
    known = await _complete(store, NonceSpend(nonce="n-1"))  # the nonce was not spent
    await _add_nonce(store, "n-2")
    again = await store.complete_sign_in(
        spend=NonceSpend(nonce="n-2"),
        kind="ethereum",
        address="0xA11CE",
        public_key=None,
        amr=("ethereum",),
        refresh_token_hash=None,
        now=NOW,
        refresh_expires_at=NOW,
        create_user=False,
    )
    assert again.user.id == known.user.id
    assert await store.count_users() == 1
