"""The UserInfo endpoint (OIDC Core §5.3; RFC 6750 §2.1/§2.2 for the bearer token).

GET or POST; the access token comes in the ``Authorization`` header or, on a form POST, as
``access_token`` (never both). Only access tokens keyfob issued to a client for a grant that
is still live are honoured; the claims follow the grant's scopes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.core.oidc_claims import WalletClaim, userinfo_claims
from keyfob.core.rfc9068 import ClientAccessToken, verify_client_access_token
from keyfob.core.tokens import unverified_kid
from keyfob.errors import InsufficientScope, InvalidRequest, InvalidToken
from keyfob.server.oidc.errors import NO_STORE, oauth_errors
from keyfob.server.oidc.params import form_params, single
from keyfob.server.oidc.provider import Provider, get_provider
from keyfob.store.records import UserRecord


async def bearer(request: Request) -> str:
    """The request's bearer token (header, or form body of a POST)."""
    header = request.headers.get("authorization")
    from_header = header[7:].strip() if header and header[:7].lower() == "bearer " else None
    from_body = None
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        from_body = single(await form_params(request), "access_token")
    if from_header and from_body:
        raise InvalidRequest("Send the access token once: in the header or in the body.")
    token = from_header or from_body
    if not token:
        raise InvalidToken("Send an access token: Authorization: Bearer <token>.")
    return token


async def verified_access_token(provider: Provider, token: str) -> ClientAccessToken:
    """The claims of an access token keyfob issued to a client, whose grant is still live."""
    runtime = provider.runtime
    now = runtime.now()
    keys = provider.keys.verification_keys()
    kid = unverified_kid(token)
    if kid is not None and kid not in keys:
        await runtime.keyring.reload_for_unknown_kid(kid, now=now)
        keys = provider.keys.verification_keys()
    claims = verify_client_access_token(token, keys, expected_issuer=provider.issuer, now=now)
    if not await runtime.store.is_grant_active(claims.grant_id, now=now):
        raise InvalidToken("This access token was revoked.")
    return claims


def wallets_of(provider: Provider, user: UserRecord) -> list[WalletClaim]:
    """The user's wallets as the ``wallet`` scope describes them, each on the network keyfob's
    sign-in asks for (Ethereum: the first of ``KEYFOB_ETHEREUM_CHAIN_IDS``; Solana and Nimiq:
    mainnet)."""
    chain_id = provider.runtime.settings.ethereum_chain_ids[0]
    networks: dict[str, str | int] = {"ethereum": chain_id, "solana": "mainnet", "nimiq": "mainnet"}
    return [
        WalletClaim(chain=identity.kind, network=networks[identity.kind], address=identity.address)
        for identity in user.identities
        if identity.kind in networks
    ]


def synthetic_email_domain(issuer: str) -> str:
    """The domain of synthetic addresses: the issuer's host (``<host>.localdomain`` for a
    host without a dot, such as ``localhost``, which no address may end in)."""
    host = urlsplit(issuer).hostname or "localhost"
    return host if "." in host else f"{host}.localdomain"


@oauth_errors
async def userinfo_endpoint(request: Request) -> Response:
    """``GET``/``POST /oidc/userinfo``."""
    provider = get_provider(request)
    claims = await verified_access_token(provider, await bearer(request))
    if "openid" not in claims.scope:
        raise InsufficientScope("This access token was not issued with the openid scope.")
    grant = await provider.runtime.store.get_grant(claims.grant_id)
    user = None if grant is None else await provider.runtime.store.get_user(grant.user_id)
    if grant is None or user is None or user.disabled:
        raise InvalidToken("The account of this access token is gone or disabled.")
    client = await provider.runtime.store.get_client(claims.client_id)
    domain = None
    if client is not None and client.synthetic_email:
        domain = synthetic_email_domain(provider.issuer)
    body = userinfo_claims(
        subject=claims.subject,
        scopes=claims.scope,
        username=user.username,
        wallets=wallets_of(provider, user),
        synthetic_email_domain=domain,
        user_id=claims.subject,  # the synthetic email must not undo pairwise subjects
    )
    return JSONResponse(body, headers=NO_STORE)
