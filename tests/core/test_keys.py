"""Tests for keyfob.core.keys: key generation, storage, JWK export and RFC 7638 thumbprints."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from keyfob.core.encoding import b64url_decode, b64url_encode
from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    hs256_kid,
    hs256_secret,
    hs256_signing_key,
    jwk_thumbprint,
    load_signing_key,
    private_key_bytes,
    public_jwk,
    verification_key_from_jwk,
)
from keyfob.errors import ConfigurationError, InvalidRequest

SECRET = "an-hs256-secret-of-at-least-32-bytes!"

# RFC 7638 section 3.1.
RFC7638_RSA = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vM"
    "QFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
# RFC 8037 appendix A.2 / A.3.
RFC8037_ED25519 = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}


@pytest.mark.parametrize(
    ("jwk", "thumbprint"),
    [
        (RFC7638_RSA, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
        (RFC8037_ED25519, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"),
        (
            {**RFC8037_ED25519, "kid": "ignored", "use": "sig"},
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        ),
    ],
)
def test_jwk_thumbprint_rfc_vectors(jwk: dict[str, Any], thumbprint: str) -> None:
    assert jwk_thumbprint(jwk) == thumbprint


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": "XYZ"},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "EC", "crv": "P-256", "x": "a"},
        {"kty": 1},
    ],
)
def test_jwk_thumbprint_refuses_incomplete_jwks(jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        jwk_thumbprint(jwk)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generated_key_kid_is_thumbprint_and_jwk_is_public(alg: Any) -> None:
    key = generate_signing_key(alg)
    jwk = public_jwk(key)
    assert key.kid == jwk_thumbprint(jwk) == jwk["kid"]
    assert jwk["alg"] == alg
    assert jwk["use"] == "sig"
    assert "d" not in jwk
    assert set(jwk) <= {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert generate_signing_key(alg).kid != key.kid


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_published_jwk_verifies_with_plain_pyjwt(alg: Any) -> None:
    # What any third-party JOSE library does with keyfob's JWKS.
    key = generate_signing_key(alg)
    token = jwt.encode({"sub": "x"}, key.private_key, algorithm=alg)  # type: ignore[arg-type]
    verifier = jwt.PyJWK(public_jwk(key))
    assert jwt.decode(token, verifier, algorithms=[alg]) == {"sub": "x"}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_private_key_round_trips_through_pkcs8_der(alg: Any) -> None:
    key = generate_signing_key(alg)
    der = private_key_bytes(key)
    assert isinstance(
        serialization.load_der_private_key(der, None),
        ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    )
    loaded = load_signing_key(alg, key.kid, der)
    assert (loaded.kid, loaded.alg, loaded.public_jwk) == (key.kid, key.alg, key.public_jwk)
    token = jwt.encode({"sub": "x"}, loaded.private_key, algorithm=alg)  # type: ignore[arg-type]
    assert jwt.decode(token, key.verify_key, algorithms=[alg]) == {"sub": "x"}


def test_load_refuses_a_key_of_the_wrong_algorithm() -> None:
    der = private_key_bytes(generate_signing_key("EdDSA"))
    with pytest.raises(ConfigurationError):
        load_signing_key("ES256", "kid", der)


@pytest.mark.parametrize("der", [b"", b"not der", b"\x30\x03\x02\x01\x00"])
def test_load_refuses_garbage(der: bytes) -> None:
    with pytest.raises(ConfigurationError):
        load_signing_key("EdDSA", "kid", der)


def test_load_refuses_p384() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigurationError):
        load_signing_key("ES256", "kid", der)


def test_hs256_key_is_the_secret_text_and_its_kid_the_oct_thumbprint() -> None:
    key = hs256_signing_key(SECRET)
    # RFC 7638 thumbprint of {"k": b64url(secret), "kty": "oct"}, written out here.
    canonical = json.dumps(
        {"k": b64url_encode(SECRET.encode()), "kty": "oct"}, separators=(",", ":")
    )
    assert key.kid == b64url_encode(hashlib.sha256(canonical.encode()).digest())
    assert key.kid == hs256_kid(SECRET) != hs256_kid(SECRET + "x")
    assert key.alg == "HS256"
    assert hs256_secret(key) == SECRET
    # An app verifies what this key signs with nothing but the secret text.
    token = jwt.encode({"sub": "x"}, key.private_key, algorithm="HS256")  # type: ignore[arg-type]
    assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"sub": "x"}


def test_generated_hs256_keys_are_random_256_bit_secrets_that_reload() -> None:
    first, second = generate_signing_key("HS256"), generate_signing_key("HS256")
    assert first.kid != second.kid
    secret = hs256_secret(first)
    assert len(secret) == 43  # 32 random bytes, base64url
    assert len(b64url_decode(secret)) == 32
    assert load_signing_key("HS256", first.kid, private_key_bytes(first)) == first
    with pytest.raises(ConfigurationError):
        load_signing_key("HS256", second.kid, private_key_bytes(first))
    with pytest.raises(ConfigurationError):
        load_signing_key("HS256", first.kid, b"\xff" * 40)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: hs256_signing_key("short"), id="hs256-short-secret"),
        pytest.param(lambda: public_jwk(hs256_signing_key(SECRET)), id="hs256-never-published"),
        pytest.param(lambda: hs256_secret(generate_signing_key("EdDSA")), id="eddsa-no-secret"),
        pytest.param(
            lambda: generate_signing_key("RS256"),  # type: ignore[arg-type]
            id="generate-rs256",
        ),
        pytest.param(
            lambda: SigningKey("k", "ES256", ed25519.Ed25519PrivateKey.generate(), None),
            id="ed25519-as-es256",
        ),
        pytest.param(lambda: SigningKey("k", "EdDSA", None, None), id="no-key-at-all"),
    ],
)
def test_configuration_errors(call: Any) -> None:
    with pytest.raises(ConfigurationError):
        call()


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_verification_key_from_published_jwk(alg: Any) -> None:
    key = generate_signing_key(alg)
    verify_only = verification_key_from_jwk(public_jwk(key))
    assert verify_only.kid == key.kid
    assert verify_only.alg == alg
    assert verify_only.private_key is None
    assert verify_only.verify_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key.verify_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


ED = public_jwk(generate_signing_key("EdDSA"))
EC = public_jwk(generate_signing_key("ES256"))


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param({k: v for k, v in ED.items() if k != "kid"}, id="no-kid"),
        pytest.param({**ED, "kid": 7}, id="kid-not-string"),
        pytest.param({**RFC7638_RSA}, id="rsa"),
        pytest.param({**ED, "crv": "Ed448"}, id="ed448"),
        pytest.param({**EC, "crv": "P-384"}, id="p384"),
        pytest.param({**ED, "alg": "ES256"}, id="alg-disagrees"),
        pytest.param({**EC, "alg": "HS256"}, id="alg-hs256-on-ec"),
        pytest.param({**ED, "use": "enc"}, id="use-enc"),
        pytest.param({**ED, "x": ED["x"][:-2]}, id="x-too-short"),
        pytest.param({**ED, "x": None}, id="x-missing"),
        pytest.param({**EC, "y": EC["x"]}, id="point-not-on-curve"),
        pytest.param({"kty": "oct", "k": "c2VjcmV0", "kid": "s"}, id="symmetric"),
    ],
)
def test_verification_key_refuses_unusable_jwks(jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        verification_key_from_jwk(jwk)
