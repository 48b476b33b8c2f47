"""JSON Web Token Best Current Practices (RFC 8725): signing and verifying keyfob's typed JWTs.

The OpenID Connect tokens (ID tokens, RFC 9068 access tokens for clients, logout tokens) share
these rules, each given its own ``typ`` so that one can never pass as another (section 3.11):

- the key is picked by ``kid`` among keyfob's own keys, and the algorithm comes from that key,
  never from the token (section 3.1): ``alg: none`` and an HMAC ``alg`` over a public key fail;
- these tokens are verified by anyone with keyfob's JWKS, so they are signed with an asymmetric
  key only: an HS256 key (a secret shared with keyfob's apps) neither signs nor verifies them;
- the issuer is compared exactly (section 3.8); audience and times are left to each token's
  rules, with ``now`` passed in.

Failures are :class:`InvalidToken` with a sentence naming the token (``what``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from keyfob.core.keys import SigningKey
from keyfob.errors import ConfigurationError, InvalidToken

MAX_TOKEN_LENGTH = 8192
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_JWT = jwt.PyJWT()


@dataclass(frozen=True)
class VerifiedJwt:
    """A JWT whose header, signature and issuer were checked; nothing else was."""

    header: dict[str, Any]
    claims: dict[str, Any]
    key: SigningKey


def sign(key: SigningKey, claims: Mapping[str, Any], *, typ: str, what: str) -> str:
    """Sign ``claims`` with ``key`` (asymmetric, with its private part), header ``typ``, ``kid``."""
    if key.alg == "HS256":
        raise ConfigurationError(
            f"keyfob signs every {what} with an asymmetric key (RS256, ES256 or EdDSA), "
            "never with an HS256 secret."
        )
    if key.private_key is None:
        raise ConfigurationError(f"The key {key.kid!r} can verify but not sign.")
    headers = {"typ": typ, "kid": key.kid}
    return _JWT.encode(dict(claims), key.private_key, algorithm=key.alg, headers=headers)


def verify(
    token: str,
    keys: Mapping[str, SigningKey],
    *,
    typ: str,
    what: str,
    expected_issuer: str,
    required: tuple[str, ...],
) -> VerifiedJwt:
    """Check a compact JWS's ``typ`` (case-insensitive, ``application/`` optional, RFC 7515
    section 4.1.9), its key (by ``kid``, asymmetric), its ``alg`` (the key's), its signature,
    that every claim of ``required`` is present, and ``iss``."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(f"The {what} is missing or too long.")
    header = _header(token, what)
    kind = header.get("typ")
    if not isinstance(kind, str) or kind.lower().removeprefix("application/") != typ.lower():
        raise InvalidToken(f"The token's typ is not {typ}, which every {what} has.")
    alg, kid = header.get("alg"), header.get("kid")
    if alg == "none":
        raise InvalidToken(f"The {what} is not signed (alg none).")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"The {what} was signed with a key we do not know.")
    if key.alg == "HS256":
        raise InvalidToken(
            f"The {what} names a shared secret; it must be signed with a public key."
        )
    if alg != key.alg:
        raise InvalidToken(f"The {what}'s algorithm is not {key.alg}, as its key requires.")
    options: Any = {
        "require": list(required),
        "verify_signature": True,
        "verify_iss": True,
        "verify_aud": False,  # each token has its own audience rule
        "verify_exp": False,  # times are checked against ``now`` by the caller
        "verify_iat": False,
        "verify_nbf": False,
    }
    try:
        claims: dict[str, Any] = _JWT.decode(
            token, key.verify_key, algorithms=[key.alg], options=options, issuer=expected_issuer
        )
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken(f"The {what}'s signature does not verify.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"The {what} has no {exc.claim} claim.") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken(f"The {what} was issued by someone else.") from exc
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidToken(f"The {what} is malformed.") from exc
    return VerifiedJwt(header=header, claims=claims, key=key)


def _header(token: str, what: str) -> dict[str, Any]:
    head, dot, rest = token.partition(".")
    if not dot or rest.count(".") != 1 or not _B64URL.fullmatch(head):
        raise InvalidToken(f"The {what} is not a well-formed JWT.")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, RecursionError) as exc:
        raise InvalidToken(f"The {what} is not a well-formed JWT.") from exc
    if not isinstance(header, dict):
        raise InvalidToken(f"The {what} is not a well-formed JWT.")
    return header


def timestamp(now: datetime) -> int:
    """Whole seconds since the epoch of a timezone-aware ``now`` (JWT NumericDate)."""
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ConfigurationError("Times must be timezone-aware datetimes.")
    return int(now.timestamp())


def numeric_date(claims: Mapping[str, Any], name: str, what: str) -> int:
    """The integer NumericDate claim ``name`` (not a bool, float or string)."""
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidToken(f"The {what}'s {name} claim is not a valid time.")
    return value


def optional_string(claims: Mapping[str, Any], name: str, what: str) -> str | None:
    """The claim ``name`` if present: a non-empty string, else :class:`InvalidToken`."""
    value = claims.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidToken(f"The {what}'s {name} claim must be a non-empty string.")
    return value


def string(claims: Mapping[str, Any], name: str, what: str) -> str:
    """The required claim ``name``: a non-empty string, else :class:`InvalidToken`."""
    value = optional_string(claims, name, what)
    if value is None:
        raise InvalidToken(f"The {what} has no {name} claim.")
    return value


def audiences(claims: Mapping[str, Any], what: str) -> tuple[str, ...]:
    """The ``aud`` claim as a tuple: one string, or a non-empty list of non-empty strings."""
    value = claims.get("aud")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise InvalidToken(f"The {what}'s aud claim is not a string or a list of strings.")
    if not all(isinstance(item, str) and item for item in items):
        raise InvalidToken(f"The {what}'s aud claim is not a string or a list of strings.")
    return tuple(items)


def string_list(claims: Mapping[str, Any], name: str, what: str) -> tuple[str, ...]:
    """The optional list-of-strings claim ``name`` (``amr``, say) as a tuple; () when absent."""
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidToken(f"The {what}'s {name} claim is not a list of strings.")
    return tuple(value)
