"""Passkey names: given at registration, changed by their holder, never by someone else.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture is parametrized).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from keyfob.errors import NotFound
from keyfob.store import Store
from keyfob.store.passkeys import NewPasskey
from keyfob.store.records import PasskeyChallengeRecord, PasskeyRecord
from tests.store.factories import NOW, sign_in


async def register(
    store: Store, credential_id: str, *, name: str | None = None, user_id: str | None = None
) -> PasskeyRecord:
    """Register a passkey for a new account (or add it to ``user_id``'s); its record."""
    challenge = f"challenge-{credential_id}"
    await store.add_passkey_challenge(
        PasskeyChallengeRecord(
            challenge=challenge,
            purpose="register",
            user_id=user_id or str(uuid.uuid4()),
            username=None,
            roles=(),
            expires_at=NOW + timedelta(minutes=5),
        )
    )
    passkey = NewPasskey(
        credential_id=credential_id,
        public_key=b"cose",
        sign_count=0,
        transports=("internal",),
        aaguid=str(uuid.UUID(int=0)),
        backed_up=True,
        name=name,
    )
    await store.register_passkey(
        challenge=challenge,
        check=None,
        passkey=passkey,
        now=NOW,
        adding=user_id is not None,
        amr=("hwk",),
    )
    found = await store.get_passkey(credential_id)
    assert found is not None
    return found


async def test_a_passkey_keeps_the_name_it_was_registered_with(store: Store) -> None:
    named = await register(store, "cred-a", name="Work laptop")
    assert named.name == "Work laptop"
    plain = await register(store, "cred-b", user_id=named.identity.user_id)
    assert plain.name is None
    mine = await store.passkeys_of_user(named.identity.user_id)
    assert sorted((p.identity.address, p.name) for p in mine) == [
        ("cred-a", "Work laptop"),
        ("cred-b", None),
    ]


async def test_the_holder_renames_a_passkey(store: Store) -> None:
    passkey = await register(store, "cred-a")
    user_id, identity_id = passkey.identity.user_id, passkey.identity.id
    await store.rename_passkey(user_id=user_id, identity_id=identity_id, name="Phone ✓")
    renamed = await store.get_passkey("cred-a")
    assert renamed is not None
    assert renamed.name == "Phone ✓"
    await store.rename_passkey(user_id=user_id, identity_id=identity_id, name=None)
    cleared = await store.get_passkey("cred-a")
    assert cleared is not None
    assert cleared.name is None


@pytest.mark.parametrize("whose", ["another user's passkey", "a wallet", "no such id"])
async def test_renaming_what_is_not_ones_passkey_is_not_found(store: Store, whose: str) -> None:
    mine = await register(store, "cred-mine", name="Mine")
    theirs = await register(store, "cred-theirs", name="Theirs")
    _, wallet = await sign_in(store, "0xB0B")
    target = {
        "another user's passkey": theirs.identity.id,
        "a wallet": wallet.id,
        "no such id": str(uuid.uuid4()),
    }[whose]
    with pytest.raises(NotFound):
        await store.rename_passkey(user_id=mine.identity.user_id, identity_id=target, name="X")
    untouched = await store.get_passkey("cred-theirs")
    assert untouched is not None
    assert untouched.name == "Theirs"
