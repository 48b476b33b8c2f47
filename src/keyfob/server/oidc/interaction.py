"""An authorization request waiting for the user: sign-in, then consent, then the code.

The validated request travels as a short-lived HS256 JWT (under a key derived for this purpose
alone) in the URLs of the sign-in and consent pages, so any instance can continue it and
nothing is stored until a code is issued. ``created`` (milliseconds) pins when the request
arrived: a ``prompt=login`` or ``max_age`` request only continues with a sign-in made after it.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime
from typing import Any

import jwt

from keyfob.core.oidc_authorize import AuthorizationRequest
from keyfob.core.rfc7636 import CodeChallenge
from keyfob.errors import InvalidRequest

LIFETIME_SECONDS = 600
_TYP = "keyfob-interaction+jwt"
_AUDIENCE = "keyfob:oidc-interaction"
_JWT = jwt.PyJWT()


@dataclasses.dataclass(frozen=True)
class Interaction:
    """An authorization request in progress: the request, when it came, and whether the user
    must sign in anew (``prompt=login``, ``prompt=select_account`` or ``max_age`` exceeded)."""

    request: AuthorizationRequest
    created: int  # milliseconds since the epoch
    fresh_login: bool
    id: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(12))


def seal_interaction(interaction: Interaction, *, key: bytes, issuer: str) -> str:
    """The interaction as a compact JWT good for :data:`LIFETIME_SECONDS`."""
    request = dataclasses.asdict(interaction.request)
    claims = {
        "iss": issuer,
        "aud": _AUDIENCE,
        "iat": interaction.created // 1000,
        "exp": interaction.created // 1000 + LIFETIME_SECONDS,
        "ms": interaction.created,
        "jti": interaction.id,
        "req": {name: _jsonable(value) for name, value in request.items()},
        "fresh": interaction.fresh_login,
    }
    return _JWT.encode(claims, key, algorithm="HS256", headers={"typ": _TYP})


def open_interaction(token: str, *, key: bytes, issuer: str, now: datetime) -> Interaction:
    """The interaction ``token`` carries; :class:`InvalidRequest` when it is forged, for
    another server, or older than :data:`LIFETIME_SECONDS` (the user starts again)."""
    expired = InvalidRequest(
        "This sign-in request has expired or is not valid; go back to the app and start again."
    )
    if not isinstance(token, str) or len(token) > 8192:
        raise expired
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != _TYP:
            raise expired
        claims = _JWT.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=_AUDIENCE,
            issuer=issuer,
            options={"verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise expired from None
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
        raise expired
    fields = {field.name: field for field in dataclasses.fields(AuthorizationRequest)}
    values = {name: _restore(value) for name, value in claims["req"].items() if name in fields}
    if isinstance(values.get("code_challenge"), dict):
        values["code_challenge"] = CodeChallenge(**values["code_challenge"])
    return Interaction(
        request=AuthorizationRequest(**values),
        created=int(claims["ms"]),
        fresh_login=bool(claims.get("fresh")),
        id=claims["jti"],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return {"set": sorted(value)}
    if isinstance(value, tuple):
        return list(value)
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"set"} and isinstance(value["set"], list):
        return frozenset(value["set"])
    if isinstance(value, list):
        return tuple(value)
    return value
