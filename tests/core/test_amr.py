"""RFC 8176 ``amr`` values from a passkey's flags and for wallets."""

from __future__ import annotations

import pytest

from keyfob.core.amr import is_passkey_amr, passkey_amr, wallet_amr


@pytest.mark.parametrize(
    ("eligible", "backed_up", "verified", "expected"),
    [
        (False, False, False, ("hwk",)),
        (False, False, True, ("hwk", "user")),
        (True, False, False, ("swk",)),  # may sync later: not device-bound
        (True, True, True, ("swk", "user")),
        (False, True, False, ("swk",)),  # BS without BE breaks the spec; claim the weaker
    ],
)
def test_passkey_amr(
    eligible: bool, backed_up: bool, verified: bool, expected: tuple[str, ...]
) -> None:
    amr = passkey_amr(backup_eligible=eligible, backed_up=backed_up, user_verified=verified)
    assert amr == expected


def test_wallets_are_proof_of_possession() -> None:
    assert wallet_amr() == ("pop",)


@pytest.mark.parametrize(
    ("amr", "passkey"),
    [
        (("hwk",), True),
        (("swk", "user"), True),
        (("passkey",), True),  # an SSO session opened before the RFC 8176 values
        (("pop",), False),
        (("pop", "session_key"), False),
    ],
)
def test_is_passkey_amr(amr: tuple[str, ...], passkey: bool) -> None:
    """The admin guard tells a passkey session (which must carry ``user``) from a wallet's."""
    assert is_passkey_amr(amr) is passkey
