"""``private_key_jwt`` client authentication: RFC 7523 section 3 as OpenID Connect Core 1.0
section 9 profiles it.

The client signs a short-lived JWT with a key of the JWKS it registered and sends it as
``client_assertion`` with ``client_assertion_type`` :data:`JWT_BEARER`. keyfob checks it the
way :mod:`keyfob.core.tokens` checks its own tokens (RFC 8725): the key is picked by ``kid``
and the algorithm comes from the key (RS256, ES256 or EdDSA), never from the header; ``none``
and the HMAC algorithms (``client_secret_jwt``, or a public key used as an HMAC secret) are
refused. ``iss`` and ``sub`` are the client_id, ``aud`` names the token endpoint or the issuer,
``exp`` lies in the near future and ``jti`` is required: the server marks it used, atomically,
until ``expires_at``, which is what stops a replay. ``exp`` gets no leeway, so that window is
exactly the assertion's life; ``iat`` and ``nbf`` get ``leeway_seconds`` for clocks running
ahead. Every failure is :class:`InvalidClient`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from keyfob.core.encoding import b64url_decode
from keyfob.core.keys import SigningKey, jwk_thumbprint, verification_key_from_jwk
from keyfob.errors import ConfigurationError, InvalidClient, KeyfobError

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LENGTH = 8192
MAX_JTI_LENGTH = 256
ALGORITHMS = ("EdDSA", "ES256", "RS256")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_OPTIONS: Any = {
    "require": ["iss", "sub", "aud", "exp", "jti"],
    "verify_signature": True,
    # Every claim below is checked by hand, against the arguments and ``now``.
    "verify_aud": False,
    "verify_iss": False,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}
_JWT = jwt.PyJWT()


@dataclass(frozen=True)
class ClientAssertion:
    """A verified client assertion: the server stores ``jti`` as used until ``expires_at``."""

    client_id: str
    jti: str
    expires_at: int
    kid: str


def assertion_client_id(assertion: str) -> str:
    """The client an assertion claims to come from, **unverified**: its ``sub``, which must
    equal its ``iss``. Only for finding the client (and its JWKS) to verify it with."""
    _, payload = _parts(assertion)
    issuer, subject = payload.get("iss"), payload.get("sub")
    if not isinstance(subject, str) or not subject or issuer != subject:
        raise InvalidClient("The client assertion's iss and sub must both be the client_id.")
    return subject


def verify_client_assertion(
    assertion: str,
    *,
    jwks: Mapping[str, Any],
    expected_client_id: str,
    expected_audiences: Sequence[str],
    now: datetime,
    max_lifetime_seconds: int = 300,
    leeway_seconds: int = 30,
) -> ClientAssertion:
    """Verify a ``private_key_jwt`` assertion against the client's registered ``jwks``
    (``{"keys": [...]}``); ``expected_audiences`` are the token endpoint URL and the issuer.

    Raises :class:`InvalidClient` with a sentence saying what is wrong.
    """
    if not expected_audiences or max_lifetime_seconds <= 0 or leeway_seconds < 0:
        raise ConfigurationError("Client assertions need audiences and a positive lifetime.")
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    header, _ = _parts(assertion)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise InvalidClient("The client assertion must be signed (alg none is refused).")
    if alg.upper().startswith("HS"):
        raise InvalidClient(
            "The client assertion is signed with a shared secret (HMAC); keyfob accepts only "
            "private_key_jwt, signed with RS256, ES256 or EdDSA."
        )
    key = _key(jwks, header.get("kid"))
    if alg != key.alg:
        raise InvalidClient(f"The client assertion's alg must be {key.alg}, as its key requires.")
    try:
        payload: dict[str, Any] = _JWT.decode(
            assertion, key.verify_key, algorithms=[key.alg], options=_OPTIONS
        )
    except jwt.InvalidSignatureError as exc:
        raise InvalidClient("The client assertion's signature does not verify.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidClient(f"The client assertion has no {exc.claim} claim.") from exc
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidClient("The client assertion is malformed.") from exc
    _check_parties(payload, expected_client_id, expected_audiences)
    expires_at = _check_times(payload, now.timestamp(), max_lifetime_seconds, leeway_seconds)
    jti = payload["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise InvalidClient("The client assertion's jti must be a string of 1 to 256 characters.")
    return ClientAssertion(
        client_id=expected_client_id, jti=jti, expires_at=expires_at, kid=key.kid
    )


def _parts(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, parsed but not verified."""
    if not isinstance(assertion, str) or not assertion or len(assertion) > MAX_ASSERTION_LENGTH:
        raise InvalidClient("The client assertion is missing or longer than 8192 characters.")
    segments = assertion.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(part) for part in segments):
        raise InvalidClient("The client assertion is not a signed JWT (JWS compact form).")
    return _json(segments[0]), _json(segments[1])


