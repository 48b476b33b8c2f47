"""``POST /auth/login``: verify a signed sign-in message, consume its nonce, issue tokens."""

from __future__ import annotations

import json

from keyfob.core.amr import wallet_amr
from keyfob.core.challenge import verify_challenge
from keyfob.core.nimiq import verify_nimiq_challenge_signature
from keyfob.core.session_keys import SessionPublicKey, parse_session_key, thumbprint_from_resources
from keyfob.core.signin_message import VerifiedSignIn
from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.errors import InvalidRequest, InvalidSessionKey, LegacyFlowDisabled
from keyfob.server.api.responses import token_response
from keyfob.server.api.schemas import LoginRequest, TokenResponse
from keyfob.server.infra.client_address import Caller
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import failures_audited, sign_in_event
from keyfob.server.services.devices import device_seen
from keyfob.server.services.lifetimes import first_refresh_expiry, session_key_expiry
from keyfob.server.services.wallet import nonce_spend, verify_signature
from keyfob.store import NonceSpend
from keyfob.store.records import AuditEvent, SessionDevice, SessionKeyRecord


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


async def sign_in(runtime: Runtime, body: LoginRequest, caller: Caller) -> TokenResponse:
    """Verify the signed message (or seed 000 challenge), burn its nonce, and issue tokens.

    The sign-in is written to the audit log in its same transaction, a failure separately; the
    session remembers the caller's device and network."""
    ip = caller.ip
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
            device=await device_seen(caller),
        )


async def start_session(
    runtime: Runtime,
    verified: VerifiedSignIn,
    *,
    spend: NonceSpend,
    amr: tuple[str, ...],
    session_key: SessionPublicKey | None = None,
    audit: AuditEvent | None = None,
    device: SessionDevice | None = None,
) -> TokenResponse:
    """In one transaction burn the nonce, create (or find) the user and open a session (seen on
    ``device``) with a refresh token; then issue the tokens."""
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
        device=device,
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
