"""App session keys (seed 001): fresh access tokens for a signed timestamp; list and revoke."""

from __future__ import annotations

import json

from fastapi import Request

from keyfob.core.session_keys import parse_session_key, verify_session_key_proof
from keyfob.errors import Forbidden, InvalidSessionKey, NotFound
from keyfob.server.api.bearer import Claims, CurrentUser
from keyfob.server.api.schemas import (
    AccessTokenResponse,
    SessionKeyOut,
    SessionKeyTokenRequest,
)
from keyfob.server.api.step_up import check_step_up
from keyfob.server.infra.runtime import Runtime, RuntimeDep
from keyfob.server.services.lifetimes import access_token_lifetime, session_end
from keyfob.server.services.tokens import mint_access_token
from keyfob.store.records import SessionKeyRecord
from keyfob.store.rows_admin import storable


async def mint_for_session_key(
    runtime: Runtime, body: SessionKeyTokenRequest
) -> AccessTokenResponse:
    """Check the key's proof over a fresh timestamp, advance its clock, and mint a token."""
    store, now = runtime.store, runtime.now()
    record = await store.get_session_key(body.thumbprint)
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        raise InvalidSessionKey("This session key is unknown, expired or revoked; sign in again.")
    verify_session_key_proof(
        parse_session_key(record.jwk),
        signature=body.signature,
        timestamp_ms=body.timestamp,
        expected_domain=runtime.settings.domain,
        now=now,
    )
    used = await store.use_session_key(body.thumbprint, timestamp_ms=body.timestamp, now=now)
    if used is None:
        raise InvalidSessionKey(
            "This timestamp is not later than the last one accepted for this key, or the key's "
            "session has ended."
        )
    session = await store.get_session(used.session_id)
    user = await store.get_user(used.user_id)
    # A key stored before its session's end was capped (or under a longer max age) dies here.
    if session is None or user is None or session_end(runtime.settings, session) <= now:
        raise InvalidSessionKey("The session of this key has ended; sign in again.")
    if user.disabled:
        raise Forbidden("This account is disabled.")
    token = mint_access_token(runtime, user, session, amr=(*session.amr, "session_key"))
    return AccessTokenResponse(
        access_token=token, expires_in=access_token_lifetime(runtime, session)
    )


def _out(record: SessionKeyRecord) -> SessionKeyOut:
    return SessionKeyOut(
        thumbprint=record.thumbprint,
        jwk=json.loads(record.jwk),
        created_at=record.created_at,
        expires_at=record.expires_at,
        last_used_at=None,
    )


async def list_session_keys(user: CurrentUser, runtime: RuntimeDep) -> list[SessionKeyOut]:
    """The signed-in user's live app session keys."""
    records = await runtime.store.list_session_keys(user.id, now=runtime.now())
    return [_out(record) for record in records]


async def revoke_session_key(
    thumbprint: str, request: Request, claims: Claims, user: CurrentUser, runtime: RuntimeDep
) -> None:
    """Revoke one of the signed-in user's session keys: one of this session's with the account
    token, one of another session's with a step-up grant too."""
    if not storable(thumbprint, 128):
        raise NotFound("No live session key of yours has this thumbprint.")
    record = await runtime.store.get_session_key(thumbprint)
    if record is not None and record.user_id == user.id and record.session_id != claims.session_id:
        check_step_up(request, runtime, claims)
    if not await runtime.store.revoke_session_key(user.id, thumbprint, now=runtime.now()):
        raise NotFound("No live session key of yours has this thumbprint.")
