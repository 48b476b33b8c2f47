"""Seed 000's challenge: a short-lived HS256 JWT the client signs with its wallet.

The JWT carries ``iss``, ``aud``, ``jti``, ``iat`` and ``exp`` and is signed with a key the caller
derives for this purpose alone (``derive_key(secret, "challenge")``), so a challenge can never be
mistaken for an access token and vice versa. Making it single-use is the server's job: it burns
``jti`` in the store after the wallet signature verifies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from keyfob.core.encoding import b64url_encode
from keyfob.errors import ConfigurationError, InvalidNonce

_ALG = "HS256"
_REQUIRED = ["iss", "aud", "jti", "iat", "exp"]
_OPTIONS: Any = {
    "require": _REQUIRED,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}
_MAX_LENGTH = 4096
_JWT = jwt.PyJWT()


@dataclass(frozen=True)
class Challenge:
    """An issued (or verified) challenge JWT and its id and validity window."""

    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime


def issue_challenge(
    *, key: bytes, issuer: str, audience: str, now: datetime, ttl: int = 300
) -> Challenge:
    """Sign a new challenge valid for ``ttl`` seconds from ``now``."""
    _check_key(key)
    if ttl <= 0:
        raise ConfigurationError("A challenge needs a positive lifetime.")
    issued_at = int(_timestamp(now))
    jti = b64url_encode(secrets.token_bytes(16))
    payload = {"iss": issuer, "aud": audience, "jti": jti, "iat": issued_at, "exp": issued_at + ttl}
    token = _JWT.encode(payload, key, algorithm=_ALG, headers={"typ": "JWT"})
    return Challenge(token, jti, _datetime(issued_at), _datetime(issued_at + ttl))


def verify_challenge(
    token: str, *, key: bytes, expected_issuer: str, expected_audience: str, now: datetime
) -> Challenge:
    """Check a challenge's signature, issuer, audience and lifetime (:class:`InvalidNonce`)."""
    _check_key(key)
    if not isinstance(token, str) or not token or len(token) > _MAX_LENGTH:
        raise InvalidNonce("The challenge is missing or too long.")
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise InvalidNonce("The challenge is not a well-formed JWT.") from exc
    typ = header.get("typ")
    if header.get("alg") != _ALG or not isinstance(typ, str) or typ.upper() != "JWT":
        raise InvalidNonce("The challenge is not one of ours (wrong alg or typ).")
    try:
        payload = _JWT.decode(
            token,
            key,
            algorithms=[_ALG],
            options=_OPTIONS,
            issuer=expected_issuer,
            audience=expected_audience,
        )
    except jwt.InvalidSignatureError as exc:
        raise InvalidNonce("The challenge's signature does not verify: it is not ours.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidNonce(f"The challenge has no {exc.claim} claim.") from exc
    except (jwt.InvalidIssuerError, jwt.InvalidAudienceError) as exc:
        raise InvalidNonce("The challenge was issued for another server.") from exc
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidNonce("The challenge is malformed.") from exc
    issued_at, expires_at, jti = payload["iat"], payload["exp"], payload["jti"]
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in (issued_at, expires_at)):
        raise InvalidNonce("The challenge's iat and exp are not valid times.")
    if not isinstance(jti, str) or not jti:
        raise InvalidNonce("The challenge's jti is not a string.")
    moment = _timestamp(now)
    if moment >= expires_at:
        raise InvalidNonce("The challenge has expired; ask for a new one.")
    if issued_at > moment:
        raise InvalidNonce("The challenge was issued in the future; check the clocks.")
    return Challenge(token, jti, _datetime(issued_at), _datetime(expires_at))


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < 32:
        raise ConfigurationError("The challenge key must be 32 bytes (use derive_key).")


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    return now.timestamp()


def _datetime(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidNonce("The challenge's times are out of range.") from exc
