"""Tests for keyfob.core.tokens: at+jwt access tokens and opaque refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from keyfob.core.challenge import issue_challenge
from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    hs256_signing_key,
    public_jwk,
    verification_key_from_jwk,
)
from keyfob.core.secretbox import derive_key
from keyfob.core.tokens import (
    AccessTokenClaims,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    unverified_kid,
    verify_access_token,
)
from keyfob.errors import InvalidToken

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
ISS = "https://auth.example.com"
AUD = "https://api.example.com"
SECRET = "an-hs256-secret-of-at-least-32-bytes!"
ED = generate_signing_key("EdDSA")
EC = generate_signing_key("ES256")
HS = hs256_signing_key(SECRET)
KEYS = {key.kid: key for key in (ED, EC, HS)}


def _issue(key: SigningKey = ED, **changes: Any) -> tuple[str, AccessTokenClaims]:
    args: dict[str, Any] = {
        "key": key,
        "issuer": ISS,
        "audience": AUD,
        "subject": "user-1",
        "session_id": "sess-1",
        "amr": ("ethereum",),
        "chain": "ethereum",
        "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "now": NOW,
        "ttl": 900,
    }
    return issue_access_token(**{**args, **changes})


def _verify(token: str, **changes: Any) -> AccessTokenClaims:
    args: dict[str, Any] = {
        "keys": KEYS,
        "expected_issuer": ISS,
        "expected_audience": AUD,
        "now": NOW,
    }
    return verify_access_token(token, **{**args, **changes})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())


def _payload(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISS,
        "aud": AUD,
        "sub": "user-1",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 900,
        "jti": "jti-1",
        "amr": ["ethereum"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _signed(key: SigningKey = ED, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """A token signed with our key, with any header and claims we like."""
    headers = {"typ": "at+jwt", "kid": key.kid, **(header or {})}
    return jwt.encode(_payload(**claims), key.private_key, algorithm=key.alg, headers=headers)  # type: ignore[arg-type]


def _raw(header: dict[str, Any], **claims: Any) -> str:
    """Signed with ED by hand, for headers and claims PyJWT would refuse to encode."""
    signing_input = _segments({"alg": "EdDSA", "typ": "at+jwt", **header}, _payload(**claims))
    assert isinstance(ED.private_key, ed25519.Ed25519PrivateKey)
    signature = ED.private_key.sign(signing_input.encode())
    return signing_input + "." + _b64(signature)


def _hmac_token(header: dict[str, Any], secret: bytes, **claims: Any) -> str:
    """An HS256 token made by hand (PyJWT rightly refuses to HMAC with a PEM or JWK)."""
    signing_input = _segments(header, _payload(**claims))
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(mac)


# --- positive ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [ED, EC, HS], ids=lambda k: k.alg)
def test_issue_and_verify_round_trip(key: SigningKey) -> None:
    token, claims = _issue(key)
    assert _verify(token) == claims
    assert claims == AccessTokenClaims(
        issuer=ISS,
        audience=AUD,
        subject="user-1",
        issued_at=int(NOW.timestamp()),
        expires_at=int(NOW.timestamp()) + 900,
        jti=claims.jti,
        amr=("ethereum",),
        session_id="sess-1",
        chain="ethereum",
        address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    )


@pytest.mark.parametrize("key", [ED, EC, HS], ids=lambda k: k.alg)
def test_header_and_claims_on_the_wire(key: SigningKey) -> None:
    token, claims = _issue(key, session_id=None, chain=None, address=None)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": key.alg, "typ": "at+jwt", "kid": key.kid}
    payload = jwt.decode(token, options={"verify_signature": False})
    # None values are left out, not written as null.
    assert payload == {
        "iss": ISS,
        "aud": AUD,
        "sub": "user-1",
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.jti,
        "amr": ["ethereum"],
    }
    assert _verify(token).session_id is None


def test_jti_has_at_least_128_random_bits() -> None:
    jtis = {_issue()[1].jti for _ in range(200)}
    assert len(jtis) == 200
    assert all(len(base64.urlsafe_b64decode(j + "==")) >= 16 for j in jtis)


@pytest.mark.parametrize("key", [ED, EC], ids=lambda k: k.alg)
def test_third_party_pyjwt_verifies_with_the_published_jwk(key: SigningKey) -> None:
    token, _ = _issue(key)
    payload = jwt.decode(
        token,
        jwt.PyJWK(public_jwk(key)),
        algorithms=[key.alg],
        audience=AUD,
        issuer=ISS,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert payload["sub"] == "user-1"


def test_app_verifies_hs256_token_with_the_secret_text() -> None:
    token, _ = _issue(HS)
    payload = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience=AUD, options={"verify_exp": False}
    )
    assert payload["sub"] == "user-1"


def test_verify_only_key_from_jwks_verifies() -> None:
    token, claims = _issue(EC)
    keys = {EC.kid: verification_key_from_jwk(public_jwk(EC))}
    assert _verify(token, keys=keys) == claims


def test_time_window_and_leeway() -> None:
    token, claims = _issue(ttl=60)
    assert _verify(token, now=NOW + timedelta(seconds=59)) == claims
    assert _verify(token, now=NOW + timedelta(seconds=65), leeway=10) == claims
    assert _verify(token, now=NOW - timedelta(seconds=5), leeway=10) == claims
    with pytest.raises(InvalidToken, match=r"^The access token has expired\.$"):
        _verify(token, now=NOW + timedelta(seconds=60))


def test_application_typ_and_audience_list_accepted() -> None:
    token = _signed(header={"typ": "application/at+jwt"}, aud=["other", AUD])
    assert _verify(token).audience == AUD


def test_unverified_kid() -> None:
    token, _ = _issue(EC)
    assert unverified_kid(token) == EC.kid
    assert unverified_kid("garbage") is None
    assert unverified_kid(_raw({"kid": 5})) is None


def test_refresh_tokens_are_opaque_and_random() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert token.startswith("kfr_")
        assert token.count(".") == 0
        assert len(base64.urlsafe_b64decode(token[4:] + "=")) == 32
    token = tokens.pop()
    assert hash_refresh_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(hash_refresh_token("\ud800")) == 64  # a lone surrogate from JSON must not crash


# --- negative ----------------------------------------------------------------------------------

PUBLIC_PEM = ED.verify_key.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
EC_PUBLIC_PEM = EC.verify_key.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
OTHER_ED = generate_signing_key("EdDSA")
NOW_S = int(NOW.timestamp())


def _tampered() -> str:
    token, _ = _issue()
    header, _payload_segment, signature = token.split(".")
    forged = _b64(json.dumps({**_payload(), "sub": "admin"}).encode())
    return f"{header}.{forged}.{signature}"


NEGATIVE: list[tuple[str, Callable[[], Any], str]] = [
    (
        "alg-none",
        lambda: _segments({"alg": "none", "typ": "at+jwt", "kid": ED.kid}, _payload()) + ".",
        "algorithm",
    ),
    (
        "hs256-with-our-public-pem",
        lambda: _hmac_token({"alg": "HS256", "typ": "at+jwt", "kid": ED.kid}, PUBLIC_PEM),
        "algorithm",
    ),
    (
        "hs256-with-our-ec-public-pem",
        lambda: _hmac_token({"alg": "HS256", "typ": "at+jwt", "kid": EC.kid}, EC_PUBLIC_PEM),
        "algorithm",
    ),
    (
        "hs256-with-our-public-jwk",
        lambda: _hmac_token(
            {"alg": "HS256", "typ": "at+jwt", "kid": ED.kid}, json.dumps(public_jwk(ED)).encode()
        ),
        "algorithm",
    ),
    (
        "es256-header-on-eddsa-key",
        lambda: _signed(generate_signing_key("ES256"), header={"kid": ED.kid}),
        "algorithm",
    ),
    (
        "signed-by-another-key-same-kid",
        lambda: _signed(OTHER_ED, header={"kid": ED.kid}),
        "signature",
    ),
    ("unknown-kid", lambda: _signed(OTHER_ED), "key we do not know"),
    ("no-kid", lambda: _raw({}), "key we do not know"),
    ("kid-not-string", lambda: _raw({"kid": ["x"]}), "key we do not know"),
    ("tampered-payload", _tampered, "signature"),
    ("wrong-issuer", lambda: _signed(iss="https://evil.example.com"), "issued by someone else"),
    ("issuer-not-string", lambda: _raw({"kid": ED.kid}, iss=5), "issued by someone else"),
    ("wrong-audience", lambda: _signed(aud="https://other.example.com"), "another audience"),
    ("audience-not-string", lambda: _signed(aud=5), "another audience"),
    ("expired", lambda: _signed(iat=NOW_S - 1000, exp=NOW_S - 1), "has expired"),
    ("expires-now", lambda: _signed(iat=NOW_S - 1000, exp=NOW_S), "has expired"),
    ("issued-in-future", lambda: _signed(iat=NOW_S + 30, exp=NOW_S + 900), "in the future"),
    ("not-before-future", lambda: _signed(nbf=NOW_S + 30), "not valid yet"),
    ("exp-before-iat", lambda: _signed(iat=NOW_S, exp=NOW_S - 10), "not valid times"),
    ("exp-string", lambda: _signed(exp=str(NOW_S + 900)), "not valid times"),
    ("exp-float", lambda: _signed(exp=NOW_S + 900.5), "not valid times"),
    ("exp-bool", lambda: _signed(iat=False, exp=True), "not valid times"),
    ("sub-not-string", lambda: _signed(sub=12), "malformed"),
    ("sub-empty", lambda: _signed(sub=""), "sub claim"),
    ("sid-not-string", lambda: _signed(sid=["a"]), "sid claim"),
    ("amr-not-list", lambda: _signed(amr="ethereum"), "amr claim"),
    ("typ-missing", lambda: _signed(header={"typ": None}), "not an access token"),
    ("typ-jwt", lambda: _signed(header={"typ": "JWT"}), "not an access token"),
    (
        "challenge-jwt",
        lambda: (
            issue_challenge(
                key=derive_key(SECRET, "challenge"), issuer=ISS, audience=AUD, now=NOW
            ).token
        ),
        "not an access token",
    ),
    (
        "plain-hs256-jwt-with-secret",
        lambda: jwt.encode(_payload(), SECRET, algorithm="HS256", headers={"kid": "hs256"}),
        "not an access token",
    ),
    ("refresh-token", new_refresh_token, "not a well-formed JWT"),
    ("empty", lambda: "", "missing"),
    ("not-a-string", lambda: None, "missing"),
    ("too-long", lambda: "a" * 10_000, "too long"),
    ("garbage", lambda: "a.b.c", "not a well-formed JWT"),
    ("header-not-object", lambda: _b64(b"[1]") + ".e30.", "not a well-formed JWT"),
    ("header-not-json", lambda: _b64(b"{") + ".e30.", "not a well-formed JWT"),
    ("bad-base64-signature", lambda: _signed() + "!", "malformed"),
    ("four-segments", lambda: _signed() + ".x", "not a well-formed JWT"),
    ("payload-not-object", lambda: _signed().split(".")[0] + "." + _b64(b"[]") + ".x", "malformed"),
]


def _without(claim: str) -> Callable[[], str]:
    changes: dict[str, Any] = {claim: None}
    return lambda: _signed(**changes)


for _claim in ("iss", "aud", "sub", "iat", "exp", "jti"):
    NEGATIVE.append((f"missing-{_claim}", _without(_claim), f"has no {_claim} claim"))


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in NEGATIVE], ids=[n for n, _, _ in NEGATIVE]
)
def test_verify_refuses(make: Callable[[], Any], reason: str) -> None:
    token = make()
    with pytest.raises(InvalidToken) as info:
        _verify(token)
    assert type(info.value) is InvalidToken
    assert reason in info.value.message
    assert info.value.message.endswith(".")


@pytest.mark.parametrize(
    "crit",
    [["urn:example:must-understand"], ["exp"], "urn:example:must-understand", []],
    ids=["unknown-extension", "registered-claim-name", "not-a-list", "empty"],
)
def test_unknown_critical_header_is_refused(crit: Any) -> None:
    # RFC 7515 section 4.1.11: a recipient that does not understand every "crit" extension must
    # refuse the token. PyJWT before 2.12 ignored "crit" and accepted this token (the advisory
    # behind the pyjwt>=2.12 pin); keyfob and its apps understand no extension.
    token = _raw({"kid": ED.kid, "crit": crit, "urn:example:must-understand": True})
    with pytest.raises(InvalidToken) as info:
        _verify(token)
    assert info.value.message.endswith(".")
