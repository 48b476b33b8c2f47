"""Tests for keyfob.core.session_keys: session-key JWKs, thumbprints and proofs of possession."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.core.keys import jwk_thumbprint
from keyfob.core.session_keys import (
    SessionPublicKey,
    parse_session_key,
    session_key_proof_message,
    session_key_resource,
    thumbprint_from_resources,
    verify_session_key_proof,
)
from keyfob.errors import InvalidMessage, InvalidRequest, InvalidSessionKey, InvalidSignature

# Made by Node.js 20's WebCrypto (globalThis.crypto.subtle), exactly as a browser app does it:
# generateKey, exportKey("jwk", publicKey), then sign() over
# "keyfob-session-key:localhost:8000:1763788800000" (ECDSA: {hash: "SHA-256"}, raw r||s).
DOMAIN = "localhost:8000"
TIMESTAMP_MS = 1763788800000
WEBCRYPTO_ED25519: dict[str, Any] = {
    "jwk": {
        "key_ops": ["verify"],
        "ext": True,
        "crv": "Ed25519",
        "x": "lsIYpyx_Zag-KWw8pfYmELD5ATrdKejQk9tYYaJPtzM",
        "kty": "OKP",
        "alg": "Ed25519",
    },
    "signature": "v9TNiquir2MQ0VDGfz9nq9c78PCF8URwi1mzwk20C3v45DubHV3fpaqFwhst8Ag4"
    "AyaL1wbevRafzq0k5xa_Dw",
}
WEBCRYPTO_P256: dict[str, Any] = {
    "jwk": {
        "key_ops": ["verify"],
        "ext": True,
        "kty": "EC",
        "x": "6jKZrmwN65x4E00gvmdfnJaXwXRggj3QMNVLxWUE-SA",
        "y": "CXbCyjlnQZDD43OVhxS-s2Kh2tZGOYji6_-1-B24em8",
        "crv": "P-256",
    },
    "signature": "WLo1vtet9ddM2Q1VVUhvlKcghSvpMTlIuioTMGmwTQ2LWBFnUohgsVd41DJZn3jA"
    "82zd26ztkdxjVzveNmet5A",
}
NOW = datetime.fromtimestamp(TIMESTAMP_MS / 1000, UTC)


@pytest.mark.parametrize(
    ("vector", "alg", "members"),
    [
        (WEBCRYPTO_ED25519, "EdDSA", {"crv", "kty", "x"}),
        (WEBCRYPTO_P256, "ES256", {"crv", "kty", "x", "y"}),
    ],
    ids=["ed25519", "p256"],
)
def test_webcrypto_key_parses_and_proof_verifies(
    vector: dict[str, Any], alg: str, members: set[str]
) -> None:
    key = parse_session_key(vector["jwk"])
    assert key.alg == alg
    assert set(key.jwk) == members  # key_ops, ext and alg are dropped
    assert key.thumbprint == jwk_thumbprint(vector["jwk"])
    assert parse_session_key(json.dumps(vector["jwk"])) == key
    verify_session_key_proof(
        key,
        signature=vector["signature"],
        timestamp_ms=TIMESTAMP_MS,
        expected_domain=DOMAIN,
        now=NOW + timedelta(seconds=29),
    )


def test_proof_message_layout() -> None:
    assert session_key_proof_message("app.example.com", 1700000000123) == (
        b"keyfob-session-key:app.example.com:1700000000123"
    )


def test_resources_round_trip() -> None:
    key = parse_session_key(WEBCRYPTO_P256["jwk"])
    resource = session_key_resource(key.thumbprint)
    assert resource == "urn:keyfob:session-key:" + key.thumbprint
    assert thumbprint_from_resources(["https://example.com/terms", resource]) == key.thumbprint
    assert thumbprint_from_resources(["https://example.com/terms"]) is None
    assert thumbprint_from_resources([]) is None


@pytest.mark.parametrize(
    "resources",
    [
        [session_key_resource("A" * 43), session_key_resource("B" * 43)],
        [session_key_resource("too-short")],
        [session_key_resource("A" * 42 + "=")],
    ],
    ids=["two-keys", "short-thumbprint", "bad-character"],
)
def test_resources_refused(resources: list[str]) -> None:
    with pytest.raises(InvalidMessage):
        thumbprint_from_resources(resources)


def test_one_key_has_one_thumbprint_whatever_the_encoding() -> None:
    # Padded base64url decodes to the same bytes: the parsed JWK is re-encoded canonically.
    padded = {**WEBCRYPTO_ED25519["jwk"], "x": WEBCRYPTO_ED25519["jwk"]["x"] + "="}
    assert parse_session_key(padded) == parse_session_key(WEBCRYPTO_ED25519["jwk"])


ED_JWK: dict[str, Any] = WEBCRYPTO_ED25519["jwk"]
EC_JWK: dict[str, Any] = WEBCRYPTO_P256["jwk"]

PARSE_NEGATIVE: list[tuple[str, Any, type[Exception], str]] = [
    (
        "private-ed25519",
        {**ED_JWK, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
        InvalidSessionKey,
        "never",
    ),
    ("private-p256", {**EC_JWK, "d": "AAAA"}, InvalidSessionKey, "private"),
    ("rsa", {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, InvalidSessionKey, "Ed25519"),
    ("p384", {**EC_JWK, "crv": "P-384"}, InvalidSessionKey, "P-256"),
    ("x25519", {**ED_JWK, "crv": "X25519"}, InvalidSessionKey, "Ed25519"),
    ("ed25519-x-short", {**ED_JWK, "x": ED_JWK["x"][:-4]}, InvalidSessionKey, "32 bytes"),
    ("p256-y-long", {**EC_JWK, "y": EC_JWK["y"] + "AAAA"}, InvalidSessionKey, "32 bytes"),
    ("p256-not-on-curve", {**EC_JWK, "y": EC_JWK["x"]}, InvalidSessionKey, "P-256"),
    ("x-missing", {"kty": "OKP", "crv": "Ed25519"}, InvalidRequest, "'x'"),
    ("x-not-string", {**ED_JWK, "x": 5}, InvalidRequest, "'x'"),
    ("x-not-base64url", {**ED_JWK, "x": "a+b/" * 11}, InvalidRequest, "base64url"),
    ("not-json", "{nope", InvalidRequest, "not JSON"),
    ("json-array", "[1, 2]", InvalidRequest, "JWK object"),
    ("too-long", "{" + " " * 3000 + "}", InvalidRequest, "too long"),
    ("number", 5, InvalidRequest, "JWK object"),
]


@pytest.mark.parametrize(
    ("jwk", "error", "reason"),
    [(j, e, r) for _, j, e, r in PARSE_NEGATIVE],
    ids=[n for n, *_ in PARSE_NEGATIVE],
)
def test_parse_refuses(jwk: Any, error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        parse_session_key(jwk)
    assert reason in str(info.value)


ED_KEY = parse_session_key(ED_JWK)
EC_KEY = parse_session_key(EC_JWK)


def _resign_high_s() -> str:
    """The same P-256 proof with s replaced by n - s: still valid ECDSA (WebCrypto accepts it)."""
    raw = b64url_decode(WEBCRYPTO_P256["signature"])
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    s = int.from_bytes(raw[32:], "big")
    return b64url_encode(raw[:32] + (order - s).to_bytes(32, "big"))


def test_high_s_p256_signature_is_still_a_valid_proof() -> None:
    verify_session_key_proof(
        EC_KEY,
        signature=_resign_high_s(),
        timestamp_ms=TIMESTAMP_MS,
        expected_domain=DOMAIN,
        now=NOW,
    )


def test_fresh_p256_proof_from_cryptography_in_raw_form() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    key = parse_session_key(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    )
    der = private.sign(session_key_proof_message(DOMAIN, 5), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    moment = datetime.fromtimestamp(0.005, UTC)
    verify_session_key_proof(
        key, signature=b64url_encode(raw), timestamp_ms=5, expected_domain=DOMAIN, now=moment
    )
    with pytest.raises(InvalidSignature):  # DER is not what WebCrypto sends
        verify_session_key_proof(
            key, signature=b64url_encode(der), timestamp_ms=5, expected_domain=DOMAIN, now=moment
        )


OTHER_ED = ed25519.Ed25519PrivateKey.generate()

PROOF_NEGATIVE: list[
    tuple[str, SessionPublicKey, Callable[[], dict[str, Any]], type[Exception], str]
] = [
    (
        "ed-wrong-domain",
        ED_KEY,
        lambda: {"expected_domain": "evil.example.com"},
        InvalidSignature,
        "does not verify",
    ),
    (
        "ec-wrong-domain",
        EC_KEY,
        lambda: {"expected_domain": "evil.example.com"},
        InvalidSignature,
        "does not verify",
    ),
    (
        "ed-wrong-timestamp",
        ED_KEY,
        lambda: {"timestamp_ms": TIMESTAMP_MS + 1},
        InvalidSignature,
        "does not verify",
    ),
    (
        "ec-signature-for-ed-key",
        ED_KEY,
        lambda: {"signature": WEBCRYPTO_P256["signature"]},
        InvalidSignature,
        "does not verify",
    ),
    (
        "ed-signature-for-ec-key",
        EC_KEY,
        lambda: {"signature": WEBCRYPTO_ED25519["signature"]},
        InvalidSignature,
        "does not verify",
    ),
    (
        "other-ed-key",
        ED_KEY,
        lambda: {
            "signature": b64url_encode(
                OTHER_ED.sign(session_key_proof_message(DOMAIN, TIMESTAMP_MS))
            )
        },
        InvalidSignature,
        "does not verify",
    ),
    ("too-old", ED_KEY, lambda: {"now": NOW + timedelta(seconds=31)}, InvalidSessionKey, "clock"),
    (
        "from-the-future",
        EC_KEY,
        lambda: {"now": NOW - timedelta(seconds=31)},
        InvalidSessionKey,
        "clock",
    ),
    ("huge-timestamp", EC_KEY, lambda: {"timestamp_ms": 10**400}, InvalidSessionKey, "clock"),
    (
        "timestamp-string",
        EC_KEY,
        lambda: {"timestamp_ms": str(TIMESTAMP_MS)},
        InvalidRequest,
        "integer",
    ),
    ("timestamp-bool", EC_KEY, lambda: {"timestamp_ms": True}, InvalidRequest, "integer"),
    (
        "signature-short",
        EC_KEY,
        lambda: {"signature": WEBCRYPTO_P256["signature"][:-4]},
        InvalidSignature,
        "64-byte",
    ),
    (
        "signature-not-base64url",
        EC_KEY,
        lambda: {"signature": "++//" * 22},
        InvalidSignature,
        "base64url",
    ),
    (
        "signature-zero",
        EC_KEY,
        lambda: {"signature": b64url_encode(bytes(64))},
        InvalidSignature,
        "does not verify",
    ),
]


@pytest.mark.parametrize(
    ("key", "changes", "error", "reason"),
    [p[1:] for p in PROOF_NEGATIVE],
    ids=[p[0] for p in PROOF_NEGATIVE],
)
def test_proof_refused(
    key: SessionPublicKey,
    changes: Callable[[], dict[str, Any]],
    error: type[Exception],
    reason: str,
) -> None:
    vector = WEBCRYPTO_ED25519 if key.alg == "EdDSA" else WEBCRYPTO_P256
    args: dict[str, Any] = {
        "signature": vector["signature"],
        "timestamp_ms": TIMESTAMP_MS,
        "expected_domain": DOMAIN,
        "now": NOW,
        **changes(),
    }
    with pytest.raises(error) as info:
        verify_session_key_proof(key, **args)
    assert reason in str(info.value)
