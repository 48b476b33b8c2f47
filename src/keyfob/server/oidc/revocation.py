"""Token revocation (RFC 7009) and introspection (RFC 7662), for authenticated clients.

A client may revoke and introspect only its own tokens. Revoking either token of a grant
revokes the grant: its refresh tokens stop rotating and its access tokens stop passing
userinfo and introspection. Revocation answers 200 for tokens it does not know (§2.2).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.core.tokens import REFRESH_TOKEN_PREFIX, hash_refresh_token
from keyfob.errors import InvalidRequest, KeyfobError
from keyfob.server.oidc.client_auth import authenticated_client
from keyfob.server.oidc.errors import NO_STORE, oauth_errors
from keyfob.server.oidc.params import form_params, single
from keyfob.server.oidc.provider import get_provider
from keyfob.server.oidc.userinfo import verified_access_token
from keyfob.server.services.audit import client_ip, record_event


def _token(params: list[tuple[str, str]]) -> str:
    token = single(params, "token")
    if not token:
        raise InvalidRequest("Send the token to revoke or introspect as token=.")
    single(params, "token_type_hint")  # refused if repeated; any hint is otherwise ignored
    # (RFC 7009 §2.2.1: the token is looked up whatever the hint says)
    return token


@oauth_errors
async def revocation_endpoint(request: Request) -> Response:
    """``POST /oidc/revoke``."""
    provider = get_provider(request)
    runtime = provider.runtime
    params = await form_params(request)
    client = await authenticated_client(request, provider, params)
    token = _token(params)
    now = runtime.now()
    revoked = False
    if token.startswith(REFRESH_TOKEN_PREFIX):
        revoked = await runtime.store.revoke_refresh_token(
            hash_refresh_token(token), client_id=client.id, now=now
        )
    else:
        try:
            claims = await verified_access_token(provider, token)
        except KeyfobError:
            claims = None
        if claims is not None and claims.client_id == client.id:
            revoked = await runtime.store.revoke_grant(claims.grant_id, now=now)
    if revoked:
        await record_event(
            runtime, "oidc.token_revoked", client_id=client.id, ip=client_ip(request)
        )
    return Response(status_code=200, headers=NO_STORE)


@oauth_errors
async def introspection_endpoint(request: Request) -> Response:
    """``POST /oidc/introspect``: ``{"active": false}`` unless the token is live and the
    asking client's own."""
    provider = get_provider(request)
    runtime = provider.runtime
    params = await form_params(request)
    client = await authenticated_client(request, provider, params)
    token = _token(params)
    body: dict[str, Any] = {"active": False}
    if token.startswith(REFRESH_TOKEN_PREFIX):
        grant = await runtime.store.grant_of_refresh_token(
            hash_refresh_token(token), now=runtime.now()
        )
        if grant is not None and grant.client_id == client.id:
            body = {
                "active": True,
                "client_id": client.id,
                "scope": " ".join(grant.scope),
                "token_type": "refresh_token",
                "iss": provider.issuer,
            }
    else:
        try:
            claims = await verified_access_token(provider, token)
        except KeyfobError:
            claims = None
        if claims is not None and claims.client_id == client.id:
            body = {
                "active": True,
                "client_id": claims.client_id,
                "scope": " ".join(claims.scope),
                "sub": claims.subject,
                "aud": claims.audience,
                "iss": provider.issuer,
                "exp": claims.expires_at,
                "iat": claims.issued_at,
                "jti": claims.jti,
                "token_type": "Bearer",
            }
    return JSONResponse(body, headers=NO_STORE)
