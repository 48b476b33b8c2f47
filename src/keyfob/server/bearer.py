"""The Bearer token of a request, as FastAPI dependencies; the API's views of users and tokens.

Verifying the token is :mod:`keyfob.server.services.tokens`; here it is read off the
``Authorization`` header and turned into claims or the signed-in user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from keyfob.core.tokens import AccessTokenClaims, unverified_kid
from keyfob.errors import Forbidden, InvalidToken
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.schemas import IdentityOut, TokenResponse, UserOut
from keyfob.server.services.lifetimes import access_token_lifetime
from keyfob.server.services.tokens import (
    ACCOUNT_KID,
    mint_access_token,
    verify_account_token,
    verify_bearer,
)
from keyfob.store.records import SessionRecord, UserRecord


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


def token_response(
    runtime: Runtime, user: UserRecord, session: SessionRecord, refresh_token: str
) -> TokenResponse:
    """The body of a successful sign-in or refresh."""
    return TokenResponse(
        access_token=mint_access_token(runtime, user, session, amr=session.amr),
        account_token=mint_access_token(runtime, user, session, amr=session.amr, account=True),
        refresh_token=refresh_token,
        expires_in=access_token_lifetime(runtime, session),
        user=user_out(user),
    )


def bearer_token(connection: HTTPConnection) -> str:
    """The token of the request's ``Authorization: Bearer`` header; :class:`InvalidToken`."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("A Bearer access token is required in the Authorization header.")
    return token.strip()


async def current_claims(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> AccessTokenClaims:
    """FastAPI dependency: the verified claims of the request's account token."""
    return await verify_account_token(runtime, bearer_token(connection))


async def any_claims(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> AccessTokenClaims:
    """FastAPI dependency: the claims of an account token or of an app's access token (for
    ``/auth/logout``, which only takes access away)."""
    token = bearer_token(connection)
    if unverified_kid(token) == ACCOUNT_KID:
        return await verify_account_token(runtime, token)
    return await verify_bearer(runtime, token)


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


Claims = Annotated[AccessTokenClaims, Depends(current_claims)]
AnyClaims = Annotated[AccessTokenClaims, Depends(any_claims)]
CurrentUser = Annotated[UserRecord, Depends(current_user)]
