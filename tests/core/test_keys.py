"""Tests for keyfob.core.keys: key generation, storage, JWK export and RFC 7638 thumbprints."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

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
from tests.core.node_jwt import verify_with_node
from tests.paths import VECTORS

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


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _rsa_jwk(private: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    numbers = private.public_key().public_numbers()
    return {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e), "kid": kid}


RSA_1024 = _rsa_jwk(rsa.generate_private_key(65537, 1024), "rsa-1024")
RS = generate_signing_key("RS256")
# OpenID Connect Core 1.0 Appendix A.6 and A.7: an RS256 ID token and the key that signed it.
CORE = json.loads((VECTORS / "oidc" / "core_appendix_a.json").read_text())


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


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_generated_key_kid_is_thumbprint_and_jwk_is_public(alg: Any) -> None:
    key = generate_signing_key(alg)
    jwk = public_jwk(key)
    assert key.kid == jwk_thumbprint(jwk) == jwk["kid"]
    assert jwk["alg"] == alg
    assert jwk["use"] == "sig"
    assert "d" not in jwk
    assert set(jwk) <= {"kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"}
    assert generate_signing_key(alg).kid != key.kid


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_published_jwk_verifies_with_plain_pyjwt(alg: Any) -> None:
    # What any third-party JOSE library does with keyfob's JWKS.
    key = generate_signing_key(alg)
    token = jwt.encode({"sub": "x"}, key.private_key, algorithm=alg)  # type: ignore[arg-type]
    verifier = jwt.PyJWK(public_jwk(key))
    assert jwt.decode(token, verifier, algorithms=[alg]) == {"sub": "x"}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_private_key_round_trips_through_pkcs8_der(alg: Any) -> None:
    key = generate_signing_key(alg)
    der = private_key_bytes(key)
    assert isinstance(
        serialization.load_der_private_key(der, None),
        ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
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
            lambda: generate_signing_key("PS256"),  # type: ignore[arg-type]
            id="generate-ps256",
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


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
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
        pytest.param({**RFC7638_RSA, "alg": "PS256"}, id="rsa-alg-ps256"),
        pytest.param({**RFC7638_RSA, "alg": "RS384"}, id="rsa-alg-rs384"),
        pytest.param({**RFC7638_RSA, "alg": "ES256"}, id="rsa-alg-es256"),
        pytest.param({**RFC7638_RSA, "use": "enc"}, id="rsa-use-enc"),
        pytest.param(RSA_1024, id="rsa-1024"),
        pytest.param({**RFC7638_RSA, "n": _uint(2**2047 - 1)}, id="rsa-2047-bits"),
        pytest.param({**RFC7638_RSA, "n": _uint(2**8193 - 1)}, id="rsa-8193-bits"),
        pytest.param({**RFC7638_RSA, "e": _uint(65536)}, id="rsa-even-exponent"),
        pytest.param({**RFC7638_RSA, "e": _uint(1)}, id="rsa-exponent-1"),
        pytest.param({**RFC7638_RSA, "e": _uint(2**32 + 1)}, id="rsa-exponent-too-big"),
        pytest.param({**RFC7638_RSA, "n": None}, id="rsa-n-missing"),
        pytest.param({**RFC7638_RSA, "n": ""}, id="rsa-n-empty"),
        pytest.param({**RFC7638_RSA, "n": "not base64!"}, id="rsa-n-not-base64url"),
        pytest.param({**RFC7638_RSA, "e": 65537}, id="rsa-e-number"),
        pytest.param({**RFC7638_RSA, "d": "AQAB"}, id="rsa-private-member"),
        pytest.param({**ED, "d": ED["x"]}, id="okp-private-member"),
        pytest.param({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"}, id="rsa-tiny"),
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


# --- RS256 --------------------------------------------------------------------------------------


def test_generated_rs256_key_is_rsa_2048_with_e_65537() -> None:
    assert isinstance(RS.private_key, rsa.RSAPrivateKey)
    assert RS.private_key.key_size == 2048
    assert RS.private_key.public_key().public_numbers().e == 65537
    jwk = public_jwk(RS)
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["e"], jwk["alg"], jwk["use"]) == ("RSA", "AQAB", "RS256", "sig")
    # RFC 7518 section 6.3.1.1: the modulus in exactly its 256 octets, no leading zero.
    assert len(b64url_decode(jwk["n"])) == 256
    assert b64url_decode(jwk["n"])[0] != 0
    # RFC 7638 section 3: the thumbprint hashes {"e","kty","n"} in that order, nothing else.
    canonical = json.dumps({"e": "AQAB", "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    assert RS.kid == b64url_encode(hashlib.sha256(canonical.encode()).digest())


def test_rfc7638_rsa_key_verifies_as_rs256() -> None:
    key = verification_key_from_jwk(RFC7638_RSA)
    assert (key.kid, key.alg, key.private_key) == ("2011-04-29", "RS256", None)
    assert isinstance(key.verify_key, rsa.RSAPublicKey)
    assert key.verify_key.public_numbers().n == int.from_bytes(
        b64url_decode(RFC7638_RSA["n"]), "big"
    )
    assert jwk_thumbprint(key.public_jwk or {}) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rsa_jwk_without_alg_is_rs256_and_leading_zero_is_tolerated() -> None:
    jwk = {k: v for k, v in public_jwk(RS).items() if k != "alg"}
    assert verification_key_from_jwk(jwk).alg == "RS256"
    padded = {**jwk, "n": b64url_encode(b"\x00" + b64url_decode(jwk["n"]))}
    token = jwt.encode({"sub": "x"}, RS.private_key, algorithm="RS256")  # type: ignore[arg-type]
    assert jwt.decode(token, verification_key_from_jwk(padded).verify_key, algorithms=["RS256"])


def test_core_appendix_a6_id_token_verifies_with_the_a7_key() -> None:
    # A real RS256 signature from the OpenID Connect Core examples, checked with the key
    # verification_key_from_jwk builds from the published JWK.
    key = verification_key_from_jwk(CORE["a7_public_jwk"])
    assert key.kid == "1e9gdk7"
    claims = jwt.decode(
        CORE["a6_id_token"],
        key.verify_key,
        algorithms=[key.alg],
        audience="s6BhdRkqt3",
        options={"verify_exp": False},
    )
    assert claims == CORE["a6_claims"]
    forged = CORE["a6_id_token"][:-4] + ("AAAA" if CORE["a6_id_token"][-4:] != "AAAA" else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.verify_key, algorithms=["RS256"], options={"verify_aud": False})


def test_a7_private_key_loaded_from_der_signs_the_a6_token_byte_for_byte() -> None:
    # RSASSA-PKCS1-v1_5 is deterministic: keyfob's loaded key must give the spec's signature.
    jwk = CORE["a7_private_jwk"]
    n, e, d, p, q, dp, dq, qi = (
        int.from_bytes(b64url_decode(jwk[name]), "big")
        for name in ("n", "e", "d", "p", "q", "dp", "dq", "qi")
    )
    private = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = load_signing_key("RS256", "1e9gdk7", der)
    assert {k: public_jwk(key)[k] for k in ("kty", "n", "e")} == {
        k: CORE["a7_public_jwk"][k] for k in ("kty", "n", "e")
    }
    head, payload, signature = CORE["a6_id_token"].split(".")
    assert isinstance(key.private_key, rsa.RSAPrivateKey)
    mine = key.private_key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert b64url_encode(mine) == signature


def test_node_jsonwebtoken_verifies_rs256_with_the_published_jwk() -> None:
    token = jwt.encode(
        {"sub": "x"},
        RS.private_key,  # type: ignore[arg-type]
        algorithm="RS256",
        headers={"kid": RS.kid},
    )
    header, payload = verify_with_node(token, public_jwk(RS), algorithms=["RS256"])
    assert header == {"alg": "RS256", "typ": "JWT", "kid": RS.kid}
    assert payload == {"sub": "x"}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: load_signing_key("RS256", "k", _der(rsa.generate_private_key(65537, 1024))),
            id="load-rsa-1024",
        ),
        pytest.param(
            lambda: load_signing_key("ES256", "k", private_key_bytes(RS)), id="rsa-as-es256"
        ),
        pytest.param(
            lambda: load_signing_key(
                "RS256", "k", private_key_bytes(generate_signing_key("EdDSA"))
            ),
            id="ed25519-as-rs256",
        ),
        pytest.param(
            lambda: SigningKey("k", "RS256", ec.generate_private_key(ec.SECP256R1()), None),
            id="p256-as-rs256",
        ),
        pytest.param(lambda: SigningKey("k", "EdDSA", RS.private_key, None), id="rsa-as-eddsa"),
    ],
)
def test_rsa_configuration_errors(call: Any) -> None:
    with pytest.raises(ConfigurationError):
        call()


def _der(private: rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
