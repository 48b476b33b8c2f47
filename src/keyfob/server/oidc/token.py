"""The token endpoint (RFC 6749 §3.2, §4.1.3, §6; OIDC Core §3.1.3; RFC 9700 §2.2.2, §4.14).

``authorization_code``: the code is spent atomically; a second use revokes the grant the
first use started (and so every token from it). ``refresh_token``: rotated on every use,
bound to its client; a reused refresh token revokes its whole family. Every answer is
``no-store``.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.core.rfc6749 import (
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    check_scope,
    parse_token_request,
)
from keyfob.core.rfc7636 import verify_code_verifier
from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.errors import InvalidGrant
from keyfob.server.oidc.client_auth import authenticated_client
from keyfob.server.oidc.errors import NO_STORE, oauth_errors
from keyfob.server.oidc.grants import grant_end, mint_tokens, refresh_expiry, wants_refresh
from keyfob.server.oidc.params import form_params
from keyfob.server.oidc.provider import Provider, get_provider
from keyfob.server.services.audit import client_ip, record_event
from keyfob.store.records import ClientRecord
from keyfob.store.records_oidc import OidcGrantRecord


@oauth_errors
async def token_endpoint(request: Request) -> Response:
    """``POST /oidc/token``."""
    provider = get_provider(request)
    params = await form_params(request)
    client = await authenticated_client(request, provider, params)
    grant = parse_token_request(params)
    if isinstance(grant, AuthorizationCodeGrant):
        body = await exchange_code(request, provider, client, grant)
    else:
        body = await refresh(request, provider, client, grant)
    return JSONResponse(body, headers=NO_STORE)


async def exchange_code(
    request: Request, provider: Provider, client: ClientRecord, grant: AuthorizationCodeGrant
) -> dict[str, object]:
    """Spend the code and answer the grant's first tokens."""
    runtime = provider.runtime
    now = runtime.now()
    code_hash = hash_refresh_token(grant.code)
    use = await runtime.store.consume_code(code_hash, now=now)
    if use.reused:
        await record_event(
            runtime,
            "oidc.code_reused",
            client_id=client.id,
            ip=client_ip(request),
            revoked_grant=use.revoked_grant_id,
        )
        raise InvalidGrant(
            "This authorization code was already used; the tokens issued from it are revoked."
        )
    code = use.code
    if code is None:
        raise InvalidGrant("The authorization code is unknown or expired.")
    if code.client_id != client.id:
        await record_event(
            runtime, "oidc.code_wrong_client", client_id=client.id, ip=client_ip(request)
        )
        raise InvalidGrant("The authorization code was issued to another client.")
    if grant.redirect_uri != code.redirect_uri:
        raise InvalidGrant("The redirect_uri differs from the one of the authorization request.")
    verify_code_verifier(
        grant.code_verifier,
        expected_challenge=code.code_challenge,
        expected_method=None if code.code_challenge is None else "S256",
    )
    if code.code_challenge is None and client.client_type == "public":
        raise InvalidGrant("A public client must use PKCE.")
    # A disabled user's codes are dropped, and start_grant refuses one of theirs consumed
    # before they were disabled: no read of the user here.
    scope = code.scope
    record = OidcGrantRecord(
        id=str(uuid.uuid4()),
        client_id=client.id,
        user_id=code.user_id,
        sid=code.sid,
        scope=code.scope,
        resource=code.resource,
        auth_time=code.auth_time,
        amr=code.amr,
        created_at=now,
        expires_at=grant_end(provider, now),
        revoked_at=None,
    )
    tokens, refresh_hash = await mint_tokens(
        provider,
        client,
        record,
        scope=scope,
        now=now,
        nonce=code.nonce,
        refresh=wants_refresh(client, scope),
    )
    await runtime.store.start_grant(
        code_hash,
        record,
        refresh_token_hash=refresh_hash,
        refresh_expires_at=refresh_expiry(provider, client, now),
        now=now,
    )
    return tokens.response()


async def refresh(
    request: Request, provider: Provider, client: ClientRecord, grant: RefreshTokenGrant
) -> dict[str, object]:
    """Rotate the refresh token and answer fresh tokens of its grant (for the scopes asked,
    which must be among the grant's)."""
    runtime = provider.runtime
    now = runtime.now()
    new_token = new_refresh_token()
    outcome = await runtime.store.rotate_oidc_refresh_token(
        hash_refresh_token(grant.refresh_token),
        new_hash=hash_refresh_token(new_token),
        client_id=client.id,
        now=now,
        expires_at=refresh_expiry(provider, client, now),
    )
    if outcome.kind == "reused":
        await record_event(
            runtime,
            "oidc.refresh_reused",
            client_id=client.id,
            ip=client_ip(request),
            revoked_grant=None if outcome.grant is None else outcome.grant.id,
        )
        raise InvalidGrant("This refresh token was already used; its grant is revoked.")
    if outcome.kind == "wrong_client":
        raise InvalidGrant("This refresh token was issued to another client.")
    record = outcome.grant
    if outcome.kind != "rotated" or record is None:
        raise InvalidGrant("The refresh token is unknown, expired or revoked.")
    scope = record.scope
    if grant.scope is not None:
        scope = check_scope(grant.scope, expected_allowed=record.scope)
    # Only a live grant rotates, and disabling a user revokes their grants in the same
    # transaction: no read of the user here.
    tokens, _ = await mint_tokens(provider, client, record, scope=scope, now=now, refresh=False)
    return {**tokens.response(), "refresh_token": new_token}
