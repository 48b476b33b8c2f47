"""The token a client app receives after hosted sign-in (seed 003): HS256 with its secret.

It carries the seed's ``userId`` claim and the registered claims a verifier should check:
``sub`` (the same id), ``aud`` (the client id), ``iss`` (keyfob), ``iat``, ``exp``, ``jti``.
The seed's own Node.js check, ``jwt.verify(token, secretKey, {algorithms: ['HS256']})``,
accepts it; :func:`verify_client_token` is the stricter Python check.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from keyfob.errors import InvalidToken

_SECRET_BYTES = 32  # 256 bits


@dataclass(frozen=True, slots=True)
class ClientTokenClaims:
    """The verified claims of a client token."""

    user_id: str
    client_id: str
    issuer: str
    issued_at: datetime
    expires_at: datetime
    jti: str


def new_client_secret() -> str:
    """A client secret: 256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def issue_client_token(
    secret: str, *, issuer: str, client_id: str, user_id: str, now: datetime, ttl_seconds: int
) -> str:
    """Sign a client token for ``user_id`` valid ``ttl_seconds`` from ``now``."""
    issued = int(now.timestamp())
    claims = {
        "userId": user_id,
        "sub": user_id,
        "aud": client_id,
        "iss": issuer,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})


def verify_client_token(
    token: str, secret: str, *, expected_issuer: str, expected_client_id: str, now: datetime
) -> ClientTokenClaims:
    """Check a client token: HS256 only, signature, ``iss``, ``aud``, ``exp``, ``iat``."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=expected_client_id,
            issuer=expected_issuer,
            options={"require": ["userId", "sub", "aud", "iss", "iat", "exp", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"The client token does not verify: {error}.") from error
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if expires <= now or claims["userId"] != claims["sub"]:
        raise InvalidToken("The client token has expired or is inconsistent.")
    return ClientTokenClaims(
        user_id=str(claims["userId"]),
        client_id=expected_client_id,
        issuer=expected_issuer,
        issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        expires_at=expires,
        jti=str(claims["jti"]),
    )
