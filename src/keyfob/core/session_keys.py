"""App session keys (seed 001): a key pair the app makes in the browser, authorised at sign-in.

The sign-in message names the key by its RFC 7638 thumbprint in a resource
``urn:keyfob:session-key:<thumbprint>``; later the app proves it still holds the key by
signing ``keyfob-session-key:<domain>:<timestamp_ms>`` (WebCrypto Ed25519 or ECDSA P-256).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.core.keys import jwk_thumbprint
from keyfob.errors import (
    ConfigurationError,
    InvalidMessage,
    InvalidRequest,
    InvalidSessionKey,
    InvalidSignature,
    KeyfobError,
)

RESOURCE_PREFIX = "urn:keyfob:session-key:"
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_JWK_TEXT = 2048


@dataclass(frozen=True)
class SessionPublicKey:
    """A parsed session public key: its canonical JWK, thumbprint and signature algorithm."""

    jwk: dict[str, str]
    thumbprint: str
    alg: Literal["EdDSA", "ES256"]


def parse_session_key(jwk: Mapping[str, Any] | str) -> SessionPublicKey:
    """Accept an Ed25519 (OKP) or P-256 (EC) public JWK, as a mapping or JSON text."""
    if isinstance(jwk, str):
        if len(jwk) > _MAX_JWK_TEXT:
            raise InvalidRequest("The session key JWK is too long.")
        try:
            jwk = json.loads(jwk)
        except (ValueError, RecursionError) as exc:
            raise InvalidRequest("The session key is not JSON.") from exc
    if not isinstance(jwk, Mapping):
        raise InvalidRequest("The session key must be a JWK object.")
    if "d" in jwk:
        raise InvalidSessionKey(
            "The session key carries its private part (d): send only the public key, and never "
            "let the private key leave the device."
        )
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        x = _member(jwk, "x")
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(x)
        except ValueError as exc:
            raise InvalidSessionKey("The session key is not a valid Ed25519 key.") from exc
        return _key({"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(x)}, "EdDSA")
    if kty == "EC" and crv == "P-256":
        x, y = _member(jwk, "x"), _member(jwk, "y")
        try:
            _p256(x, y)
        except ValueError as exc:
            raise InvalidSessionKey("The session key is not a point on P-256.") from exc
        members = {"crv": "P-256", "kty": "EC", "x": b64url_encode(x), "y": b64url_encode(y)}
        return _key(members, "ES256")
    raise InvalidSessionKey("A session key must be an Ed25519 (OKP) or P-256 (EC) public JWK.")


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidRequest(f"The session key JWK has no {name!r} member.")
    raw = b64url_decode(value)
    if len(raw) != 32:
        raise InvalidSessionKey(f"The session key's {name!r} must be 32 bytes, not {len(raw)}.")
    return raw


def _key(members: dict[str, str], alg: Literal["EdDSA", "ES256"]) -> SessionPublicKey:
    # Members are re-encoded from their bytes, so one key always has one thumbprint.
    return SessionPublicKey(jwk=members, thumbprint=jwk_thumbprint(members), alg=alg)


def _p256(x: bytes, y: bytes) -> ec.EllipticCurvePublicKey:
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
    )
    return numbers.public_key()


def session_key_resource(thumbprint: str) -> str:
    """The sign-in message resource that authorises the key with this thumbprint."""
    return RESOURCE_PREFIX + thumbprint


def thumbprint_from_resources(resources: Iterable[str]) -> str | None:
    """The thumbprint a message's resources authorise: None if none, InvalidMessage if several."""
    found = [r[len(RESOURCE_PREFIX) :] for r in resources if r.startswith(RESOURCE_PREFIX)]
    if not found:
        return None
    if len(found) > 1:
        raise InvalidMessage("A sign-in message may authorise only one session key.")
    if not _THUMBPRINT.fullmatch(found[0]):
        raise InvalidMessage("The session key resource does not end in a SHA-256 thumbprint.")
    return found[0]


def session_key_proof_message(domain: str, timestamp_ms: int) -> bytes:
    """The bytes a session key signs to prove possession: ``keyfob-session-key:<domain>:<ms>``."""
    return f"keyfob-session-key:{domain}:{timestamp_ms}".encode()


def verify_session_key_proof(
    key: SessionPublicKey,
    *,
    signature: str,
    timestamp_ms: int,
    expected_domain: str,
    now: datetime,
    max_skew_ms: int = 30_000,
) -> None:
    """Check a fresh proof of possession; the server then refuses reuse of the timestamp.

    ES256 signatures are WebCrypto's raw ``r || s`` (64 bytes), not DER.
    """
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool):
        raise InvalidRequest("The session key proof's timestamp must be milliseconds (integer).")
    if abs(int(now.timestamp() * 1000) - timestamp_ms) > max_skew_ms:
        raise InvalidSessionKey(
            "The session key proof's timestamp is too far from our clock; check the device "
            "clock and sign a fresh timestamp."
        )
    try:
        raw = b64url_decode(signature)
    except KeyfobError as exc:
        raise InvalidSignature("The session key proof is not base64url.") from exc
    if len(raw) != 64:
        raise InvalidSignature("The session key proof must be a 64-byte signature.")
    message = session_key_proof_message(expected_domain, timestamp_ms)
    try:
        if key.alg == "EdDSA":
            public = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(key.jwk["x"]))
            public.verify(raw, message)
        else:
            public_ec = _p256(b64url_decode(key.jwk["x"]), b64url_decode(key.jwk["y"]))
            der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
            public_ec.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except (CryptoInvalidSignature, ValueError) as exc:
        raise InvalidSignature("The session key proof does not verify for this key.") from exc
