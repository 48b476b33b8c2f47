"""Store: admin user management, i.e. search, disable, enable, delete, roles (SQLite and
PostgreSQL)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from keyfob.errors import InvalidRequest, TokenRevoked
from keyfob.store import SessionRecord, UserRecord
from keyfob.store.admin import MAX_SEARCH
from keyfob.store.records import AuditEvent, SsoSessionRecord
from keyfob.store.schema import identities, users
from tests.store import admin_fixtures
from tests.store.admin_fixtures import Combined, client_record
from tests.store.factories import DAY, NOW, open_session, session_key, set_row

full_store = admin_fixtures.full_store

MINUTE = timedelta(minutes=1)
LATER = NOW + timedelta(hours=1)
ALICE = "0xA11CE00000000000000000000000000000000001"
ALICE_2 = "0xA11CE00000000000000000000000000000000002"
BOB = "0xB0B0000000000000000000000000000000000001"


async def user(store: Combined, kind: str, address: str, at: int, username: str | None) -> str:
    """A user signed in ``at`` minutes after NOW with one identity; their id."""
    found, _ = await store.sign_in_identity(
        kind=kind, address=address, public_key=None, now=NOW + at * MINUTE
    )
    if username is not None:
        await set_row(store, users, found.id, username=username)
    return found.id


async def people(store: Combined) -> dict[str, UserRecord]:
    """alice (two wallets), bob, carol (a three-letter address), dave (username "al_x")."""
    ids = {
        "alice": await user(store, "ethereum", ALICE, 0, "Alice"),
        "bob": await user(store, "ethereum", BOB, 1, "bob"),
        "carol": await user(store, "nimiq", "xyz", 2, None),
        "dave": await user(store, "solana", "D4ve", 3, "al_x"),
    }
    async with store.engine.begin() as conn:
        await conn.execute(
            identities.insert().values(
                id=str(uuid.uuid4()),
                user_id=ids["alice"],
                kind="ethereum",
                address=ALICE_2,
                created_at=NOW + timedelta(hours=1),
            )
        )
    out = {}
    for name, user_id in ids.items():
        record = await store.get_user(user_id)
        assert record is not None
        out[name] = record
    return out


async def test_users_by_id_finds_the_known_with_their_identities(full_store: Combined) -> None:
    found = await people(full_store)
    alice, carol = found["alice"], found["carol"]
    wanted = [alice.id, carol.id, alice.id, str(uuid.uuid4()), "x" * 300, ""]
    assert await full_store.users_by_id(wanted) == {alice.id: alice, carol.id: carol}
    assert [i.address for i in (await full_store.users_by_id([alice.id]))[alice.id].identities] == [
        ALICE,
        ALICE_2,
    ]
    assert await full_store.users_by_id([]) == {}


async def test_search_alice_has_both_identities(full_store: Combined) -> None:
    alice = (await people(full_store))["alice"]
    assert [i.address for i in alice.identities] == [ALICE, ALICE_2]
    assert await full_store.search_users(ALICE_2) == [alice]
    assert await full_store.search_users("0xa11ce", limit=1) == [alice]  # one user, two matches


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["dave", "carol", "bob", "alice"]),
        ("  ", ["dave", "carol", "bob", "alice"]),
        ("AL", ["dave", "alice"]),  # usernames by prefix, ignoring case
        ("alice", ["alice"]),
        (" bob ", ["bob"]),
        ("al_", ["dave"]),  # "_" is no wildcard
        ("_", []),
        ("%", []),
        ("a\x00", []),
        (ALICE, ["alice"]),
        (ALICE.lower(), ["alice"]),
        ("0xa1", ["alice"]),  # four characters: addresses by prefix, ignoring case
        ("0xa", []),  # three: addresses only exactly
        ("0x", []),
        ("0XB0B", ["bob"]),
        ("xyz", ["carol"]),
        ("xy", []),
        ("XYZ", []),
        ("D4ve", ["dave"]),
        ("d4v", []),
        ("nobody", []),
    ],
)
async def test_search(full_store: Combined, query: str, expected: list[str]) -> None:
    found = await people(full_store)
    assert await full_store.search_users(query) == [found[name] for name in expected]


async def test_search_by_id(full_store: Combined) -> None:
    found = await people(full_store)
    alice = found["alice"]
    assert await full_store.search_users(alice.id) == [alice]
    assert await full_store.search_users(alice.id[:8]) == [alice]
    assert await full_store.search_users(alice.id[:8].upper()) == [alice]
    assert await full_store.search_users(alice.id + "0") == []


async def test_search_limit(full_store: Combined) -> None:
    found = await people(full_store)
    assert await full_store.search_users("", limit=2) == [found["dave"], found["carol"]]
    assert await full_store.search_users("", limit=0) == [found["dave"]]
    for index in range(MAX_SEARCH):
        await user(full_store, "nimiq", f"many-{index}", 10 + index, None)
    assert len(await full_store.search_users("", limit=10_000)) == MAX_SEARCH


UNTIL = LATER + timedelta(minutes=15)  # when the ended sessions leave the denylist


async def rotate(store: Combined, old: str, new: str) -> SessionRecord:
    return await store.rotate_refresh_token(
        token_hash=old,
        new_token_hash=new,
        now=LATER,
        new_expires_at=LATER + DAY,
        grace=MINUTE,
        max_age=30 * DAY,
        deny_until=UNTIL,
    )


def sso(user_id: str, token_hash: str) -> SsoSessionRecord:
    return SsoSessionRecord(token_hash, user_id, ("ethereum",), NOW, NOW + 2 * DAY)


async def test_disable_revokes_everything(full_store: Combined) -> None:
    alice = await open_session(full_store, "rt-a", ALICE)
    second = await full_store.create_session(
        user_id=alice.user_id,
        identity_id=alice.identity_id,
        amr=("ethereum",),
        refresh_token_hash="rt-a2",
        now=NOW,
        refresh_expires_at=NOW + DAY,
    )
    bob = await open_session(full_store, "rt-b", BOB)
    await full_store.add_session_key(session_key(alice, "tp-a"))
    await full_store.add_session_key(session_key(bob, "tp-b"))
    await full_store.create_sso_session(sso(alice.user_id, "sso-a"))
    await full_store.create_sso_session(sso(bob.user_id, "sso-b"))

    assert await full_store.disable_user(alice.user_id, now=LATER, deny_until=UNTIL) is True
    disabled = await full_store.get_user(alice.user_id)
    assert disabled is not None
    assert disabled.disabled is True
    for session_id in (alice.id, second.id):
        revoked = await full_store.get_session(session_id)
        assert revoked is not None
        assert revoked.revoked_at == LATER
    key = await full_store.get_session_key("tp-a")
    assert key is not None
    assert key.revoked_at == LATER
    # Enabling again lets the user sign in anew, but what was revoked stays revoked.
    assert await full_store.enable_user(alice.user_id) is True
    enabled = await full_store.get_user(alice.user_id)
    assert enabled is not None
    assert enabled.disabled is False
    with pytest.raises(TokenRevoked):
        await rotate(full_store, "rt-a", "rt-a-next")
    assert await full_store.get_sso_session("sso-a", now=NOW) is None  # deleted, not hidden
    assert await full_store.use_session_key("tp-a", timestamp_ms=1, now=NOW) is None
    # Nobody else is touched.
    assert await rotate(full_store, "rt-b", "rt-b-next") == replace(
        bob, last_used_at=LATER
    )  # a use
    assert await full_store.get_sso_session("sso-b", now=NOW) == sso(bob.user_id, "sso-b")
    assert await full_store.use_session_key("tp-b", timestamp_ms=1, now=NOW) is not None


async def test_disabling_again_keeps_the_first_revocation(full_store: Combined) -> None:
    alice = await open_session(full_store, "rt-a", ALICE)
    assert await full_store.disable_user(alice.user_id, now=LATER, deny_until=UNTIL) is True
    assert (
        await full_store.disable_user(alice.user_id, now=LATER + DAY, deny_until=UNTIL + DAY)
        is True
    )
    revoked = await full_store.get_session(alice.id)
    assert revoked is not None
    assert revoked.revoked_at == LATER


@pytest.mark.parametrize("user_id", ["unknown", str(uuid.uuid4()), "u" * 40, "a\x00b", ""])
async def test_unknown_user(full_store: Combined, user_id: str) -> None:
    await open_session(full_store)
    assert await full_store.disable_user(user_id, now=LATER, deny_until=UNTIL) is False
    assert await full_store.enable_user(user_id) is False
    assert await full_store.delete_user(user_id, now=LATER, deny_until=UNTIL) is False
    assert await full_store.set_roles(user_id, ("admin",)) is False
    assert await full_store.count_users() == 1


async def test_delete_user_takes_everything_but_the_log(full_store: Combined) -> None:
    alice = await open_session(full_store, "rt-a", ALICE)
    bob = await open_session(full_store, "rt-b", BOB)
    await full_store.add_session_key(session_key(alice, "tp-a"))
    await full_store.create_sso_session(sso(alice.user_id, "sso-a"))
    await full_store.add_client(client_record())
    await full_store.grant_permission(alice.user_id, client_record().id, now=NOW)
    await full_store.grant_permission(bob.user_id, client_record().id, now=NOW)
    logged = await full_store.add_audit_event(AuditEvent(at=NOW, event="x", user_id=alice.user_id))

    assert await full_store.delete_user(alice.user_id, now=LATER, deny_until=UNTIL) is True
    assert await full_store.delete_user(alice.user_id, now=LATER, deny_until=UNTIL) is False
    assert await full_store.get_user(alice.user_id) is None
    assert await full_store.get_session(alice.id) is None
    assert await full_store.session_for_refresh_token("rt-a") is None
    assert await full_store.get_session_key("tp-a") is None
    assert await full_store.delete_sso_session("sso-a") is False
    assert await full_store.users_permitted(client_record().id) == [bob.user_id]
    assert await full_store.search_users(ALICE) == []
    assert [e.id for e in await full_store.audit_events(user_id=alice.user_id)] == [logged]
    assert await full_store.count_users() == 1
    assert await rotate(full_store, "rt-b", "rt-b-next") == replace(
        bob, last_used_at=LATER
    )  # a use
    again = await open_session(full_store, "rt-new", ALICE)  # the wallet may sign up afresh
    assert again.user_id != alice.user_id


async def test_roles(full_store: Combined) -> None:
    found = await people(full_store)
    alice, bob, carol = found["alice"].id, found["bob"].id, found["carol"].id
    assert await full_store.set_roles(alice, ("admin", "ops")) is True
    assert await full_store.set_roles(bob, ("Admin", "adminx", "a_b")) is True
    assert await full_store.set_roles(carol, ("admin",)) is True
    user_record = await full_store.get_user(alice)
    assert user_record is not None
    assert user_record.roles == ("admin", "ops")
    assert await full_store.users_with_role("admin") == [alice, carol]
    assert await full_store.users_with_role("ops") == [alice]
    assert await full_store.users_with_role("Admin") == [bob]
    assert await full_store.users_with_role("a_b") == [bob]
    assert await full_store.users_with_role("axb") == []
    assert await full_store.users_with_role("adm") == []
    assert await full_store.users_with_role("") == []
    assert await full_store.users_with_role("admin ops") == []
    assert await full_store.set_roles(carol, ()) is True
    assert await full_store.users_with_role("admin") == [alice]


@pytest.mark.parametrize(
    "roles", [("",), ("two words",), ("a\tb",), ("x" * 256,), ("x" * 128,) * 2]
)
async def test_bad_roles_are_refused(full_store: Combined, roles: tuple[str, ...]) -> None:
    found = await people(full_store)
    with pytest.raises(InvalidRequest):
        await full_store.set_roles(found["alice"].id, roles)
    assert await full_store.get_user(found["alice"].id) == found["alice"]


async def test_count_users(full_store: Combined) -> None:
    assert await full_store.count_users() == 0
    await people(full_store)
    assert await full_store.count_users() == 4
