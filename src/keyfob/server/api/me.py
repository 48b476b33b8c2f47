"""``GET /auth/me``, the JWKS and the access-token denylist."""

from __future__ import annotations

from typing import Any

from keyfob.server.api.bearer import CurrentUser
from keyfob.server.api.responses import user_out
from keyfob.server.api.schemas import UserOut
from keyfob.server.infra.runtime import RuntimeDep


async def me(user: CurrentUser) -> UserOut:
    """The signed-in user and their sign-in methods."""
    return user_out(user)


async def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    """The public keys that verify keyfob's access tokens and OpenID Connect's ID tokens
    (an HS256 token key is never published)."""
    now = runtime.now()
    if runtime.publish_keys is not None:  # the OpenID Provider's keys too
        return await runtime.publish_keys(now)
    return (await runtime.keyring.refresh_if_stale(now=now)).jwks


async def denylist(runtime: RuntimeDep) -> dict[str, Any]:
    """Access tokens revoked before their expiry, for apps to consult: ``revoked`` by ``jti``
    (the token a logout was sent with), ``revoked_sessions`` by ``sid`` (every token of a
    session ended by logout, refresh-token reuse, a removed sign-in method, an admin or the
    account page), each until ``exp``; ``access_token_ttl`` is how long a token lives, so how
    stale an app may let its copy of this list become."""
    now = runtime.now()
    denied = await runtime.store.denied_tokens(now=now)
    sessions = await runtime.store.denied_sessions(now=now)
    return {
        "revoked": [{"jti": jti, "exp": int(exp.timestamp())} for jti, exp in denied],
        "revoked_sessions": [{"sid": sid, "exp": int(exp.timestamp())} for sid, exp in sessions],
        "access_token_ttl": runtime.settings.access_token_ttl,
    }


async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}
