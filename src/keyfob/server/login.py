"""``POST /auth/login``: verify a signed sign-in message, consume its nonce, issue tokens."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from keyfob.core.amr import wallet_amr
from keyfob.core.challenge import verify_challenge
from keyfob.core.eip4361 import verify_ethereum_sign_in
from keyfob.core.nimiq import verify_nimiq_challenge_signature, verify_nimiq_sign_in
from keyfob.core.nonces import verify_signed_nonce
from keyfob.core.session_keys import SessionPublicKey, parse_session_key, thumbprint_from_resources
from keyfob.core.signin_message import VerifiedSignIn
from keyfob.core.solana import verify_solana_sign_in
from keyfob.core.step_up import STEP_UP_REQUEST_ID
from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.errors import InvalidNonce, InvalidRequest, InvalidSessionKey, LegacyFlowDisabled
from keyfob.server.audit import client_ip, failures_audited, sign_in_event
from keyfob.server.auth import token_response
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.lifetimes import first_refresh_expiry, session_key_expiry
from keyfob.server.schemas import LoginRequest, SignedMessage, TokenResponse, json_response
from keyfob.store import NonceSpend
from keyfob.store.records import AuditEvent, NonceRecord, SessionKeyRecord

router = APIRouter(tags=["wallet sign-in"])

# How far a client's clock may run ahead of ours when it writes "Issued At".
CLOCK_SKEW = timedelta(seconds=60)
# A nonce as keyfob issues them (EIP-4361's 8 or more letters and digits, within its column):
# anything else in a signed message, which its signer chose, is never looked up.
STORED_NONCE = re.compile(r"[A-Za-z0-9]{8,128}")


def verify_signature(runtime: Runtime, body: SignedMessage) -> VerifiedSignIn:
    """Run the chain's verify step with our domain, origin and chain ids as the expectations."""
    settings = runtime.settings
    now = runtime.now()
    common = {"expected_domain": settings.domain, "expected_origin": settings.origin, "now": now}
    if body.chain == "ethereum":
        return verify_ethereum_sign_in(
            body.message,
            body.signature,
            expected_chain_ids=settings.ethereum_chain_ids,
            **common,  # type: ignore[arg-type]
        )
    if body.chain == "solana":
        return verify_solana_sign_in(body.message, body.signature, **common)  # type: ignore[arg-type]
    if body.public_key is None:
        raise InvalidRequest("A Nimiq sign-in needs the publicKey the Hub returned.")
    return verify_nimiq_sign_in(body.message, body.signature, body.public_key, **common)  # type: ignore[arg-type]


def is_challenge(body: LoginRequest) -> bool:
    """Seed 000's flow: a Nimiq signature over a challenge JWT rather than a sign-in message."""
    return body.chain == "nimiq" and body.message.startswith("eyJ") and body.message.count(".") == 2


async def challenge_spend(
    runtime: Runtime, body: LoginRequest
) -> tuple[VerifiedSignIn, NonceSpend]:
    """Check the challenge JWT and the Keyguard signature over it; its ``jti`` is to be burnt.

    Refused (``legacy_flow_disabled``) unless ``KEYFOB_LEGACY_NIMIQ_CHALLENGE=true``."""
    if not runtime.settings.legacy_nimiq_challenge:
        raise LegacyFlowDisabled()
    if body.public_key is None:
        raise InvalidRequest("A Nimiq sign-in needs the publicKey the Hub returned.")
    challenge = verify_challenge(
        body.message,
        key=runtime.challenge_key,
        expected_issuer=runtime.settings.issuer,
        expected_audience=challenge_audience(runtime),
        now=runtime.now(),
    )
    verified = verify_nimiq_challenge_signature(body.message, body.signature, body.public_key)
    spend = NonceSpend(used_key=f"challenge:{challenge.jti}", used_until=challenge.expires_at)
    return verified, spend


def challenge_audience(runtime: Runtime) -> str:
    """Challenges carry their own audience, so they can never pass as access tokens."""
    return f"{runtime.settings.issuer}/auth/challenge"


