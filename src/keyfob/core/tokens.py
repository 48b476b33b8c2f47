"""Access tokens (RFC 9068 ``at+jwt``) and opaque refresh tokens.

Verification follows RFC 8725: the key is picked by ``kid`` and the algorithm comes from the
key, never from the token; ``typ`` must be ``at+jwt`` so that no other JWT keyfob signs (a
challenge, for instance) can pass as an access token, and a token with ``client_id`` or ``gid``
is an OpenID Connect client's (:mod:`keyfob.core.rfc9068`), refused here. Times are checked
against the ``now`` passed in, not the machine clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from keyfob.core.encoding import b64url_encode
from keyfob.core.keys import SigningKey
from keyfob.errors import ConfigurationError, InvalidToken

REFRESH_TOKEN_PREFIX = "kfr_"
MAX_TOKEN_LENGTH = 8192
_TYP = "at+jwt"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_REQUIRED = ("iss", "aud", "sub", "iat", "exp", "jti")
_OPTIONS: Any = {
    "require": list(_REQUIRED),
    "verify_signature": True,
    "verify_iss": True,
    "verify_aud": True,
    # Clock checks are ours, against the ``now`` argument.
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}
_JWT = jwt.PyJWT()


@dataclass(frozen=True)
class AccessTokenClaims:
    """The verified claims of an access token."""

    issuer: str
    audience: str
    subject: str
    issued_at: int
    expires_at: int
    jti: str
    amr: tuple[str, ...]
    session_id: str | None
    chain: str | None
    address: str | None


def issue_access_token(
    *,
    key: SigningKey,
    issuer: str,
    audience: str,
    subject: str,
    session_id: str | None,
    amr: tuple[str, ...],
    chain: str | None,
    address: str | None,
    now: datetime,
    ttl: int,
) -> tuple[str, AccessTokenClaims]:
    """Sign an ``at+jwt`` access token valid for ``ttl`` seconds from ``now``."""
    if key.private_key is None:
        raise ConfigurationError(f"The key {key.kid!r} can verify but not sign.")
    if ttl <= 0:
        raise ConfigurationError("An access token needs a positive lifetime.")
    issued_at = int(_timestamp(now))
    claims = AccessTokenClaims(
        issuer=issuer,
        audience=audience,
        subject=subject,
        issued_at=issued_at,
        expires_at=issued_at + ttl,
        jti=b64url_encode(secrets.token_bytes(16)),
        amr=tuple(amr),
        session_id=session_id,
        chain=chain,
        address=address,
    )
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.jti,
        "amr": list(claims.amr),
    }
    optional = {"sid": session_id, "chain": chain, "address": address}
    payload.update({name: value for name, value in optional.items() if value is not None})
    headers = {"typ": _TYP, "kid": key.kid}
    token = _JWT.encode(payload, key.private_key, algorithm=key.alg, headers=headers)
    return token, claims


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWT, parsed but not verified; :class:`InvalidToken` if bad.

    Cheaper than PyJWT's own parse (which also decodes payload and signature), and PyJWT still
    parses the whole token strictly when it verifies.
    """
    head, dot, rest = token.partition(".") if isinstance(token, str) else ("", "", "")
    if not dot or rest.count(".") != 1 or not _B64URL.fullmatch(head):
        raise InvalidToken("The access token is not a well-formed JWT.")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, RecursionError) as exc:
        raise InvalidToken("The access token is not a well-formed JWT.") from exc
    if not isinstance(header, dict):
        raise InvalidToken("The access token is not a well-formed JWT.")
    return header


def unverified_kid(token: str) -> str | None:
    """The ``kid`` header of a token, unverified (to decide whether to fetch keys); else None."""
    try:
        kid = unverified_header(token).get("kid")
    except InvalidToken:
        return None
    return kid if isinstance(kid, str) else None


def verify_access_token(
    token: str,
    *,
    keys: Mapping[str, SigningKey],
    expected_issuer: str,
    expected_audience: str,
    now: datetime,
    leeway: int = 0,
) -> AccessTokenClaims:
    """Verify an access token's header, signature and claims; :class:`InvalidToken` if wrong."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("The access token is missing or too long.")
    header = unverified_header(token)
    typ = header.get("typ")
    # RFC 9068 section 4 accepts the media type with or without "application/".
    if not isinstance(typ, str) or typ.lower() not in (_TYP, "application/" + _TYP):
        raise InvalidToken("The token is not an access token (its typ is not at+jwt).")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken("The access token was signed with a key we do not know.")
    if header.get("alg") != key.alg:
        raise InvalidToken(f"The access token's algorithm is not {key.alg}, as its key requires.")
    payload = _decode(token, key, expected_issuer, expected_audience)
    if "client_id" in payload or "gid" in payload:
        # An OpenID Connect client's token (keyfob.core.rfc9068), signed by the same keyring.
        raise InvalidToken("The token is an OpenID Connect client's access token, not keyfob's.")
    return _claims(payload, expected_audience, now=_timestamp(now), leeway=leeway)


def _decode(token: str, key: SigningKey, issuer: str, audience: str) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = _JWT.decode(
            token,
            key.verify_key,
            algorithms=[key.alg],
            options=_OPTIONS,
            issuer=issuer,
            audience=audience,
        )
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken("The access token's signature does not verify.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"The access token has no {exc.claim} claim.") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("The access token was issued by someone else.") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("The access token is meant for another audience.") from exc
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidToken("The access token is malformed.") from exc
    return payload


def _claims(
    payload: dict[str, Any], audience: str, *, now: float, leeway: int
) -> AccessTokenClaims:
    issued_at, expires_at = payload["iat"], payload["exp"]
    if not _is_int(issued_at) or not _is_int(expires_at) or expires_at <= issued_at:
        raise InvalidToken("The access token's iat and exp are not valid times.")
    if now >= expires_at + leeway:
        raise InvalidToken("The access token has expired.")
    if issued_at > now + leeway:
        raise InvalidToken("The access token was issued in the future; check the clocks.")
    not_before = payload.get("nbf")
    if not_before is not None and (not _is_int(not_before) or not_before > now + leeway):
        raise InvalidToken("The access token is not valid yet.")
    strings = {name: payload[name] for name in ("sub", "jti")}
    strings.update({name: payload.get(name) for name in ("sid", "chain", "address")})
    for name, value in strings.items():
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidToken(f"The access token's {name} claim must be a non-empty string.")
    amr = payload.get("amr", [])
    if not isinstance(amr, list) or not all(isinstance(m, str) for m in amr):
        raise InvalidToken("The access token's amr claim is not a list of strings.")
    return AccessTokenClaims(
        issuer=payload["iss"],
        audience=audience,
        subject=strings["sub"],
        issued_at=issued_at,
        expires_at=expires_at,
        jti=strings["jti"],
        amr=tuple(amr),
        session_id=strings["sid"],
        chain=strings["chain"],
        address=strings["address"],
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    return now.timestamp()


def new_refresh_token() -> str:
    """A new opaque refresh token: ``kfr_`` and 32 random bytes in base64url (256 bits)."""
    return REFRESH_TOKEN_PREFIX + b64url_encode(secrets.token_bytes(32))


def hash_refresh_token(token: str) -> str:
    """SHA-256 hex of a refresh token: what the store keeps instead of the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
