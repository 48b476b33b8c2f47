"""Account recovery: one-time recovery codes a user keeps, one-time links an admin makes.

Either lets a user who lost every key sign in once (an SSO session of ``amr`` ``recovery``)
and add a new key at once. Codes come in sets of ten, shown once; making a new set replaces
the old. A link is good for ``KEYFOB_RECOVERY_LINK_TTL`` seconds and one use, its token stored
as a one-time link of purpose :data:`LINK_PURPOSE`. Only keyed hashes of codes and tokens are
stored (:mod:`keyfob.core.recovery` says why a fast keyed hash is right for them).

A failure is one answer, :class:`~keyfob.errors.RecoveryFailed`, for an account nobody has, a
wrong, used or another account's code, and an unknown, used or expired link; it is audited
(``recovery_failed``). A code is spent by one statement that names the account and the code's
hash together, run whether or not the account exists, so the time taken tells nothing either.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from keyfob.core.recovery import (
    CODE_KIND,
    LINK_KIND,
    new_recovery_codes,
    normalise_recovery_code,
    secret_hash,
)
from keyfob.errors import Conflict, KeyfobError, RecoveryFailed
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import record_event
from keyfob.server.services.wallet import canonical_address
from keyfob.store.records import PasskeyChallengeRecord, RecoveryCodesStatus, UserRecord

LINK_PURPOSE = "recovery-link"
LINK_PATH = "/account/recover/link"
CODE_METHOD = "recovery_code"
LINK_METHOD = "recovery_link"
LINK_FAILED = "This recovery link is unknown, already used or expired: ask for a new one."
_CHAINS = ("ethereum", "nimiq", "solana")
_MAX_TOKEN = 128


async def generate_recovery_codes(runtime: Runtime, user: UserRecord) -> tuple[str, ...]:
    """A new set of codes for ``user``, replacing every earlier one; the codes themselves,
    which are never stored and cannot be shown again."""
    codes = new_recovery_codes()
    hashes = [_code_hash(runtime, normalise_recovery_code(code) or "") for code in codes]
    await runtime.store.replace_recovery_codes(user.id, hashes, now=runtime.now())
    return codes


async def recovery_codes_status(runtime: Runtime, user: UserRecord) -> RecoveryCodesStatus:
    """How many codes ``user`` has left, of how many, made when."""
    return await runtime.store.recovery_codes_status(user.id)


async def redeem_recovery_code(
    runtime: Runtime, identifier: str, code: str, *, ip: str | None
) -> UserRecord:
    """Spend ``code`` of the account ``identifier`` names (its username, id, or a wallet's
    address); the account, or :class:`RecoveryFailed` (audited). The sign-in is audited as
    ``sign_in`` with method ``recovery_code``."""
    store, identifier = runtime.store, identifier.strip()
    compact = normalise_recovery_code(code)
    hashed = _code_hash(runtime, compact or "")  # the same work for a malformed code
    addresses = wallet_addresses(identifier)
    user_id = None
    if compact is not None:
        user_id = await store.use_recovery_code(
            code_hash=hashed, identifier=identifier, addresses=addresses, now=runtime.now()
        )
    user = None if user_id is None else await store.get_user(user_id)
    if user is None or user.disabled:
        named = await store.recovery_user_ids(identifier, addresses)
        await _failed(runtime, "code", ip, user_id=named[0] if len(named) == 1 else None)
        raise RecoveryFailed()
    await record_event(runtime, "sign_in", user_id=user.id, ip=ip, method=CODE_METHOD)
    return user


async def create_recovery_link(runtime: Runtime, user: UserRecord) -> tuple[str, datetime]:
    """A one-time link for ``user`` and when it expires. The token rides in the fragment,
    which browsers never send: the page posts it, so it reaches no access log.
    :class:`~keyfob.errors.Conflict` for a disabled user (enable them first)."""
    if user.disabled:
        raise Conflict("This user is disabled: enable them before making a recovery link.")
    token = secrets.token_urlsafe(32)
    expires_at = runtime.now() + timedelta(seconds=runtime.settings.recovery_link_ttl)
    record = PasskeyChallengeRecord(
        challenge=_link_hash(runtime, token),
        purpose=LINK_PURPOSE,
        user_id=user.id,
        username=None,
        roles=(),
        expires_at=expires_at,
    )
    await runtime.store.add_passkey_challenge(record)
    return f"{runtime.settings.public_url}{LINK_PATH}#{token}", expires_at


async def redeem_recovery_link(runtime: Runtime, token: str, *, ip: str | None) -> UserRecord:
    """Spend a recovery link's ``token``; its user, or :class:`RecoveryFailed` (audited). The
    sign-in is audited as ``sign_in`` with method ``recovery_link``."""
    store = runtime.store
    record = None
    if 0 < len(token) <= _MAX_TOKEN and token.isascii():
        record = await store.consume_passkey_challenge(
            _link_hash(runtime, token), now=runtime.now()
        )
    user = None
    if record is not None and record.purpose == LINK_PURPOSE and record.user_id is not None:
        user = await store.get_user(record.user_id)
    if user is None or user.disabled:
        await _failed(runtime, "link", ip, user_id=None if record is None else record.user_id)
        raise RecoveryFailed(LINK_FAILED)
    await record_event(runtime, "sign_in", user_id=user.id, ip=ip, method=LINK_METHOD)
    return user


def wallet_addresses(identifier: str) -> list[str]:
    """The forms of ``identifier`` a wallet address may be stored in: as typed, and as each
    chain writes addresses (an Ethereum address typed in lower case is found EIP-55)."""
    forms = {identifier: None}
    for chain in _CHAINS:
        try:
            forms[canonical_address(chain, identifier)] = None
        except KeyfobError:
            continue
    return list(forms)


def _code_hash(runtime: Runtime, compact: str) -> str:
    return secret_hash(runtime.recovery_key, CODE_KIND, compact)


def _link_hash(runtime: Runtime, token: str) -> str:
    return secret_hash(runtime.recovery_key, LINK_KIND, token)


async def _failed(runtime: Runtime, via: str, ip: str | None, *, user_id: str | None) -> None:
    await record_event(runtime, "recovery_failed", user_id=user_id, ip=ip, method=via)