def _json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment), object_pairs_hook=_no_duplicates)
    except (KeyfobError, ValueError, RecursionError) as exc:
        raise InvalidClient("The client assertion is not a well-formed JWT.") from exc
    if not isinstance(value, dict):
        raise InvalidClient("The client assertion is not a well-formed JWT.")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a duplicated member; RFC 7515 section 5.2 lets
    # a JWS with duplicate header names be refused.
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("duplicate member")
    return value


def _key(jwks: Mapping[str, Any], kid: object) -> SigningKey:
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list | tuple) or not all(isinstance(k, Mapping) for k in keys):
        raise InvalidClient("The client's registered JWKS is not a set of keys.")
    if kid is None:
        if len(keys) != 1:
            raise InvalidClient(
                "The client assertion has no kid, and the client registered several keys."
            )
        candidates = list(keys)
    elif isinstance(kid, str) and kid:
        candidates = [jwk for jwk in keys if jwk.get("kid") == kid]
    else:
        raise InvalidClient("The client assertion's kid must be a non-empty string.")
    if len(candidates) != 1:
        raise InvalidClient(
            "No key the client registered has this kid."
            if not candidates
            else "Several keys the client registered share this kid."
        )
    jwk = dict(candidates[0])
    try:
        if "kid" not in jwk:  # a JWKS of one key may leave it unnamed: name it by thumbprint
            jwk["kid"] = jwk_thumbprint(jwk)
        key = verification_key_from_jwk(jwk)
    except KeyfobError as exc:
        raise InvalidClient(
            "The client's registered key cannot verify assertions: it is malformed or of a "
            "type keyfob does not support."
        ) from exc
    if key.alg not in ALGORITHMS:
        raise InvalidClient("The client's registered key is not an RS256, ES256 or EdDSA key.")
    return key


def _check_parties(payload: Mapping[str, Any], client_id: str, audiences: Sequence[str]) -> None:
    if payload["iss"] != client_id or payload["sub"] != client_id:
        raise InvalidClient("The client assertion's iss and sub must both be the client_id.")
    audience = payload["aud"]
    named = [audience] if isinstance(audience, str) else audience
    if not isinstance(named, list) or not all(isinstance(a, str) for a in named):
        raise InvalidClient("The client assertion's aud must be a string or list of strings.")
    if not any(a in audiences for a in named):
        raise InvalidClient(
            "The client assertion's aud must name this server's token endpoint or issuer."
        )


def _check_times(payload: Mapping[str, Any], now: float, lifetime: int, leeway: int) -> int:
    expires_at, issued_at, not_before = payload["exp"], payload.get("iat"), payload.get("nbf")
    for name, value in (("exp", expires_at), ("iat", issued_at), ("nbf", not_before)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidClient(f"The client assertion's {name} must be an integer time.")
    if expires_at <= now:
        raise InvalidClient("The client assertion has expired.")
    if expires_at > now + lifetime + leeway or (
        issued_at is not None and expires_at - issued_at > lifetime
    ):
        raise InvalidClient(
            f"The client assertion lives too long: keyfob accepts at most {lifetime} seconds."
        )
    if issued_at is not None and issued_at > now + leeway:
        raise InvalidClient("The client assertion was issued in the future; check the clocks.")
    if not_before is not None and not_before > now + leeway:
        raise InvalidClient("The client assertion is not valid yet (nbf).")
    return int(expires_at)
