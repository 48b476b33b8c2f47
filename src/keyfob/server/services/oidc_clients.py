"""Registering a client for OpenID Connect: its settings checked, then stored.

Any client app is an OIDC client too (its seed 003 redirect flow keeps working unchanged);
:func:`configure_oidc` sets what only OIDC reads. A public client authenticates with ``none``
and must use PKCE; a pairwise client's sector is the host of its redirect URIs. A use case
(not part of the OIDC surface): ``keyfob clients add`` calls it as well as the tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from keyfob.core.keys import verification_key_from_jwk
from keyfob.core.oidc_subjects import sector_identifier
from keyfob.core.redirects import check_redirect_uri
from keyfob.core.rfc6749 import parse_scope
from keyfob.core.rfc8707 import check_resource
from keyfob.errors import InvalidRequest, NotFound
from keyfob.server.infra.runtime import Runtime
from keyfob.store.clients import CLEAR
from keyfob.store.records import ClientRecord

#: What the OpenID Provider offers (its discovery document says so too).
SCOPES = ("openid", "profile", "wallet", "email", "offline_access")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"{what} must be one of {', '.join(allowed)}.")
    return value


def _jwks(text: str) -> str:
    try:
        document = json.loads(text)
        keys = document["keys"]
        if not isinstance(keys, list) or not keys:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise InvalidRequest('The client JWKS must be JSON: {"keys": [...]}.') from None
    for jwk in keys:
        verification_key_from_jwk(jwk)
    return json.dumps(document, separators=(",", ":"))


async def configure_oidc(
    runtime: Runtime,
    client_id: str,
    *,
    public: bool = False,
    auth_method: str | None = None,
    scopes: str = "openid profile",
    post_logout_redirect_uris: Sequence[str] = (),
    subject_type: str = "public",
    id_token_alg: str = "RS256",  # noqa: S107 (an algorithm name, not a secret)
    backchannel_logout_uri: str | None = None,
    first_party: bool = False,
    issue_refresh_tokens: bool = False,
    jwks: str | None = None,
    resources: Sequence[str] = (),
    synthetic_email: bool = False,
    refresh_lifetime_minutes: int | None = None,
) -> ClientRecord:
    """Set the client's OpenID Connect settings; :class:`InvalidRequest` for a bad one."""
    client = await runtime.store.get_client(client_id)
    if client is None:
        raise NotFound("There is no such client.")
    method = auth_method or ("none" if public else "client_secret_basic")
    _choice(method, AUTH_METHODS, "The token endpoint authentication method")
    if public != (method == "none"):
        raise InvalidRequest("A public client authenticates with none, and only a public one.")
    if method == "private_key_jwt" and not jwks:
        raise InvalidRequest("private_key_jwt needs the client's public keys (a JWKS).")
    wanted = parse_scope(scopes)
    if "openid" not in wanted:
        raise InvalidRequest("An OpenID Connect client needs the openid scope.")
    for scope in wanted:
        _choice(scope, SCOPES, "Each scope")
    _choice(subject_type, ("public", "pairwise"), "The subject type")
    _choice(id_token_alg, ID_TOKEN_ALGORITHMS, "The ID token algorithm")
    sector = None
    if subject_type == "pairwise":
        sector = sector_identifier(redirect_uris=client.redirect_uris, sector_identifier_uri=None)
    if refresh_lifetime_minutes is not None and refresh_lifetime_minutes < 1:
        raise InvalidRequest("The refresh token lifetime is at least a minute.")
    updated = await runtime.store.update_client(
        client_id,
        now=runtime.now(),
        client_type="public" if public else "confidential",
        token_endpoint_auth_method=method,
        scopes=wanted,
        post_logout_redirect_uris=tuple(check_redirect_uri(u) for u in post_logout_redirect_uris),
        subject_type=subject_type,
        sector_identifier=CLEAR if sector is None else sector,
        id_token_alg=id_token_alg,
        backchannel_logout_uri=CLEAR
        if backchannel_logout_uri is None
        else check_redirect_uri(backchannel_logout_uri),
        first_party=first_party,
        issue_refresh_tokens=issue_refresh_tokens,
        jwks=CLEAR if jwks is None else _jwks(jwks),
        resources=tuple(check_resource(r) for r in resources),
        synthetic_email=synthetic_email,
        refresh_lifetime_minutes=CLEAR
        if refresh_lifetime_minutes is None
        else refresh_lifetime_minutes,
    )
    if updated is None:
        raise NotFound("There is no such client.")
    return updated
