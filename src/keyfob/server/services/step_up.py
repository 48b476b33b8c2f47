"""Step-up: a fresh proof from a credential already on the account before it changes.

The JSON API (``/auth/step-up/*``, the grant in the ``X-Keyfob-Step-Up`` header, bound to the
account token's session) and the account page (``/account/step-up/*``, the grant in a cookie,
bound to the browser's SSO session) share the ceremony here: a challenge issued for this
purpose and this user (stored with purpose :data:`PASSKEY_PURPOSE` / :data:`WALLET_PURPOSE`,
spent atomically, a passkey's counter moved on in the same transaction), its proof checked
against a credential of the account, and a grant of ``KEYFOB_STEP_UP_TTL`` seconds for one
session, audited either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from keyfob.core.nonces import new_nonce
from keyfob.core.passkeys import authentication_options, parse_credential
from keyfob.core.signin_message import SignInMessage, format_time
from keyfob.core.step_up import (
    STEP_UP_REQUEST_ID,
    STEP_UP_STATEMENT,
    StepUpGrant,
    issue_step_up_grant,
    verify_step_up_grant,
)
from keyfob.errors import InvalidChallenge, InvalidCredential, InvalidRequest, KeyfobError
from keyfob.server.infra.inputs import Body, MessageText, Text
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import record_event
from keyfob.server.services.passkey_flow import check_assertion
from keyfob.server.services.wallet import (
    CLOCK_SKEW,
    Chain,
    SignedMessage,
    canonical_address,
    verify_signature,
)
from keyfob.store.passkeys import PASSKEY
from keyfob.store.records import PasskeyChallengeRecord, UserRecord
from keyfob.store.rows_admin import storable

PASSKEY_PURPOSE = "step-up-passkey"
WALLET_PURPOSE = "step-up-wallet"


class StepUpOptionsRequest(Body):
    """Which credential confirms: a wallet of the account (``chain`` and ``address``), else
    the account's passkeys."""

    chain: Chain | None = None
    address: Text | None = Field(default=None, max_length=128)
    chain_id: int | None = Field(default=None, ge=1)


class StepUpVerifyRequest(Body):
    """The proof: a passkey's ``credential`` (``toJSON()``), or a wallet's signed message."""

    credential: dict[str, Any] | None = None
    chain: Chain | None = None
    message: MessageText | None = Field(default=None, min_length=1)
    signature: Text | None = Field(default=None, min_length=1, max_length=1024)
    public_key: Text | None = Field(default=None, max_length=256)


@dataclass(frozen=True, slots=True)
class StepUpChallenge:
    """What the user's credential must answer: WebAuthn request ``options`` (passkey) or the
    ``message`` to sign (wallet), until ``expires_at``."""

    method: Literal["passkey", "wallet"]
    expires_at: datetime
    options: dict[str, Any] | None = None
    message: str | None = None


async def step_up_challenge(
    runtime: Runtime, user: UserRecord, body: StepUpOptionsRequest
) -> StepUpChallenge:
    """A challenge for a credential of ``user``: without ``chain``, WebAuthn request options
    for their passkeys; with ``chain`` and ``address`` of one of their wallets, the step-up
    message to sign (a sign-in message with Request ID ``keyfob-step-up``)."""
    settings, now = runtime.settings, runtime.now()
    chain, address = body.chain, body.address
    if chain is None:
        allow = [i.address for i in user.identities if i.kind == PASSKEY]
        if not allow:
            raise InvalidRequest("Your account has no passkey: confirm with a wallet of it.")
        options = authentication_options(
            rp_id=settings.rp_id,
            allow_credential_ids=allow,
            user_verification=settings.webauthn_user_verification,
            timeout_ms=settings.webauthn_timeout * 1000,
        )
        expires_at = now + timedelta(seconds=settings.webauthn_timeout)
        await _remember(runtime, options.challenge, PASSKEY_PURPOSE, user.id, expires_at)
        return StepUpChallenge(method="passkey", options=options.options, expires_at=expires_at)
    if address is None:
        raise InvalidRequest("Name the wallet that confirms: chain and address.")
    address = canonical_address(chain, address)
    if not any((i.kind, i.address) == (chain, address) for i in user.identities):
        raise InvalidCredential("This wallet is not a sign-in method of your account.")
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    expires_at = now + timedelta(seconds=settings.nonce_ttl)
    nonce = new_nonce()
    await _remember(runtime, nonce, WALLET_PURPOSE, user.id, expires_at)
    message = SignInMessage(
        chain=chain,
        domain=settings.domain,
        address=address,
        statement=STEP_UP_STATEMENT,
        uri=settings.origin,
        version="1",
        chain_id=_chain_id(runtime, chain, body.chain_id),
        nonce=nonce,
        issued_at=format_time(now),
        expiration_time=format_time(expires_at),
        request_id=STEP_UP_REQUEST_ID,
    )
    return StepUpChallenge(method="wallet", message=message.to_text(), expires_at=expires_at)


