"""The Bearer token of a request, as FastAPI dependencies: the claims or the signed-in user.

Verifying a token is :mod:`keyfob.server.services.tokens`; here it is read off the
``Authorization`` header (RFC 6750) first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from keyfob.core.tokens import AccessTokenClaims, unverified_kid
from keyfob.errors import Forbidden, InvalidToken
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.services.tokens import (
    ACCOUNT_KID,
    verify_account_token,
    verify_bearer,
)
from keyfob.store.records import UserRecord


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
