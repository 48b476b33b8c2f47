"""Authentication method references (``amr``, RFC 8176) of keyfob's sessions and tokens.

- ``hwk``: a passkey that cannot leave its device (not backup eligible: a security key, a
  platform authenticator that does not sync);
- ``swk``: a passkey that is or may be synced (backup eligible or backed up), and every wallet:
  keyfob cannot tell a hardware wallet from a software one, so it claims the weaker;
- ``user``: added when the authenticator reports user verification (a PIN or biometric checked
  on the device). A bare presence test is not recorded, so ``user`` here means more than RFC
  8176's minimum, never less.

The wallet's chain stays in the token's ``chain`` claim.
"""

from __future__ import annotations

HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"
USER_VERIFIED = "user"


def passkey_amr(*, backup_eligible: bool, backed_up: bool, user_verified: bool) -> tuple[str, ...]:
    """The ``amr`` of a passkey ceremony, from the authenticator data's BE, BS and UV flags."""
    key = SOFTWARE_KEY if backup_eligible or backed_up else HARDWARE_KEY
    return (key, USER_VERIFIED) if user_verified else (key,)


def wallet_amr() -> tuple[str, ...]:
    """The ``amr`` of a wallet signature: a key keyfob must assume is held in software."""
    return (SOFTWARE_KEY,)
