"""``POST /auth/refresh`` and ``POST /auth/logout``: rotating refresh tokens, ending sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keyfob.core.tokens import hash_refresh_token, new_refresh_token
from keyfob.errors import Forbidden, InvalidToken
from keyfob.server.api.bearer import AnyClaims
from keyfob.server.api.responses import token_response
from keyfob.server.api.schemas import LogoutRequest, RefreshRequest, TokenResponse
from keyfob.server.infra.client_address import Caller
from keyfob.server.infra.runtime import Runtime, RuntimeDep
from keyfob.server.services.devices import ip_area
from keyfob.server.services.lifetimes import deny_until, max_age


async def refresh_tokens(runtime: Runtime, body: RefreshRequest, caller: Caller) -> TokenResponse:
    """Rotate the refresh token and issue a new pair for its session (a use of it, from the
    caller's network)."""
    store, settings, now = runtime.store, runtime.settings, runtime.now()
    new_token = new_refresh_token()
    session = await store.rotate_refresh_token(
        token_hash=hash_refresh_token(body.refresh_token),
        new_token_hash=hash_refresh_token(new_token),
        now=now,
        new_expires_at=now + timedelta(seconds=settings.refresh_token_ttl),
        grace=timedelta(seconds=settings.refresh_grace),
        max_age=max_age(settings),
        deny_until=deny_until(runtime),
        ip_area=ip_area(caller.ip),
    )
    user = await store.get_user(session.user_id)
    if user is None:
        raise InvalidToken("The user of this session no longer exists.")
    if user.disabled:
        raise Forbidden("This account is disabled.")
    return token_response(runtime, user, session, new_token)


async def logout(claims: AnyClaims, runtime: RuntimeDep, body: LogoutRequest | None = None) -> None:
    """End the session: revoke its refresh tokens and session keys, denylist this access token
    (an app's access token or the account token: ending one's own session only takes away) and,
    for apps, by ``sid``, every other access token of the session."""
    store, now, until = runtime.store, runtime.now(), deny_until(runtime)
    await store.deny_token(claims.jti, expires_at=datetime.fromtimestamp(claims.expires_at, UTC))
    if claims.session_id is not None:
        await store.revoke_session(claims.session_id, now=now, deny_until=until)
    if body is not None and body.refresh_token:
        session = await store.session_for_refresh_token(hash_refresh_token(body.refresh_token))
        if session is not None and session.user_id == claims.subject:
            await store.revoke_session(session.id, now=now, deny_until=until)
