"""Client authentication at the token, revocation and introspection endpoints (RFC 6749
§2.3, OIDC Core §9): ``client_secret_basic``, ``client_secret_post``, ``private_key_jwt``,
and ``none`` for public clients (which must then prove PKCE).

A client uses exactly the method it registered. Secrets are compared in constant time;
a client assertion's ``jti`` is spent once (replays are refused until it expires).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from keyfob.core.rfc6749 import authenticate_client, parse_client_authentication, secret_matches
from keyfob.core.rfc7523 import verify_client_assertion
from keyfob.errors import InvalidClient
from keyfob.server.oidc.params import Params
from keyfob.server.oidc.provider import Provider
from keyfob.server.services.clients import client_secret
from keyfob.store.records import ClientRecord

_FAILED = "Client authentication failed."


async def authenticated_client(
    request: Request, provider: Provider, params: Params
) -> ClientRecord:
    """The client the request authenticates as; :class:`InvalidClient` (401) otherwise."""
    header = request.headers.get("authorization")
    presented = parse_client_authentication(params, authorization_header=header)
    client = await provider.runtime.store.get_client(presented.client_id)
    if client is None:
        raise InvalidClient(_FAILED)
    method = authenticate_client(presented, expected_method=client.token_endpoint_auth_method)
    if method in ("client_secret_basic", "client_secret_post"):
        if not secret_matches(presented.secret, client_secret(provider.runtime, client)):
            raise InvalidClient(_FAILED)
    elif method == "private_key_jwt":
        await _check_assertion(provider, client, presented.assertion or "")
    return client


async def _check_assertion(provider: Provider, client: ClientRecord, assertion: str) -> None:
    if not client.jwks:
        raise InvalidClient("This client has no registered keys for private_key_jwt.")
    now = provider.runtime.now()
    verified = verify_client_assertion(
        assertion,
        jwks=json.loads(client.jwks),
        expected_client_id=client.id,
        expected_audiences=(provider.endpoint("/oidc/token"), provider.issuer),
        now=now,
    )
    expires = datetime.fromtimestamp(verified.expires_at, UTC)
    key = f"client-assertion:{client.id}:{verified.jti}"
    keep_until = max(expires, now + timedelta(seconds=1))
    if not await provider.runtime.store.mark_used(key, expires_at=keep_until):
        raise InvalidClient("This client assertion was already used.")
