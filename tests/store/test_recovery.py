"""Store: recovery codes replaced all at once, each spent once, found by id, username or
wallet (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from keyfob.errors import NotFound
from keyfob.store import Store
from keyfob.store.records import RecoveryCodesStatus
from keyfob.store.schema import users
from tests.store.factories import DAY, NOW, set_row, sign_in

ADDRESS = "0x" + "Ab" * 20
HASHES = [f"{n:064x}" for n in range(1, 11)]
CONCURRENCY = 12


async def _alice(store: Store) -> str:
    user, _ = await sign_in(store, ADDRESS)
    await set_row(store, users, user.id, username="Alice")
    return user.id


async def test_a_user_without_codes(store: Store) -> None:
    user_id = await _alice(store)
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(0, 0, None)
    assert await store.recovery_codes_status("no-such-user") == RecoveryCodesStatus(0, 0, None)


async def test_codes_are_spent_once_and_counted(store: Store) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(10, 10, NOW)
    use: dict[str, Any] = {
        "code_hash": HASHES[3],
        "identifier": user_id,
        "addresses": [],
        "now": NOW + DAY,
    }
    assert await store.use_recovery_code(**use) == user_id
    assert await store.use_recovery_code(**use) is None
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(10, 9, NOW)


@pytest.mark.parametrize(
    ("identifier", "addresses"),
    [("id", []), ("Alice", []), ("alice", []), ("ALICE", []), ("x", [ADDRESS])],
    ids=["id", "username", "lower-case", "upper-case", "wallet"],
)
async def test_the_identifier_is_an_id_a_username_or_a_wallet(
    store: Store, identifier: str, addresses: list[str]
) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    name = user_id if identifier == "id" else identifier
    assert await store.recovery_user_ids(name, addresses) == [user_id]
    use: dict[str, Any] = {
        "code_hash": HASHES[0],
        "identifier": name,
        "addresses": addresses,
        "now": NOW,
    }
    assert await store.use_recovery_code(**use) == user_id


async def test_refusals_change_nothing(store: Store) -> None:
    user_id = await _alice(store)
    bob, _ = await sign_in(store, "0x" + "b0" * 20)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    await store.replace_recovery_codes(bob.id, ["f" * 64], now=NOW)
    refused: list[dict[str, Any]] = [
        {"code_hash": "e" * 64, "identifier": user_id},  # no such code
        {"code_hash": "f" * 64, "identifier": user_id},  # bob's code
        {"code_hash": HASHES[0], "identifier": bob.id},  # alice's code, bob named
        {"code_hash": HASHES[0], "identifier": "nobody"},
        {"code_hash": HASHES[0], "identifier": ""},
        {"code_hash": HASHES[0], "identifier": "Alice\x00"},
        {"code_hash": HASHES[0], "identifier": "A" * 300},
        {"code_hash": "x" * 300, "identifier": user_id},
    ]
    for attempt in refused:
        assert await store.use_recovery_code(**attempt, addresses=[], now=NOW) is None, attempt
    # A passkey's credential id is no wallet: it names nobody.
    await sign_in(store, "Y3JlZGVudGlhbA", kind="passkey")
    assert await store.recovery_user_ids("x", ["Y3JlZGVudGlhbA"]) == []
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(10, 10, NOW)
    assert await store.recovery_codes_status(bob.id) == RecoveryCodesStatus(1, 1, NOW)


async def test_a_disabled_user_cannot_use_a_code(store: Store) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    await set_row(store, users, user_id, disabled=True)
    use: dict[str, Any] = {
        "code_hash": HASHES[0],
        "identifier": user_id,
        "addresses": [],
        "now": NOW,
    }
    assert await store.use_recovery_code(**use) is None
    assert await store.recovery_user_ids(user_id, []) == []
    await set_row(store, users, user_id, disabled=False)
    assert await store.use_recovery_code(**use) == user_id


async def test_replacing_drops_every_earlier_code(store: Store) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    use: dict[str, Any] = {"identifier": user_id, "addresses": [], "now": NOW}
    assert await store.use_recovery_code(code_hash=HASHES[0], **use) == user_id
    fresh = [f"{n:064x}" for n in range(100, 110)]
    await store.replace_recovery_codes(user_id, fresh, now=NOW + DAY)
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(10, 10, NOW + DAY)
    assert await store.use_recovery_code(code_hash=HASHES[1], **use) is None
    assert await store.use_recovery_code(code_hash=fresh[9], **use) == user_id


async def test_codes_of_an_unknown_user_are_refused(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.replace_recovery_codes("0" * 36, HASHES, now=NOW)
    with pytest.raises(NotFound):
        await store.replace_recovery_codes("x" * 40, HASHES, now=NOW)


async def test_codes_go_with_their_user(store: Store) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    assert await store.delete_user(user_id, now=NOW, deny_until=NOW + DAY)
    other, _ = await sign_in(store, "0x" + "c0" * 20)
    await store.replace_recovery_codes(other.id, HASHES, now=NOW)  # the hashes are free again
    assert await store.recovery_codes_status(other.id) == RecoveryCodesStatus(10, 10, NOW)


async def test_concurrent_uses_of_one_code_have_one_winner(
    store: Store, stores: list[Store]
) -> None:
    user_id = await _alice(store)
    await store.replace_recovery_codes(user_id, HASHES, now=NOW)
    results = await asyncio.gather(
        *(
            stores[i % len(stores)].use_recovery_code(
                code_hash=HASHES[5], identifier="alice", addresses=[], now=NOW
            )
            for i in range(CONCURRENCY)
        )
    )
    assert [result for result in results if result is not None] == [user_id]
    assert await store.recovery_codes_status(user_id) == RecoveryCodesStatus(10, 9, NOW)
