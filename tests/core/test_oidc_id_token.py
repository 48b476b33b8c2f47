"""Tests for keyfob.core.oidc_id_token: issuing ID tokens, verifying id_token_hint."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keyfob.core.encoding import b64url_decode
from keyfob.core.keys import (
    SigningKey,
    generate_signing_key,
    load_signing_key,
    public_jwk,
    verification_key_from_jwk,
)
from keyfob.core.oidc_backchannel import issue_logout_token
from keyfob.core.oidc_core import at_hash
from keyfob.core.oidc_id_token import (
    HINT_SKEW_SECONDS,
    RESERVED_CLAIMS,
    IdTokenHint,
    issue_id_token,
    verify_id_token_hint,
)
from keyfob.core.rfc9068 import issue_client_access_token
from keyfob.errors import ConfigurationError, InvalidRequest, InvalidToken
from tests.core import jwt_forge as forge
from tests.core.node_jwt import verify_with_node
from tests.paths import VECTORS

ISS = "https://auth.example.com"
CLIENT = "s6BhdRkqt3"
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
RS = generate_signing_key("RS256")
EC = generate_signing_key("ES256")
ED = generate_signing_key("EdDSA")
HS = generate_signing_key("HS256")
KEYS = {key.kid: key for key in (RS, EC, ED, HS)}
ASYMMETRIC = [RS, EC, ED]
CORE = json.loads((VECTORS / "oidc" / "core_appendix_a.json").read_text())
# OpenID Connect Core 1.0 Appendix A.3 / A.4: the access token and code behind A.6's hashes.
CORE_ACCESS_TOKEN = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
CORE_CODE = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
# OpenID Connect Core 1.0 §2: the non-normative example ID token claims.
CORE_SECTION_2 = {
    "iss": "https://server.example.com",
    "sub": "24400320",
    "aud": "s6BhdRkqt3",
    "nonce": "n-0S6_WzA2Mj",
    "exp": 1311281970,
    "iat": 1311280970,
    "auth_time": 1311280969,
    "acr": "urn:mace:incommon:iap:silver",
}


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _issue(key: SigningKey = RS, **changes: Any) -> str:
    args: dict[str, Any] = {
        "issuer": ISS,
        "subject": "user-1",
        "audience": CLIENT,
        "now": NOW,
        "lifetime_seconds": 300,
        "auth_time": NOW - timedelta(seconds=30),
    }
    return issue_id_token(key, **{**args, **changes})


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _hint(token: str, **changes: Any) -> IdTokenHint:
    args: dict[str, Any] = {"expected_issuer": ISS, "now": NOW}
    return verify_id_token_hint(token, KEYS, **{**args, **changes})


# --- issuing -----------------------------------------------------------------------------------


def test_core_section_2_example_claims() -> None:
    token = issue_id_token(
        ED,
        issuer="https://server.example.com",
        subject="24400320",
        audience="s6BhdRkqt3",
        now=_at(1311280970),
        lifetime_seconds=1000,
        auth_time=_at(1311280969),
        nonce="n-0S6_WzA2Mj",
        extra={"acr": "urn:mace:incommon:iap:silver"},
    )
    assert _claims(token) == CORE_SECTION_2
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT", "kid": ED.kid}


def test_core_appendix_a6_claims_with_the_a7_key() -> None:
    # A.6 signed with A.7's key, plus the auth_time keyfob always sends: the same at_hash and
    # c_hash as the specification's token.
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
    expected = CORE["a6_claims"]
    token = issue_id_token(
        key,
        issuer=expected["iss"],
        subject=expected["sub"],
        audience=expected["aud"],
        now=_at(expected["iat"]),
        lifetime_seconds=expected["exp"] - expected["iat"],
        auth_time=_at(expected["iat"] - 5),
        nonce=expected["nonce"],
        access_token=CORE_ACCESS_TOKEN,
        code=CORE_CODE,
    )
    assert _claims(token) == {**expected, "auth_time": expected["iat"] - 5}
    public = verification_key_from_jwk(CORE["a7_public_jwk"])
    assert jwt.decode(
        token,
        public.verify_key,
        algorithms=["RS256"],
        audience=expected["aud"],
        options={"verify_exp": False},
    )


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_claims_on_the_wire(key: SigningKey) -> None:
    token = _issue(
        key,
        nonce="n-1",
        amr=("hwk", "user"),
        sid="sess-1",
        access_token="access-token-1",
        code="code-1",
        azp=CLIENT,
        extra={"name": "Alice"},
    )
    assert jwt.get_unverified_header(token) == {"alg": key.alg, "typ": "JWT", "kid": key.kid}
    crv = "Ed25519" if key.alg == "EdDSA" else None
    assert _claims(token) == {
        "iss": ISS,
        "sub": "user-1",
        "aud": CLIENT,
        "exp": NOW_S + 300,
        "iat": NOW_S,
        "auth_time": NOW_S - 30,
        "nonce": "n-1",
        "sid": "sess-1",
        "azp": CLIENT,
        "amr": ["hwk", "user"],
        "at_hash": at_hash("access-token-1", alg=key.alg, crv=crv),
        "c_hash": at_hash("code-1", alg=key.alg, crv=crv),
        "name": "Alice",
    }


def test_eddsa_hash_claims_use_sha512() -> None:
    claims = _claims(_issue(ED, access_token=CORE_ACCESS_TOKEN))
    assert len(b64url_decode(claims["at_hash"])) == 32  # half of SHA-512
    assert len(b64url_decode(_claims(_issue(RS, access_token="x"))["at_hash"])) == 16


def test_optional_claims_only_when_given() -> None:
    assert set(_claims(_issue())) == {"iss", "sub", "aud", "exp", "iat", "auth_time"}


def test_several_audiences_need_azp() -> None:
    claims = _claims(_issue(audience=(CLIENT, "other"), azp=CLIENT))
    assert (claims["aud"], claims["azp"]) == ([CLIENT, "other"], CLIENT)


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_third_party_pyjwt_verifies(key: SigningKey) -> None:
    claims = jwt.decode(
        _issue(key, nonce="n-1"),
        jwt.PyJWK(public_jwk(key)),
        algorithms=[key.alg],
        audience=CLIENT,
        issuer=ISS,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["nonce"] == "n-1"


@pytest.mark.parametrize("key", [RS, EC], ids=lambda k: k.alg)
def test_node_jsonwebtoken_verifies(key: SigningKey) -> None:
    header, claims = verify_with_node(
        _issue(key, nonce="n-1"),
        public_jwk(key),
        algorithms=[key.alg],
        issuer=ISS,
        audience=CLIENT,
        clockTimestamp=NOW_S + 10,
    )
    assert header["kid"] == key.kid
    assert claims["sub"] == "user-1"


ISSUE_REFUSED: list[tuple[str, Callable[[], Any], type[Exception]]] = [
    ("hs256-key", lambda: _issue(HS), ConfigurationError),
    (
        "verify-only-key",
        lambda: _issue(verification_key_from_jwk(public_jwk(RS))),
        ConfigurationError,
    ),
    ("zero-lifetime", lambda: _issue(lifetime_seconds=0), ConfigurationError),
    (
        "auth-time-after-now",
        lambda: _issue(auth_time=NOW + timedelta(seconds=1)),
        ConfigurationError,
    ),
    ("naive-now", lambda: _issue(now=datetime(2026, 5, 1)), ConfigurationError),
    ("sub-with-space", lambda: _issue(subject="user 1"), InvalidRequest),
    ("sub-too-long", lambda: _issue(subject="u" * 256), InvalidRequest),
    ("sub-empty", lambda: _issue(subject=""), InvalidRequest),
    ("no-audience", lambda: _issue(audience=()), InvalidRequest),
    ("empty-audience", lambda: _issue(audience=""), InvalidRequest),
    ("two-audiences-no-azp", lambda: _issue(audience=(CLIENT, "x")), InvalidRequest),
    ("azp-not-audience", lambda: _issue(azp="x"), InvalidRequest),
    ("empty-nonce", lambda: _issue(nonce=""), InvalidRequest),
    ("empty-amr", lambda: _issue(amr=("",)), InvalidRequest),
    ("amr-one-string", lambda: _issue(amr="pop"), InvalidRequest),
    ("empty-issuer", lambda: _issue(issuer=""), InvalidRequest),
    ("non-ascii-access-token", lambda: _issue(access_token="é"), InvalidRequest),
    *[
        (f"extra-{name}", lambda name=name: _issue(extra={name: "x"}), ConfigurationError)
        for name in sorted(RESERVED_CLAIMS)
    ],
]


@pytest.mark.parametrize(
    ("call", "error"), [(c, e) for _, c, e in ISSUE_REFUSED], ids=[n for n, _, _ in ISSUE_REFUSED]
)
def test_issue_refuses(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


# --- id_token_hint -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_hint_round_trip(key: SigningKey) -> None:
    hint = _hint(_issue(key, sid="sess-1"))
    assert hint == IdTokenHint(
        subject="user-1",
        audience=(CLIENT,),
        sid="sess-1",
        issued_at=NOW_S,
        expires_at=NOW_S + 300,
    )
    assert hint.is_for(CLIENT)
    assert not hint.is_for("other")


def test_hint_with_several_audiences_is_for_its_azp_only() -> None:
    hint = _hint(_issue(audience=(CLIENT, "other"), azp=CLIENT))
    assert hint.audience == (CLIENT, "other")
    assert hint.authorized_party == CLIENT
    assert hint.is_for(CLIENT)
    assert not hint.is_for("other")


def test_an_expired_hint_is_accepted() -> None:
    # OIDC Core §3.1.2.1 and RP-Initiated Logout §2: the hint may have expired.
    hint = _hint(_issue(), now=NOW + timedelta(days=30))
    assert hint.expires_at < int((NOW + timedelta(days=30)).timestamp())


def test_a_hint_from_a_fast_clock_is_accepted_within_the_skew() -> None:
    token = _issue(now=NOW + timedelta(seconds=HINT_SKEW_SECONDS), auth_time=NOW)
    assert _hint(token).issued_at == NOW_S + HINT_SKEW_SECONDS
    future = _issue(now=NOW + timedelta(seconds=HINT_SKEW_SECONDS + 1), auth_time=NOW)
    with pytest.raises(InvalidToken, match="in the future"):
        _hint(future)


def test_a_hint_verified_with_the_published_jwk() -> None:
    keys = {RS.kid: verification_key_from_jwk(public_jwk(RS))}
    assert verify_id_token_hint(_issue(), keys, expected_issuer=ISS, now=NOW).subject == "user-1"


GOOD = {
    "iss": ISS,
    "sub": "user-1",
    "aud": CLIENT,
    "iat": NOW_S,
    "exp": NOW_S + 300,
    "auth_time": NOW_S,
}


def _signed(key: SigningKey = RS, header: dict[str, Any] | None = None, **claims: Any) -> str:
    return forge.signed(key, {"typ": "JWT", "kid": key.kid, **(header or {})}, {**GOOD, **claims})


def _without(name: str) -> str:
    removed: dict[str, Any] = {name: None}
    return _signed(**removed)


OTHER_RS = generate_signing_key("RS256")
HINT_REFUSED: list[tuple[str, Callable[[], Any], str]] = [
    ("alg-none", lambda: forge.unsigned({"typ": "JWT", "kid": RS.kid}, GOOD), "alg none"),
    (
        "hs256-over-our-public-pem",
        lambda: forge.hmac_with(forge.public_pem(RS), {"typ": "JWT", "kid": RS.kid}, GOOD),
        "algorithm is not RS256",
    ),
    ("hs256-key-of-ours", lambda: _signed(HS), "shared secret"),
    ("es256-header-on-rs256-key", lambda: _signed(EC, header={"kid": RS.kid}), "algorithm"),
    ("unknown-kid", lambda: _signed(OTHER_RS), "key we do not know"),
    ("no-kid", lambda: _signed(header={"kid": None}), "key we do not know"),
    (
        "kid-not-string",
        lambda: forge.segments({"alg": "RS256", "typ": "JWT", "kid": 1}, GOOD) + ".c2ln",
        "key we do not know",
    ),
    ("other-key-same-kid", lambda: _signed(OTHER_RS, header={"kid": RS.kid}), "signature"),
    ("tampered", lambda: forge.tampered(_issue(), sub="admin"), "signature"),
    ("wrong-issuer", lambda: _signed(iss="https://evil.example.com"), "issued by someone else"),
    ("typ-missing", lambda: _signed(header={"typ": None}), "typ is not JWT"),
    (
        "core-a6-token-untyped",
        lambda: CORE["a6_id_token"],
        "typ is not JWT",
    ),
    (
        "rfc9068-access-token",
        lambda: issue_client_access_token(
            RS,
            issuer=ISS,
            subject="user-1",
            audience=CLIENT,
            client_id=CLIENT,
            scope=("openid",),
            now=NOW,
            lifetime_seconds=300,
            auth_time=NOW,
            grant_id="g-1",
        ),
        "typ is not JWT",
    ),
    (
        "logout-token",
        lambda: issue_logout_token(RS, issuer=ISS, audience=CLIENT, now=NOW, subject="user-1"),
        "typ is not JWT",
    ),
    *[
        (f"missing-{name}", lambda name=name: _without(name), f"has no {name} claim")
        for name in ("iss", "sub", "aud", "iat", "exp")
    ],
    ("aud-number", lambda: _signed(aud=5), "aud claim"),
    ("aud-empty-list", lambda: _signed(aud=[]), "aud claim"),
    ("aud-list-with-number", lambda: _signed(aud=[CLIENT, 5]), "aud claim"),
    ("sub-empty", lambda: _signed(sub=""), "sub claim"),
    ("sub-number", lambda: _signed(sub=5), "malformed"),  # PyJWT checks sub is a string
    ("sid-number", lambda: _signed(sid=5), "sid claim"),
    ("iat-string", lambda: _signed(iat=str(NOW_S)), "iat claim"),
    ("iat-float", lambda: _signed(iat=NOW_S + 0.5), "iat claim"),
    ("exp-bool", lambda: _signed(exp=True), "exp claim"),
    ("exp-before-iat", lambda: _signed(exp=NOW_S - 1), "expires before"),
    ("issued-in-future", lambda: _signed(iat=NOW_S + 61, exp=NOW_S + 400), "in the future"),
    ("empty", lambda: "", "missing"),
    ("not-a-string", lambda: None, "missing"),
    ("too-long", lambda: "a" * 9000, "too long"),
    ("garbage", lambda: "a.b.c", "not a well-formed JWT"),
    ("four-segments", lambda: _issue() + ".x", "not a well-formed JWT"),
    ("header-not-object", lambda: forge.b64(b"[1]") + ".e30.", "not a well-formed JWT"),
    ("bad-signature-base64", lambda: _issue() + "!", "malformed"),
    (
        "unknown-crit",
        lambda: _signed(header={"crit": ["urn:x"], "urn:x": True}),
        "malformed",
    ),
]


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in HINT_REFUSED], ids=[n for n, _, _ in HINT_REFUSED]
)
def test_hint_refused(make: Callable[[], Any], reason: str) -> None:
    keys = {**KEYS, "1e9gdk7": verification_key_from_jwk(CORE["a7_public_jwk"])}
    with pytest.raises(InvalidToken) as info:
        verify_id_token_hint(make(), keys, expected_issuer=ISS, now=NOW)
    assert type(info.value) is InvalidToken
    assert reason in info.value.message
    assert info.value.message.endswith(".")
    assert info.value.message.startswith("The ")
