"""Step-up: a fresh proof from a credential already on the account before its sign-in methods
change (``POST /auth/step-up/options`` and ``/verify``, and the check the changes make).

The proof is a passkey assertion or a wallet's signed step-up message over a challenge issued
for this purpose and this user (stored with purpose ``step-up-passkey`` / ``step-up-wallet``,
spent atomically, with the passkey's counter moved on in the same transaction). It buys a
grant for ``KEYFOB_STEP_UP_TTL`` seconds, bound to the user and the session of the account
token, sent back in the ``X-Keyfob-Step-Up`` header. A bearer token alone changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import Field
from starlette.requests import HTTPConnection

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
from keyfob.core.tokens import AccessTokenClaims
from keyfob.errors import InvalidChallenge, InvalidCredential, InvalidRequest, KeyfobError
from keyfob.server.api.bearer import Claims, CurrentUser, bearer_token, current_user
from keyfob.server.api.nonce import canonical_address
from keyfob.server.infra.inputs import Body, MessageText, Text
from keyfob.server.infra.runtime import Runtime, RuntimeDep, get_runtime
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.passkey_flow import check_assertion
from keyfob.server.services.tokens import verify_account_token
from keyfob.server.services.wallet import CLOCK_SKEW, Chain, SignedMessage, verify_signature
from keyfob.store.passkeys import PASSKEY
from keyfob.store.records import PasskeyChallengeRecord, UserRecord
from keyfob.store.rows_admin import storable

HEADER = "X-Keyfob-Step-Up"
PASSKEY_PURPOSE = "step-up-passkey"
WALLET_PURPOSE = "step-up-wallet"


class StepUpOptionsRequest(Body):
    """Which credential confirms: a wallet of the account (``chain`` and ``address``), else
    the account's passkeys."""

    chain: Chain | None = None
    address: Text | None = Field(default=None, max_length=128)
    chain_id: int | None = Field(default=None, ge=1)


class StepUpOptionsOut(Body):
    """WebAuthn request options (``method`` passkey) or the message to sign (wallet)."""

    method: Literal["passkey", "wallet"]
    options: dict[str, Any] | None = None
    message: str | None = None
    expires_at: datetime


class StepUpVerifyRequest(Body):
    """The proof: a passkey's ``credential`` (``toJSON()``), or a wallet's signed message."""

    credential: dict[str, Any] | None = None
    chain: Chain | None = None
    message: MessageText | None = Field(default=None, min_length=1)
    signature: Text | None = Field(default=None, min_length=1, max_length=1024)
    public_key: Text | None = Field(default=None, max_length=256)


class StepUpGrantOut(Body):
    """The grant to send in ``X-Keyfob-Step-Up`` with credential changes, and its lifetime."""

    step_up_token: str
    expires_in: int
    method: str


def check_step_up(
    connection: HTTPConnection, runtime: Runtime, claims: AccessTokenClaims
) -> StepUpGrant:
    """The request's step-up grant, made for this user in this session and still fresh;
    :class:`StepUpRequired` (403 ``step_up_required``) otherwise."""
    return verify_step_up_grant(
        connection.headers.get(HEADER),
        key=runtime.step_up_key,
        expected_issuer=runtime.settings.issuer,
        expected_audience=runtime.settings.account_audience,
        expected_subject=claims.subject,
        expected_session_id=claims.session_id,
        now=runtime.now(),
    )


async def stepped_up_user(
    connection: HTTPConnection, claims: Claims, user: CurrentUser, runtime: RuntimeDep
) -> UserRecord:
    """FastAPI dependency: the signed-in user, once the request's step-up grant is checked."""
    check_step_up(connection, runtime, claims)
    return user


async def optional_stepped_up_user(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> UserRecord | None:
    """FastAPI dependency: None without an Authorization header; else the user of the account
    token, once the step-up grant is checked (passkey registration adds to an account then)."""
    if "authorization" not in connection.headers:
        return None
    claims = await verify_account_token(runtime, bearer_token(connection))
    user = await current_user(claims, runtime)
    check_step_up(connection, runtime, claims)
    return user


SteppedUpUser = Annotated[UserRecord, Depends(stepped_up_user)]
OptionalSteppedUpUser = Annotated[UserRecord | None, Depends(optional_stepped_up_user)]


async def step_up_options(
    body: StepUpOptionsRequest, user: CurrentUser, runtime: RuntimeDep
) -> StepUpOptionsOut:
    """A challenge for a credential of the signed-in account (account token): WebAuthn request
    options for its passkeys, or for ``{chain, address}`` of one of its wallets the step-up
    message to sign (a sign-in message with Request ID ``keyfob-step-up``)."""
    settings, now = runtime.settings, runtime.now()
    if body.chain is None:
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
        return StepUpOptionsOut(method="passkey", options=options.options, expires_at=expires_at)
    if body.address is None:
        raise InvalidRequest("Name the wallet that confirms: chain and address.")
    address = canonical_address(body.chain, body.address)
    if not any((i.kind, i.address) == (body.chain, address) for i in user.identities):
        raise InvalidCredential("This wallet is not a sign-in method of your account.")
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    expires_at = now + timedelta(seconds=settings.nonce_ttl)
    nonce = new_nonce()
    await _remember(runtime, nonce, WALLET_PURPOSE, user.id, expires_at)
    message = SignInMessage(
        chain=body.chain,
        domain=settings.domain,
        address=address,
        statement=STEP_UP_STATEMENT,
        uri=settings.origin,
        version="1",
        chain_id=_chain_id(runtime, body.chain, body.chain_id),
        nonce=nonce,
        issued_at=format_time(now),
        expiration_time=format_time(expires_at),
        request_id=STEP_UP_REQUEST_ID,
    )
    return StepUpOptionsOut(method="wallet", message=message.to_text(), expires_at=expires_at)


async def step_up_verify(
    body: StepUpVerifyRequest,
    request: Request,
    claims: Claims,
    user: CurrentUser,
    runtime: RuntimeDep,
) -> StepUpGrantOut:
    """Check the proof against a credential of this account, spend its challenge, and grant
    ``KEYFOB_STEP_UP_TTL`` seconds of credential changes to this session. Audited."""
    method = PASSKEY if body.credential is not None else (body.chain or "unknown")
    ip = client_ip(request)
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
    assert claims.session_id is not None  # account tokens always name their session
    ttl = runtime.settings.step_up_ttl
    grant = issue_step_up_grant(
        key=runtime.step_up_key,
        issuer=runtime.settings.issuer,
        audience=runtime.settings.account_audience,
        subject=user.id,
        session_id=claims.session_id,
        method=method,
        now=runtime.now(),
        ttl=ttl,
    )
    await record_event(
        runtime, "step_up", user_id=user.id, ip=ip, method=method, session=claims.session_id
    )
    return StepUpGrantOut(step_up_token=grant, expires_in=ttl, method=method)


async def _verify_passkey(runtime: Runtime, user: UserRecord, credential: dict[str, Any]) -> None:
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
            "This is not a step-up message (Request ID keyfob-step-up): ask "
            "POST /auth/step-up/options for one."
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