async def prove_step_up(
    runtime: Runtime, user: UserRecord, body: StepUpVerifyRequest, *, ip: str | None
) -> str:
    """Check the proof of ``body`` against a credential of ``user`` and spend its challenge;
    the method that proved it (``passkey`` or the chain). A failure is audited
    (``step_up_failed``) and raised."""
    method = PASSKEY if body.credential is not None else (body.chain or "unknown")
    try:
        if body.credential is not None:
            if body.chain is not None or body.message is not None:
                raise InvalidRequest("Send a passkey credential or a signed message, not both.")
            await _verify_passkey(runtime, user, body.credential)
        else:
            await _verify_wallet(runtime, user, body)
    except KeyfobError as error:
        await record_event(
            runtime, "step_up_failed", user_id=user.id, ip=ip, method=method, error=error.code
        )
        raise
    return method


async def grant_step_up(
    runtime: Runtime,
    user: UserRecord,
    *,
    session_id: str,
    method: str,
    audience: str,
    ip: str | None,
) -> str:
    """A grant of ``KEYFOB_STEP_UP_TTL`` seconds of changes to ``user``'s account, bound to
    ``session_id`` and ``audience`` (which says where it is good); audited (``step_up``)."""
    grant = issue_step_up_grant(
        key=runtime.step_up_key,
        issuer=runtime.settings.issuer,
        audience=audience,
        subject=user.id,
        session_id=session_id,
        method=method,
        now=runtime.now(),
        ttl=runtime.settings.step_up_ttl,
    )
    await record_event(
        runtime, "step_up", user_id=user.id, ip=ip, method=method, session=session_id
    )
    return grant


def check_grant(
    runtime: Runtime,
    token: str | None,
    *,
    subject: str,
    session_id: str | None,
    audience: str,
) -> StepUpGrant:
    """The grant ``token``, made for this user in this session for ``audience`` and still
    fresh; :class:`~keyfob.errors.StepUpRequired` otherwise."""
    return verify_step_up_grant(
        token,
        key=runtime.step_up_key,
        expected_issuer=runtime.settings.issuer,
        expected_audience=audience,
        expected_subject=subject,
        expected_session_id=session_id,
        now=runtime.now(),
    )


async def _verify_passkey(
    runtime: Runtime, user: UserRecord, credential: Mapping[str, Any]
) -> None:
    settings, store = runtime.settings, runtime.store
    parsed = parse_credential(credential)
    passkey = await store.get_passkey(parsed.credential_id)
    if passkey is None or passkey.identity.user_id != user.id:
        raise InvalidCredential("This passkey is not a sign-in method of your account.")
    verified = check_assertion(
        runtime,
        parsed,
        passkey,
        require_user_verification=settings.webauthn_user_verification == "required",
    )
    await store.spend_step_up_challenge(
        challenge=parsed.challenge,
        check=_challenge_check(PASSKEY_PURPOSE, user.id),
        now=runtime.now(),
        passkey_identity_id=passkey.identity.id,
        sign_count=verified.sign_count,
    )


async def _verify_wallet(runtime: Runtime, user: UserRecord, body: StepUpVerifyRequest) -> None:
    if body.chain is None or body.message is None or body.signature is None:
        raise InvalidRequest("Send a passkey credential, or chain, message and signature.")
    signed = SignedMessage(
        chain=body.chain, message=body.message, signature=body.signature, public_key=body.public_key
    )
    verified = verify_signature(runtime, signed)
    message = verified.message
    assert message is not None
    if message.request_id != STEP_UP_REQUEST_ID:
        raise InvalidChallenge(
            "This is not a step-up message (Request ID keyfob-step-up): ask for a step-up "
            "challenge first."
        )
    if not any((i.kind, i.address) == (verified.chain, verified.address) for i in user.identities):
        raise InvalidCredential("This wallet is not a sign-in method of your account.")
    if not storable(message.nonce, 128):
        raise InvalidChallenge()
    ttl = timedelta(seconds=runtime.settings.nonce_ttl)
    base = _challenge_check(WALLET_PURPOSE, user.id)

    def check(record: PasskeyChallengeRecord) -> None:
        base(record)
        if not record.expires_at - ttl - CLOCK_SKEW <= message.issued_at_time <= record.expires_at:
            raise InvalidChallenge("The message's Issued At lies outside the life of its nonce.")

    await runtime.store.spend_step_up_challenge(
        challenge=message.nonce, check=check, now=runtime.now()
    )


def _challenge_check(purpose: str, user_id: str) -> Callable[[PasskeyChallengeRecord], None]:
    def check(record: PasskeyChallengeRecord) -> None:
        if record.purpose != purpose:
            raise InvalidChallenge("This challenge was not issued for a step-up.")
        if record.user_id != user_id:
            raise InvalidChallenge("This challenge was issued for another account.")

    return check


async def _remember(
    runtime: Runtime, challenge: str, purpose: str, user_id: str, expires_at: datetime
) -> None:
    record = PasskeyChallengeRecord(
        challenge=challenge,
        purpose=purpose,
        user_id=user_id,
        username=None,
        roles=(),
        expires_at=expires_at,
    )
    await runtime.store.add_passkey_challenge(record)


def _chain_id(runtime: Runtime, chain: str, requested: int | None) -> str | None:
    if chain != "ethereum":
        return None
    allowed = runtime.settings.ethereum_chain_ids
    if requested is not None and requested not in allowed:
        raise InvalidRequest("This chain id is not accepted here.")
    return str(requested or allowed[0])
