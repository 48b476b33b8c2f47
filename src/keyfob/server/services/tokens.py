"""Issuing keyfob's tokens for a signed-in user, and verifying them when they come back.

Two kinds: the access token apps receive (signed with the keyring's current key) and the
account token that only keyfob's own ``/auth/*`` account endpoints take (HS256 under a key
derived from ``KEYFOB_SECRET_KEY``, see :func:`account_key`). Reading the token off a request
is the surfaces' business (:mod:`keyfob.server.api.bearer`).
"""

from __future__ import annotations

from keyfob.core.keys import SigningKey
from keyfob.core.tokens import (
    AccessTokenClaims,
    issue_access_token,
    unverified_kid,
    verify_access_token,
)
from keyfob.errors import InvalidToken, TokenRevoked
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.lifetimes import access_token_lifetime
from keyfob.store.records import IdentityRecord, SessionRecord, UserRecord


def session_identity(user: UserRecord, session: SessionRecord) -> IdentityRecord | None:
    """The identity a session was signed in with, if it still exists."""
    return next((i for i in user.identities if i.id == session.identity_id), None)


# Account tokens are signed with a key of their own, derived from KEYFOB_SECRET_KEY and never
# published or shared: no app (not even one holding the HS256 app-token key) can mint one.
ACCOUNT_KID = "keyfob-account"
ACCOUNT_TOKEN_NEEDED = (
    "This endpoint takes the account token (accountToken of the sign-in response), not the "
    "access token meant for apps."
)


def account_key(runtime: Runtime) -> SigningKey:
    """The HS256 key of account tokens (derived from the secret key for ``account-token``)."""
    secret = runtime.account_token_key
    return SigningKey(kid=ACCOUNT_KID, alg="HS256", private_key=secret, public_jwk=None)


def mint_access_token(
    runtime: Runtime,
    user: UserRecord,
    session: SessionRecord,
    *,
    amr: tuple[str, ...],
    account: bool = False,
) -> str:
    """Sign an access token for ``user`` in ``session``: for apps, or with ``account`` the
    account token that keyfob's own ``/auth/*`` account endpoints take. Its ``exp`` never passes
    the session's end (:class:`~keyfob.errors.SessionExpired` once it has ended)."""
    identity = session_identity(user, session)
    if identity is not None and identity.kind == "passkey":
        identity = None  # chain and address claims describe wallets only
    settings = runtime.settings
    token, _ = issue_access_token(
        key=account_key(runtime) if account else runtime.keyring.current.current,
        issuer=settings.issuer,
        audience=settings.account_audience if account else settings.audience,
        subject=user.id,
        session_id=session.id,
        amr=amr,
        chain=identity.kind if identity else None,
        address=identity.address if identity else None,
        now=runtime.now(),
        ttl=access_token_lifetime(runtime, session),
    )
    return token


async def verify_bearer(runtime: Runtime, token: str) -> AccessTokenClaims:
    """Verify an access token of ours: signature, claims, denylist and session."""
    now = runtime.now()
    keys = runtime.keyring.current
    kid = unverified_kid(token)
    if kid is not None and kid not in keys.by_kid:
        keys = await runtime.keyring.reload_for_unknown_kid(kid, now=now)
    claims = verify_access_token(
        token,
        keys=keys.by_kid,
        expected_issuer=runtime.settings.issuer,
        expected_audience=runtime.settings.audience,
        now=now,
    )
    return await check_live(runtime, claims)


async def check_live(runtime: Runtime, claims: AccessTokenClaims) -> AccessTokenClaims:
    """The claims, unless the token is denylisted or its session has ended (or is another
    user's)."""
    if await runtime.store.is_token_denied(claims.jti):
        raise TokenRevoked("This access token was revoked by a logout.")
    if claims.session_id is not None:
        session = await runtime.store.get_session(claims.session_id)
        if session is None or session.revoked_at is not None:
            raise TokenRevoked("The session of this access token has ended.")
        if session.user_id != claims.subject:
            raise InvalidToken("The access token's session belongs to another user.")
    return claims


async def verify_account_token(runtime: Runtime, token: str) -> AccessTokenClaims:
    """Verify an account token: signed with :func:`account_key`, ``aud`` the account audience,
    live. An app's access token (or any other JWT) gets :class:`InvalidToken` saying so."""
    if unverified_kid(token) != ACCOUNT_KID:
        raise InvalidToken(ACCOUNT_TOKEN_NEEDED)
    key = account_key(runtime)
    claims = verify_access_token(
        token,
        keys={ACCOUNT_KID: key},
        expected_issuer=runtime.settings.issuer,
        expected_audience=runtime.settings.account_audience,
        now=runtime.now(),
    )
    if claims.session_id is None:
        raise InvalidToken(ACCOUNT_TOKEN_NEEDED)
    return await check_live(runtime, claims)
