"""Authentication method references (``amr``, RFC 8176) of keyfob's sessions and tokens.

- ``hwk``: a passkey that cannot leave its device (not backup eligible: a security key, a
  platform authenticator that does not sync);
- ``swk``: a passkey that is or may be synced (backup eligible or backed up);
- ``pop``: a wallet's signature: proof of possession of a key, which RFC 8176 defines as saying
  nothing of whether the key is held in hardware or software (keyfob cannot tell a hardware
  wallet from a software one);
- ``user``: added when the authenticator reports user verification (a PIN or biometric checked
  on the device). A bare presence test is not recorded, so ``user`` here means more than RFC
  8176's minimum, never less;
- ``recovery``: account recovery, a one-time recovery code or an admin's recovery link. Not one
  of RFC 8176's registered values (which the RFC allows): none of them says "a secret written
  down for the day every key is lost", and claiming ``otp`` or ``pwd`` would mislead. The admin
  panel refuses such a session.

The wallet's chain stays in the token's ``chain`` claim.
"""

from __future__ import annotations

HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"
PROOF_OF_POSSESSION = "pop"
USER_VERIFIED = "user"
RECOVERY = "recovery"


def passkey_amr(*, backup_eligible: bool, backed_up: bool, user_verified: bool) -> tuple[str, ...]:
    """The ``amr`` of a passkey ceremony, from the authenticator data's BE, BS and UV flags."""
    key = SOFTWARE_KEY if backup_eligible or backed_up else HARDWARE_KEY
    return (key, USER_VERIFIED) if user_verified else (key,)


def wallet_amr() -> tuple[str, ...]:
    """The ``amr`` of a wallet signature: proof of possession of a key, held who knows where."""
    return (PROOF_OF_POSSESSION,)


def is_passkey_amr(amr: tuple[str, ...]) -> bool:
    """Whether ``amr`` is a passkey's (``hwk``/``swk``; ``passkey`` in sessions opened before
    keyfob used RFC 8176 values)."""
    return HARDWARE_KEY in amr or SOFTWARE_KEY in amr or "passkey" in amr


def recovery_amr() -> tuple[str, ...]:
    """The ``amr`` of a sign-in by account recovery (a recovery code or link)."""
    return (RECOVERY,)
