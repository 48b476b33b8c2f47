"""Tests for keyfob.core.rfc7523: private_key_jwt client assertions (RFC 7523, OIDC Core 9).

Real client output comes from Authlib (``private_key_jwt_sign``, signing with joserfc);
the negative table signs with PyJWT so that every claim and header can be bent.
RS256: keys.verification_key_from_jwk takes RSA keys in a parallel branch; once it is merged,
add an RS256 row to the positive tests (Authlib's default alg) and a PS256/RS384 refusal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey

from keyfob.core.keys import SigningKey, generate_signing_key, jwk_thumbprint, public_jwk
from keyfob.core.rfc6749 import parse_client_authentication
from keyfob.core.rfc7523 import (
    JWT_BEARER,
    ClientAssertion,
    assertion_client_id,
    verify_client_assertion,
)
from keyfob.errors import ConfigurationError, InvalidClient

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
CLIENT = "0c5f5a3e-8b1e-4d1a-9c5e-1f2a3b4c5d6e"
ISSUER = "https://auth.example.com"
TOKEN_ENDPOINT = "https://auth.example.com/oidc/token"
AUDIENCES = (TOKEN_ENDPOINT, ISSUER)
EC = generate_signing_key("ES256")
ED = generate_signing_key("EdDSA")
OTHER_EC = generate_signing_key("ES256")
JWKS = {"keys": [public_jwk(EC), public_jwk(ED)]}


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": TOKEN_ENDPOINT,
        "iat": T,
        "exp": T + 60,
        "jti": "a7e9a1c4-2f0b-4a7e-9d3e-0c1b2a3d4e5f",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def private(key: SigningKey) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
    assert isinstance(key.private_key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey)
    return key.private_key


def sign(payload: dict[str, Any], key: SigningKey = EC, **header: Any) -> str:
    headers = {"kid": key.kid, **header}
    return jwt.encode(payload, private(key), algorithm=key.alg, headers=headers)


def verify(assertion: str, jwks: dict[str, Any] = JWKS, **changes: Any) -> ClientAssertion:
    args: dict[str, Any] = {
        "jwks": jwks,
        "expected_client_id": CLIENT,
        "expected_audiences": AUDIENCES,
        "now": NOW,
    }
    return verify_client_assertion(assertion, **{**args, **changes})


def _pem(key: SigningKey) -> bytes:
    return private(key).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_authlib_es256_assertion() -> None:
    key = ECKey.import_key(_pem(EC))
    # Authlib sends a kid only when told to; without one, only a single-key JWKS serves.
    named = private_key_jwt_sign(
        key, CLIENT, TOKEN_ENDPOINT, alg="ES256", issued_at=T, expires_in=60, header={"kid": EC.kid}
    )
    got = verify(named)
    assert got.client_id == CLIENT
    assert (got.expires_at, got.kid) == (T + 60, EC.kid)
    assert len(got.jti) >= 20  # Authlib's random jti
    assert assertion_client_id(named) == CLIENT
    unnamed = private_key_jwt_sign(key, CLIENT, TOKEN_ENDPOINT, alg="ES256", issued_at=T)
    with pytest.raises(InvalidClient, match="no kid, and the client registered several keys"):
        verify(unnamed)
    with pytest.raises(InvalidClient, match="lives too long"):  # Authlib's default hour
        verify(unnamed, jwks={"keys": [public_jwk(EC)]})
    assert verify(unnamed, jwks={"keys": [public_jwk(EC)]}, max_lifetime_seconds=3600).kid == EC.kid


def test_authlib_eddsa_assertion() -> None:
    key = OKPKey.import_key(_pem(ED))
    # joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA"; it still signs with it,
    # and it is the name keyfob (and PyJWT) know.
    with pytest.warns(SecurityWarning, match="EdDSA"):
        assertion = private_key_jwt_sign(
            key,
            CLIENT,
            TOKEN_ENDPOINT,
            alg="EdDSA",
            issued_at=T - 10,
            expires_in=120,
            header={"kid": ED.kid},
        )
    assert verify(assertion).expires_at == T + 110


def test_authlib_client_auth_flow_and_its_default_lifetime() -> None:
    # The whole client side: Authlib adds client_assertion(_type) to the token request body.
    auth = type("Auth", (), {"client_id": CLIENT, "client_secret": ECKey.import_key(_pem(EC))})
    body = "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fa%2Fcb"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, sent = PrivateKeyJWT(TOKEN_ENDPOINT, alg="ES256")(auth, "POST", "u", {}, body)
    presented = parse_client_authentication(parse_qsl(sent), authorization_header=None)
    assert (presented.client_id, presented.method) == (CLIENT, "private_key_jwt")
    assert presented.assertion is not None
    # Authlib stamps the wall clock and a lifetime of an hour: refused by the 300 s default,
    # accepted when the server allows that much (it then keeps the jti for an hour).
    now = datetime.now(UTC)
    one_key = {"keys": [{k: v for k, v in public_jwk(EC).items() if k != "kid"}]}
    with pytest.raises(InvalidClient, match="lives too long"):
        verify(presented.assertion, jwks=one_key, now=now)
    got = verify(presented.assertion, jwks=one_key, now=now, max_lifetime_seconds=3600)
    assert got.kid == jwk_thumbprint(public_jwk(EC))


@pytest.mark.parametrize("key", [EC, ED], ids=["ES256", "EdDSA"])
def test_assertions_that_verify(key: SigningKey) -> None:
    assert verify(sign(claims(), key)) == ClientAssertion(
        CLIENT, "a7e9a1c4-2f0b-4a7e-9d3e-0c1b2a3d4e5f", T + 60, key.kid
    )


@pytest.mark.parametrize(
    "payload",
    [
        claims(aud=ISSUER),
        claims(aud=[ISSUER]),
        claims(aud=["https://elsewhere.example", TOKEN_ENDPOINT]),
        claims(iat=None),
        claims(iat=T + 29, exp=T + 89),  # a client clock 29 s ahead
        claims(nbf=T + 30),
        claims(nbf=T - 100, iat=T - 100, exp=T + 1),
        claims(exp=T + 300, iat=T),
        claims(exp=T + 330, iat=None),  # lifetime plus leeway
        claims(extra={"any": "claim"}),
    ],
)
def test_claims_within_the_rules(payload: dict[str, Any]) -> None:
    assert verify(sign(payload)).expires_at == payload["exp"]


def test_key_without_kid_in_a_single_key_jwks() -> None:
    members = {k: v for k, v in public_jwk(ED).items() if k != "kid"}
    # No kid in the JWKS, none in the assertion: the one key, named by its thumbprint.
    unnamed = jwt.encode(claims(), private(ED), algorithm="EdDSA")
    assert verify(unnamed, jwks={"keys": [members]}).kid == jwk_thumbprint(members)
    # A named single key also serves an assertion without kid.
    assert verify(unnamed, jwks={"keys": [public_jwk(ED)]}).kid == ED.kid


def _unsigned(header: Any, payload: Any, signature: str = "") -> str:
    def segment(value: Any) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{segment(header)}.{segment(payload)}.{signature}"


def _hmac_with(secret: bytes, **header: Any) -> str:
    # PyJWT refuses PEM-looking HMAC secrets; an attacker signs however they like.
    head = _unsigned({"alg": "HS256", "kid": EC.kid, **header}, claims()).rsplit(".", 1)[0]
    mac = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _public_pem(key: SigningKey) -> bytes:
    return (
        serialization.load_pem_private_key(_pem(key), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _tampered() -> str:
    head, _, signature = sign(claims()).split(".")
    body = base64.urlsafe_b64encode(json.dumps(claims(sub="evil")).encode()).decode()
    return f"{head}.{body.rstrip('=')}.{signature}"


def _with_header(**header: Any) -> Callable[[], str]:
    return lambda: sign(claims(), **header)


REFUSED: list[tuple[str, Callable[[], str], str]] = [
    # audience
    ("wrong-aud", lambda: sign(claims(aud="https://evil.example/token")), "aud must name"),
    ("aud-list-without-us", lambda: sign(claims(aud=["https://a", "https://b"])), "aud must"),
    ("aud-int", lambda: sign(claims(aud=1)), "string or list of strings"),
    ("aud-trailing-slash", lambda: sign(claims(aud=TOKEN_ENDPOINT + "/")), "aud must name"),
    ("no-aud", lambda: sign(claims(aud=None)), "no aud claim"),
    # parties
    ("iss-not-sub", lambda: sign(claims(iss="other")), "iss and sub"),
    ("sub-not-client", lambda: sign(claims(sub="other")), "iss and sub"),
    ("both-other-client", lambda: sign(claims(iss="other", sub="other")), "iss and sub"),
    ("no-iss", lambda: sign(claims(iss=None)), "no iss claim"),
    ("no-sub", lambda: sign(claims(sub=None)), "no sub claim"),
    # times
    ("expired", lambda: sign(claims(iat=T - 120, exp=T - 1)), "expired"),
    ("expires-now", lambda: sign(claims(iat=T - 60, exp=T)), "expired"),
    ("no-exp", lambda: sign(claims(exp=None)), "no exp claim"),
    ("exp-too-far", lambda: sign(claims(iat=None, exp=T + 331)), "lives too long"),
    ("lifetime-over-300", lambda: sign(claims(iat=T - 250, exp=T + 60)), "lives too long"),
    ("a-year", lambda: sign(claims(exp=T + 365 * 86400)), "lives too long"),
    ("iat-future", lambda: sign(claims(iat=T + 31, exp=T + 90)), "issued in the future"),
    ("nbf-future", lambda: sign(claims(nbf=T + 31)), "not valid yet"),
    ("exp-string", lambda: sign(claims(exp=str(T + 60))), "integer time"),
    ("exp-float", lambda: sign(claims(exp=T + 60.5)), "integer time"),
    ("exp-bool", lambda: sign(claims(exp=True)), "integer time"),
    ("iat-string", lambda: sign(claims(iat="now")), "integer time"),
    # jti
    ("no-jti", lambda: sign(claims(jti=None)), "no jti claim"),
    ("empty-jti", lambda: sign(claims(jti="")), "jti must"),
    ("int-jti", lambda: sign(claims(jti=7)), "malformed"),
    ("long-jti", lambda: sign(claims(jti="j" * 257)), "jti must"),
    # algorithms and keys
    (
        "unsecured-jwt",
        lambda: _unsigned({"alg": "none", "kid": EC.kid}, claims()),
        "not a signed JWT",
    ),
    ("alg-none", lambda: _unsigned({"alg": "none", "kid": EC.kid}, claims(), "c2ln"), "alg none"),
    ("alg-None", lambda: _unsigned({"alg": "None"}, claims(), "c2ln"), "alg none"),
    ("alg-null", lambda: _unsigned({"alg": None, "kid": EC.kid}, claims(), "c2ln"), "alg none"),
    ("no-alg", lambda: _unsigned({"kid": EC.kid}, claims(), "c2ln"), "alg none"),
    ("hs256-guessed", lambda: _hmac_with(b"secret"), "shared secret"),
    ("hs256-public-pem", lambda: _hmac_with(_public_pem(EC)), "shared secret"),
    ("hs256-jwk-x", lambda: _hmac_with(public_jwk(EC)["x"].encode()), "shared secret"),
    ("hs512", lambda: _unsigned({"alg": "HS512", "kid": EC.kid}, claims(), "c2ln"), "HMAC"),
    (
        "es256-header-on-ed-key",
        lambda: _unsigned({"alg": "ES256", "kid": ED.kid}, claims(), "c2ln"),
        "must be EdDSA",
    ),
    (
        "eddsa-header-on-ec-key",
        lambda: _unsigned({"alg": "EdDSA", "kid": EC.kid}, claims(), "c2ln"),
        "must be ES256",
    ),
    (
        "rs256-header-on-ec-key",
        lambda: _unsigned({"alg": "RS256", "kid": EC.kid}, claims(), "c2ln"),
        "must be ES256",
    ),
    (
        "es384",
        lambda: _unsigned({"alg": "ES384", "kid": EC.kid}, claims(), "c2ln"),
        "must be ES256",
    ),
    (
        "other-key-same-kid",
        lambda: sign(claims(), OTHER_EC, kid=EC.kid),
        "signature does not verify",
    ),
    ("unknown-kid", lambda: sign(claims(), OTHER_EC), "No key the client registered has this kid"),
    ("no-kid-two-keys", lambda: jwt.encode(claims(), private(EC), algorithm="ES256"), "no kid"),
    ("int-kid", lambda: _unsigned({"alg": "ES256", "kid": 5}, claims(), "c2ln"), "kid must be"),
    ("empty-kid", _with_header(kid=""), "kid must be a non-empty string"),
    ("tampered-payload", _tampered, "signature does not verify"),
    ("unknown-crit", _with_header(crit=["exp-x"], **{"exp-x": 1}), "malformed"),
    # shape
    ("empty", lambda: "", "missing"),
    ("two-segments", lambda: sign(claims()).rsplit(".", 1)[0], "not a signed JWT"),
    ("jwe-five-segments", lambda: "a.b.c.d.e", "not a signed JWT"),
    ("unsigned-two-dots", lambda: sign(claims()).rsplit(".", 1)[0] + ".", "not a signed JWT"),
    ("padded", lambda: sign(claims()) + "=", "not a signed JWT"),
    ("spaces", lambda: " " + sign(claims()), "not a signed JWT"),
    ("header-not-json", lambda: "bm9wZQ." + sign(claims()).split(".", 1)[1], "well-formed"),
    ("header-array", lambda: _unsigned([1], claims(), "c2ln"), "well-formed"),
    ("payload-array", lambda: _unsigned({"alg": "ES256"}, [1], "c2ln"), "well-formed"),
    (
        "duplicate-alg",
        lambda: _unsigned(b'{"alg":"ES256","alg":"none"}', claims(), "c2ln"),
        "well-formed",
    ),
    (
        "duplicate-sub",
        lambda: _unsigned({"alg": "ES256"}, b'{"sub":"a","sub":"b"}', "c2ln"),
        "well-formed",
    ),
    ("too-long", lambda: sign(claims(pad="x" * 8192)), "8192"),
]


@pytest.mark.parametrize(
    ("make", "why"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_assertions_refused(make: Callable[[], str], why: str) -> None:
    with pytest.raises(InvalidClient, match=why):
        verify(make())


OCT = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "kid": EC.kid}
JWKS_REFUSED: list[tuple[str, Any, str]] = [
    ("not-a-mapping", [public_jwk(EC)], "not a set of keys"),
    ("no-keys", {}, "not a set of keys"),
    ("keys-a-dict", {"keys": public_jwk(EC)}, "not a set of keys"),
    ("keys-of-strings", {"keys": ["x"]}, "not a set of keys"),
    ("duplicate-kid", {"keys": [public_jwk(EC), public_jwk(EC)]}, "share this kid"),
    ("oct-key", {"keys": [OCT]}, "cannot verify"),
    ("enc-key", {"keys": [{**public_jwk(EC), "use": "enc"}]}, "cannot verify"),
    ("alg-disagrees", {"keys": [{**public_jwk(EC), "alg": "ES384"}]}, "cannot verify"),
    ("p384-key", {"keys": [{**public_jwk(EC), "crv": "P-384"}]}, "cannot verify"),
    ("broken-point", {"keys": [{**public_jwk(EC), "y": public_jwk(EC)["x"]}]}, "cannot verify"),
    ("unnamed-key", {"keys": [{"x": "y"}]}, "No key the client registered has this kid"),
    ("empty", {"keys": []}, "No key"),
]


@pytest.mark.parametrize(
    ("jwks", "why"), [case[1:] for case in JWKS_REFUSED], ids=[case[0] for case in JWKS_REFUSED]
)
def test_registered_jwks_that_cannot_verify(jwks: Any, why: str) -> None:
    with pytest.raises(InvalidClient, match=why):
        verify(sign(claims()), jwks=jwks)


def test_no_kid_and_no_keys() -> None:
    unnamed = jwt.encode(claims(), private(EC), algorithm="ES256")
    with pytest.raises(InvalidClient, match="several keys"):
        verify(unnamed, jwks={"keys": []})
    with pytest.raises(InvalidClient, match="cannot verify"):  # no kty: no thumbprint either
        verify(unnamed, jwks={"keys": [{"x": "y"}]})


def test_the_expected_client_decides() -> None:
    assertion = sign(claims())
    with pytest.raises(InvalidClient, match="iss and sub"):
        verify(assertion, expected_client_id="another-client")
    with pytest.raises(InvalidClient, match="aud must name"):
        verify(assertion, expected_audiences=("https://other.example/token",))


@pytest.mark.parametrize(
    "changes",
    [
        {"expected_audiences": ()},
        {"max_lifetime_seconds": 0},
        {"leeway_seconds": -1},
        {"now": NOW.replace(tzinfo=None)},
    ],
)
def test_configuration_errors(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        verify(sign(claims()), **changes)


def test_assertion_client_id() -> None:
    assert assertion_client_id(sign(claims())) == CLIENT
    for payload in (claims(iss="x"), claims(sub=None), claims(sub=""), claims(iss=None)):
        with pytest.raises(InvalidClient, match="iss and sub"):
            assertion_client_id(sign(payload))
    with pytest.raises(InvalidClient, match="not a signed JWT"):
        assertion_client_id("abc")


def test_jwt_bearer_type() -> None:
    assert JWT_BEARER == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert timedelta(seconds=verify(sign(claims())).expires_at - T) == timedelta(minutes=1)
