"""The bodies the JSON API builds from records: a user, the tokens of a sign-in or refresh."""

from __future__ import annotations

from keyfob.server.api.schemas import IdentityOut, TokenResponse, UserOut
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.lifetimes import access_token_lifetime
from keyfob.server.services.tokens import mint_access_token
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