def nonce_spend(runtime: Runtime, verified: VerifiedSignIn) -> NonceSpend:
    """How the message's nonce is to be burnt, and what the nonce must match when it is."""
    assert verified.message is not None
    message = verified.message
    if message.request_id == STEP_UP_REQUEST_ID:
        raise InvalidNonce(
            "This message confirms an account change (a step-up); it signs nobody in."
        )
    if runtime.settings.nonce_mode == "signed":
        signed = verify_signed_nonce(
            message.nonce, key=runtime.nonce_key, expected_chain=verified.chain, now=runtime.now()
        )
        _check_issued_at(
            message.issued_at_time, issued_at=signed.issued_at, expires_at=signed.expires_at
        )
        return NonceSpend(used_key=f"nonce:{message.nonce}", used_until=signed.expires_at)

    if not STORED_NONCE.fullmatch(message.nonce):
        raise InvalidNonce("This nonce was not issued here.")

    def check(record: NonceRecord) -> None:
        if record.chain != verified.chain:
            raise InvalidNonce(f"This nonce was issued for {record.chain}, not {verified.chain}.")
        if record.address is not None and record.address != verified.address:
            raise InvalidNonce("This nonce was issued for another address.")
        _check_issued_at(
            message.issued_at_time, issued_at=record.issued_at, expires_at=record.expires_at
        )

    return NonceSpend(nonce=message.nonce, check=check)


def _check_issued_at(moment: datetime, *, issued_at: datetime, expires_at: datetime) -> None:
    if not issued_at - CLOCK_SKEW <= moment <= expires_at:
        raise InvalidNonce("The message's Issued At lies outside the life of its nonce.")


def authorised_session_key(body: LoginRequest, verified: VerifiedSignIn) -> SessionPublicKey | None:
    """The app session key the signed message authorises, which must be the one sent along."""
    resources = verified.message.resources if verified.message else ()
    thumbprint = thumbprint_from_resources(resources)
    if body.session_key is None:
        if thumbprint is not None:
            raise InvalidSessionKey("The message authorises a session key; send it as sessionKey.")
        return None
    key = parse_session_key(body.session_key)
    if thumbprint != key.thumbprint:
        raise InvalidSessionKey(
            "The signed message does not authorise this session key: it must carry the resource "
            "urn:keyfob:session-key:<thumbprint>."
        )
    return key


async def sign_in(runtime: Runtime, body: LoginRequest, ip: str | None = None) -> TokenResponse:
    """Verify the signed message (or seed 000 challenge), burn its nonce, and issue tokens.

    The sign-in is written to the audit log in its own transaction; a failure separately."""
    async with failures_audited(runtime, body.chain, ip=ip):
        if is_challenge(body):
            verified, spend = await challenge_spend(runtime, body)
        else:
            verified = verify_signature(runtime, body)
            spend = nonce_spend(runtime, verified)
        return await start_session(
            runtime,
            verified,
            spend=spend,
            amr=wallet_amr(),
            session_key=authorised_session_key(body, verified),
            audit=sign_in_event(runtime, verified.chain, ip=ip),
        )


@router.post("/auth/login", response_model=TokenResponse, response_model_by_alias=True)
async def login(
    body: LoginRequest, request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> Response:
    """Sign in with a wallet signature; the first sign-in creates the user."""
    return json_response(await sign_in(runtime, body, client_ip(request)))


async def start_session(
    runtime: Runtime,
    verified: VerifiedSignIn,
    *,
    spend: NonceSpend,
    amr: tuple[str, ...],
    session_key: SessionPublicKey | None = None,
    audit: AuditEvent | None = None,
) -> TokenResponse:
    """In one transaction burn the nonce, create (or find) the user and open a session with a
    refresh token; then issue the tokens."""
    store, settings, now = runtime.store, runtime.settings, runtime.now()
    refresh_token = new_refresh_token()
    outcome = await store.complete_sign_in(
        spend=spend,
        kind=verified.chain,
        address=verified.address,
        public_key=verified.public_key,
        amr=amr,
        refresh_token_hash=hash_refresh_token(refresh_token),
        now=now,
        refresh_expires_at=first_refresh_expiry(settings, now),
        audit=audit,
    )
    user, session = outcome.user, outcome.session
    assert session is not None  # a refresh token hash was given, so a session was opened
    if session_key is not None:
        await store.add_session_key(
            SessionKeyRecord(
                thumbprint=session_key.thumbprint,
                user_id=user.id,
                session_id=session.id,
                jwk=json.dumps(session_key.jwk, separators=(",", ":")),
                created_at=now,
                expires_at=session_key_expiry(settings, session, now),
                last_timestamp_ms=0,
                revoked_at=None,
            )
        )
    return token_response(runtime, user, session, refresh_token)
