"""Account recovery's use cases: codes made, counted, spent once, replaced; links made, spent
once, expiring; one answer for every failure, audited (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from keyfob.core.eip55 import to_checksum_address
from keyfob.core.recovery import normalise_recovery_code
from keyfob.errors import Conflict, RecoveryFailed
from keyfob.server.services.recovery import (
    LINK_FAILED,
    create_recovery_link,
    generate_recovery_codes,
    recovery_codes_status,
    redeem_recovery_code,
    redeem_recovery_link,
)
from keyfob.store.records import UserRecord
from keyfob.store.schema import passkey_challenges, recovery_codes, users
from tests.server.admin.panel import make_user
from tests.server.conftest import Server
from tests.store.factories import set_row

ADDRESS = to_checksum_address("0x" + "ab" * 20)  # as keyfob stores it (EIP-55)
IP = "203.0.113.9"


@pytest.fixture
def routing() -> str:
    """Use cases, no routes: one routing is enough."""
    return "fastapi"


async def _alice(server: Server) -> UserRecord:
    user = await make_user(server, ADDRESS)
    await set_row(server.runtime.store, users, user.id, username="alice")
    found = await server.runtime.store.get_user(user.id)
    assert found is not None
    return found


async def _failures(server: Server) -> list[dict[str, object]]:
    events = await server.runtime.store.audit_events(event="recovery_failed")
    return [{"user": e.user_id, "ip": e.ip, **json.loads(e.detail)} for e in events]


async def test_codes_are_shown_once_and_stored_only_as_keyed_hashes(server: Server) -> None:
    alice = await _alice(server)
    before = server.clock()
    codes = await generate_recovery_codes(server.runtime, alice)
    status = await recovery_codes_status(server.runtime, alice)
    assert (status.total, status.remaining) == (10, 10)
    assert status.generated_at is not None
    assert before <= status.generated_at <= server.clock()
    async with server.runtime.store.engine.connect() as conn:
        stored = (await conn.execute(select(recovery_codes.c.code_hash))).scalars().all()
    assert len(stored) == 10
    for code in codes:
        compact = normalise_recovery_code(code)
        assert compact is not None
        assert not any(compact in row or code in row for row in stored)


@pytest.mark.parametrize(
    "name",
    ["alice", "ALICE", " alice ", "id", ADDRESS, ADDRESS.lower()],
    ids=["username", "any-case", "spaces", "account-id", "wallet", "wallet-lower-case"],
)
async def test_a_code_signs_its_account_in_once(server: Server, name: str) -> None:
    alice = await _alice(server)
    code = (await generate_recovery_codes(server.runtime, alice))[3]
    identifier = alice.id if name == "id" else name
    typed = code.lower().replace("-", " ")
    user = await redeem_recovery_code(server.runtime, identifier, typed, ip=IP)
    assert user.id == alice.id
    [event] = await server.runtime.store.audit_events(event="sign_in", user_id=alice.id)
    assert (json.loads(event.detail), event.ip) == ({"method": "recovery_code"}, IP)
    with pytest.raises(RecoveryFailed):
        await redeem_recovery_code(server.runtime, identifier, code, ip=IP)
    assert (await recovery_codes_status(server.runtime, alice)).remaining == 9


async def test_every_failure_is_the_same_answer_and_audited(server: Server) -> None:
    alice = await _alice(server)
    bob = await make_user(server, "0x" + "b0" * 20)
    alice_code = (await generate_recovery_codes(server.runtime, alice))[0]
    bob_code = (await generate_recovery_codes(server.runtime, bob))[0]
    attempts = [
        ("alice", "AAAA-AAAA-AAAA-AAAA"),  # a well-formed code nobody has
        ("alice", bob_code),  # another account's code
        (bob.id, alice_code),  # this code, another account named
        ("nobody", alice_code),  # an account nobody has
        ("", alice_code),
        ("alice", "not a code"),
        ("alice", ""),
    ]
    messages = set()
    for identifier, code in attempts:
        with pytest.raises(RecoveryFailed) as refused:
            await redeem_recovery_code(server.runtime, identifier, code, ip=IP)
        messages.add((refused.value.code, refused.value.status, refused.value.message))
    assert messages == {("recovery_failed", 401, RecoveryFailed.default_message)}
    named = [alice.id, alice.id, bob.id, None, None, alice.id, alice.id]
    expected = [{"user": user, "ip": IP, "method": "code"} for user in named]
    assert await _failures(server) == list(reversed(expected))
    assert (await recovery_codes_status(server.runtime, alice)).remaining == 10
    assert (await recovery_codes_status(server.runtime, bob)).remaining == 10


async def test_new_codes_replace_the_old(server: Server) -> None:
    alice = await _alice(server)
    old = await generate_recovery_codes(server.runtime, alice)
    new = await generate_recovery_codes(server.runtime, alice)
    assert set(old).isdisjoint(new)
    with pytest.raises(RecoveryFailed):
        await redeem_recovery_code(server.runtime, "alice", old[0], ip=None)
    assert (await redeem_recovery_code(server.runtime, "alice", new[0], ip=None)).id == alice.id


async def test_a_disabled_account_cannot_recover(server: Server) -> None:
    alice = await _alice(server)
    code = (await generate_recovery_codes(server.runtime, alice))[0]
    await set_row(server.runtime.store, users, alice.id, disabled=True)
    with pytest.raises(RecoveryFailed):
        await redeem_recovery_code(server.runtime, "alice", code, ip=None)
    with pytest.raises(Conflict):
        await create_recovery_link(server.runtime, await _user(server, alice.id))


async def test_two_uses_of_one_code_at_once_sign_in_once(server: Server) -> None:
    alice = await _alice(server)
    code = (await generate_recovery_codes(server.runtime, alice))[0]
    results = await asyncio.gather(
        *(redeem_recovery_code(server.runtime, "alice", code, ip=None) for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == ["RecoveryFailed", "UserRecord"]


async def _user(server: Server, user_id: str) -> UserRecord:
    user = await server.runtime.store.get_user(user_id)
    assert user is not None
    return user


async def test_a_link_carries_its_token_in_the_fragment_and_works_once(server: Server) -> None:
    alice = await _alice(server)
    before = server.clock()
    link, expires_at = await create_recovery_link(server.runtime, alice)
    ttl = timedelta(seconds=server.runtime.settings.recovery_link_ttl)
    assert ttl == timedelta(hours=1)
    assert before + ttl <= expires_at <= server.clock() + ttl
    base, token = link.split("#")
    assert base == "http://localhost:8000/account/recover/link"
    assert len(token) >= 43
    async with server.runtime.store.engine.connect() as conn:
        stored = (await conn.execute(select(passkey_challenges))).mappings().all()
    assert [(row["purpose"], row["user_id"]) for row in stored] == [("recovery-link", alice.id)]
    assert token not in stored[0]["challenge"]
    user = await redeem_recovery_link(server.runtime, token, ip=IP)
    assert user.id == alice.id
    [event] = await server.runtime.store.audit_events(event="sign_in", user_id=alice.id)
    assert json.loads(event.detail) == {"method": "recovery_link"}
    with pytest.raises(RecoveryFailed) as refused:
        await redeem_recovery_link(server.runtime, token, ip=IP)
    assert refused.value.message == LINK_FAILED
    assert await _failures(server) == [{"user": None, "ip": IP, "method": "link"}]


async def test_links_expire_and_die_with_a_disabled_account(server: Server) -> None:
    alice = await _alice(server)
    expiring = (await create_recovery_link(server.runtime, alice))[0].split("#")[1]
    server.clock.advance(server.runtime.settings.recovery_link_ttl + 1)
    kept = (await create_recovery_link(server.runtime, alice))[0].split("#")[1]
    await set_row(server.runtime.store, users, alice.id, disabled=True)
    for token in (expiring, kept, "", "x" * 500, "ünïcode", kept + "x"):
        with pytest.raises(RecoveryFailed):
            await redeem_recovery_link(server.runtime, token, ip=None)
    failures = await _failures(server)
    assert [failure["user"] for failure in failures] == [None, None, None, None, alice.id, None]


async def test_a_code_is_no_link_and_a_link_no_code(server: Server) -> None:
    alice = await _alice(server)
    code = (await generate_recovery_codes(server.runtime, alice))[0]
    token = (await create_recovery_link(server.runtime, alice))[0].split("#")[1]
    with pytest.raises(RecoveryFailed):
        await redeem_recovery_link(server.runtime, code, ip=None)
    with pytest.raises(RecoveryFailed):
        await redeem_recovery_code(server.runtime, "alice", token, ip=None)
