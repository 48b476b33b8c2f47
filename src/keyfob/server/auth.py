"""Issuing tokens for a signed-in user, and checking the Bearer token of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from keyfob.core.tokens import (
    AccessTokenClaims,
    issue_access_token,
    unverified_kid,
    verify_access_token,
)
from keyfob.errors import Forbidden, InvalidToken, TokenRevoked
from keyfob.server.lifetimes import access_token_lifetime
from keyfob.server.runtime import Runtime, get_runtime
from keyfob.server.schemas import IdentityOut, TokenResponse, UserOut
from keyfob.store.records import IdentityRecord, SessionRecord, UserRecord


def user_out(user: UserRecord) -> UserOut:
    """The API view of a user."""
    return UserOut(
        id=user.id,
        username=user.username,
        created_at=user.created_at,
        last_login=user.last_login,
        identities=[
            IdentityOut(
                id=identity.id,
                chain=identity.kind,
                address=identity.address,
                public_key=identity.public_key.hex() if identity.public_key else None,
                created_at=identity.created_at,
                last_used_at=identity.last_used_at,
            )
            for identity in user.identities
        ],
    )


def session_identity(user: UserRecord, session: SessionRecord) -> IdentityRecord | None:
    """The identity a session was signed in with, if it still exists."""
    return next((i for i in user.identities if i.id == session.identity_id), None)


def mint_access_token(
    runtime: Runtime, user: UserRecord, session: SessionRecord, *, amr: tuple[str, ...]
) -> str:
    """Sign an access token for ``user`` in ``session`` (its ``exp`` never passes the session's
    end: :class:`~keyfob.errors.SessionExpired` once it has ended)."""
    identity = session_identity(user, session)
    if identity is not None and identity.kind == "passkey":
        identity = None  # chain and address claims describe wallets only
    token, _ = issue_access_token(
        key=runtime.keyring.current.current,
        issuer=runtime.settings.issuer,
        audience=runtime.settings.audience,
        subject=user.id,
        session_id=session.id,
        amr=amr,
        chain=identity.kind if identity else None,
        address=identity.address if identity else None,
        now=runtime.now(),
        ttl=access_token_lifetime(runtime, session),
    )
    return token


def token_response(
    runtime: Runtime, user: UserRecord, session: SessionRecord, refresh_token: str
) -> TokenResponse:
    """The body of a successful sign-in or refresh."""
    return TokenResponse(
        access_token=mint_access_token(runtime, user, session, amr=session.amr),
        refresh_token=refresh_token,
        expires_in=access_token_lifetime(runtime, session),
        user=user_out(user),
    )


def _bearer_token(connection: HTTPConnection) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("A Bearer access token is required in the Authorization header.")
    return token.strip()


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
    if await runtime.store.is_token_denied(claims.jti):
        raise TokenRevoked("This access token was revoked by a logout.")
    if claims.session_id is not None:
        session = await runtime.store.get_session(claims.session_id)
        if session is None or session.revoked_at is not None:
            raise TokenRevoked("The session of this access token has ended.")
    return claims


async def current_claims(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> AccessTokenClaims:
    """FastAPI dependency: the verified claims of the request's Bearer token."""
    return await verify_bearer(runtime, _bearer_token(connection))


async def current_user(
    claims: Annotated[AccessTokenClaims, Depends(current_claims)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> UserRecord:
    """FastAPI dependency: the signed-in user (401 if gone, 403 if disabled)."""
    user = await runtime.store.get_user(claims.subject)
    if user is None:
        raise InvalidToken("The user of this access token no longer exists.")
    if user.disabled:
        raise Forbidden("This account is disabled.")
    return user


async def optional_user(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> UserRecord | None:
    """FastAPI dependency: the signed-in user if a Bearer token is sent (checked as strictly
    as :func:`current_user`), else None."""
    if "authorization" not in connection.headers:
        return None
    claims = await verify_bearer(runtime, _bearer_token(connection))
    return await current_user(claims, runtime)


Claims = Annotated[AccessTokenClaims, Depends(current_claims)]
CurrentUser = Annotated[UserRecord, Depends(current_user)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
OptionalUser = Annotated[UserRecord | None, Depends(optional_user)]
