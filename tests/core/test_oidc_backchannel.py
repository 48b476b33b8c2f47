"""Tests for keyfob.core.oidc_backchannel: Back-Channel Logout 1.0 logout tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keyfob.core.keys import SigningKey, generate_signing_key, public_jwk, verification_key_from_jwk
from keyfob.core.oidc_backchannel import (
    BACKCHANNEL_LOGOUT_EVENT,
    LOGOUT_TOKEN_LIFETIME,
    LogoutToken,
    issue_logout_token,
    verify_logout_token,
)
from keyfob.core.oidc_id_token import issue_id_token
from keyfob.core.rfc9068 import issue_client_access_token
from keyfob.errors import ConfigurationError, InvalidRequest, InvalidToken
from tests.core import jwt_forge as forge
from tests.core.node_jwt import verify_with_node

ISS = "https://server.example.com"
CLIENT = "s6BhdRkqt3"
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
RS = generate_signing_key("RS256")
EC = generate_signing_key("ES256")
ED = generate_signing_key("EdDSA")
HS = generate_signing_key("HS256")
KEYS = {key.kid: key for key in (RS, EC, ED, HS)}
ASYMMETRIC = [RS, EC, ED]
# Back-Channel Logout 1.0 draft 11 incorporating errata set 1 (openid/connect,
# openid-connect-backchannel-1_0.xml, 28 July 2023), §2.4: the example Logout Token claims.
SPEC_EXAMPLE: dict[str, Any] = {
    "iss": "https://server.example.com",
    "sub": "248289761001",
    "aud": "s6BhdRkqt3",
    "iat": 1471566154,
    "exp": 1471569754,
    "jti": "bWJq",
    "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
    "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
}
SPEC_NOW = datetime.fromtimestamp(SPEC_EXAMPLE["iat"] + 60, UTC)


def _issue(key: SigningKey = RS, **changes: Any) -> str:
    args: dict[str, Any] = {
        "issuer": ISS,
        "audience": CLIENT,
        "now": NOW,
        "subject": "user-1",
        "sid": "sess-1",
    }
    return issue_logout_token(key, **{**args, **changes})


def _verify(token: str, **changes: Any) -> LogoutToken:
    args: dict[str, Any] = {"expected_issuer": ISS, "expected_audience": CLIENT, "now": NOW}
    return verify_logout_token(token, KEYS, **{**args, **changes})


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- positive ----------------------------------------------------------------------------------


def test_spec_example_claims_when_issued_with_its_values() -> None:
    token = issue_logout_token(
        RS,
        issuer=SPEC_EXAMPLE["iss"],
        audience=SPEC_EXAMPLE["aud"],
        now=datetime.fromtimestamp(SPEC_EXAMPLE["iat"], UTC),
        subject=SPEC_EXAMPLE["sub"],
        sid=SPEC_EXAMPLE["sid"],
        jti=SPEC_EXAMPLE["jti"],
    )
    # The same claims but exp: keyfob's logout tokens live two minutes (§4 advises at most
    # two), the example's an hour.
    assert _claims(token) == {**SPEC_EXAMPLE, "exp": SPEC_EXAMPLE["iat"] + 120}
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "logout+jwt", "kid": RS.kid}


def test_spec_example_verifies_when_typed() -> None:
    token = forge.signed(RS, {"typ": "logout+jwt", "kid": RS.kid}, SPEC_EXAMPLE)
    verified = verify_logout_token(
        token, KEYS, expected_issuer=ISS, expected_audience=CLIENT, now=SPEC_NOW
    )
    assert verified == LogoutToken(
        issuer=ISS,
        audience=(CLIENT,),
        subject="248289761001",
        sid="08a5019c-17e1-4977-8f42-65a12843ea02",
        issued_at=1471566154,
        expires_at=1471569754,
        jti="bWJq",
    )
    # Untyped, as most providers send it: keyfob's verifier requires its explicit type.
    untyped = forge.signed(RS, {"kid": RS.kid}, SPEC_EXAMPLE)
    with pytest.raises(InvalidToken, match="typ is not logout\\+jwt"):
        verify_logout_token(
            untyped, KEYS, expected_issuer=ISS, expected_audience=CLIENT, now=SPEC_NOW
        )


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_round_trip(key: SigningKey) -> None:
    verified = _verify(_issue(key, jti="j-1"))
    assert verified == LogoutToken(
        issuer=ISS,
        audience=(CLIENT,),
        subject="user-1",
        sid="sess-1",
        issued_at=NOW_S,
        expires_at=NOW_S + LOGOUT_TOKEN_LIFETIME,
        jti="j-1",
    )


def test_claims_on_the_wire() -> None:
    claims = _claims(_issue(sid=None))
    assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "events", "sub"}
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert claims["exp"] - claims["iat"] == 120
    assert "nonce" not in claims
    assert len(base64.urlsafe_b64decode(claims["jti"] + "==")) == 16
    assert _claims(_issue())["jti"] != claims["jti"]


def test_sub_or_sid_alone() -> None:
    assert _verify(_issue(subject=None)).subject is None
    assert _verify(_issue(sid=None)).sid is None


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_third_party_pyjwt_verifies(key: SigningKey) -> None:
    claims = jwt.decode(
        _issue(key),
        jwt.PyJWK(public_jwk(key)),
        algorithms=[key.alg],
        audience=CLIENT,
        issuer=ISS,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}


@pytest.mark.parametrize("key", [RS, EC], ids=lambda k: k.alg)
def test_node_jsonwebtoken_verifies(key: SigningKey) -> None:
    header, claims = verify_with_node(
        _issue(key),
        public_jwk(key),
        algorithms=[key.alg],
        issuer=ISS,
        audience=CLIENT,
        clockTimestamp=NOW_S + 1,
    )
    assert header["typ"] == "logout+jwt"
    assert claims["sid"] == "sess-1"


def test_verify_only_key_and_time_window() -> None:
    keys = {EC.kid: verification_key_from_jwk(public_jwk(EC))}
    token = _issue(EC)
    args: dict[str, Any] = {"expected_issuer": ISS, "expected_audience": CLIENT}
    last = NOW + timedelta(seconds=LOGOUT_TOKEN_LIFETIME - 1)
    assert verify_logout_token(token, keys, now=last, **args).sid == "sess-1"
    later = NOW + timedelta(seconds=LOGOUT_TOKEN_LIFETIME + 5)
    assert verify_logout_token(token, keys, now=later, leeway=10, **args).sid == "sess-1"
    with pytest.raises(InvalidToken, match="has expired"):
        verify_logout_token(token, keys, now=NOW + timedelta(seconds=120), **args)


def test_audience_list_holding_the_client() -> None:
    token = forge.signed(
        RS, {"typ": "logout+jwt", "kid": RS.kid}, {**SPEC_EXAMPLE, "aud": ["x", CLIENT]}
    )
    verified = verify_logout_token(
        token, KEYS, expected_issuer=ISS, expected_audience=CLIENT, now=SPEC_NOW
    )
    assert verified.audience == ("x", CLIENT)


# --- negative ----------------------------------------------------------------------------------

GOOD = {**SPEC_EXAMPLE, "iat": NOW_S, "exp": NOW_S + 120}
OTHER = generate_signing_key("RS256")


def _signed(key: SigningKey = RS, header: dict[str, Any] | None = None, **claims: Any) -> str:
    header = {"typ": "logout+jwt", "kid": key.kid, **(header or {})}
    return forge.signed(key, header, {**GOOD, **claims})


def _without(name: str) -> str:
    removed: dict[str, Any] = {name: None}
    return _signed(**removed)


REFUSED: list[tuple[str, Callable[[], Any], str]] = [
    ("alg-none", lambda: forge.unsigned({"typ": "logout+jwt", "kid": RS.kid}, GOOD), "alg none"),
    (
        "hs256-over-our-public-pem",
        lambda: forge.hmac_with(forge.public_pem(RS), {"typ": "logout+jwt", "kid": RS.kid}, GOOD),
        "algorithm is not RS256",
    ),
    ("hs256-key-of-ours", lambda: _signed(HS), "shared secret"),
    ("unknown-kid", lambda: _signed(OTHER), "key we do not know"),
    ("other-key-same-kid", lambda: _signed(OTHER, header={"kid": RS.kid}), "signature"),
    ("tampered-sid", lambda: forge.tampered(_issue(), sid="someone-else"), "signature"),
    ("wrong-issuer", lambda: _signed(iss="https://evil.example.com"), "issued by someone else"),
    ("wrong-audience", lambda: _signed(aud="another-client"), "another client"),
    ("audience-list-without-us", lambda: _signed(aud=["a", "b"]), "another client"),
    ("typ-jwt", lambda: _signed(header={"typ": "JWT"}), "typ is not logout+jwt"),
    ("typ-at-jwt", lambda: _signed(header={"typ": "at+jwt"}), "typ is not logout+jwt"),
    ("typ-secevent", lambda: _signed(header={"typ": "secevent+jwt"}), "typ is not logout+jwt"),
    (
        "id-token",
        lambda: issue_id_token(
            RS,
            issuer=ISS,
            subject="user-1",
            audience=CLIENT,
            now=NOW,
            lifetime_seconds=120,
            auth_time=NOW,
            sid="sess-1",
        ),
        "typ is not logout+jwt",
    ),
    (
        "access-token",
        lambda: issue_client_access_token(
            RS,
            issuer=ISS,
            subject="user-1",
            audience=CLIENT,
            client_id=CLIENT,
            scope=("openid",),
            now=NOW,
            lifetime_seconds=120,
            auth_time=NOW,
            grant_id="g",
        ),
        "typ is not logout+jwt",
    ),
    ("expired", lambda: _signed(iat=NOW_S - 200, exp=NOW_S - 80), "has expired"),
    ("expires-now", lambda: _signed(iat=NOW_S - 120, exp=NOW_S), "has expired"),
    ("issued-in-future", lambda: _signed(iat=NOW_S + 5, exp=NOW_S + 125), "in the future"),
    ("exp-before-iat", lambda: _signed(exp=NOW_S - 1), "expires before"),
    ("iat-string", lambda: _signed(iat="now"), "iat claim"),
    ("with-nonce", lambda: _signed(nonce="n-0S6_WzA2Mj"), "nonce"),
    ("with-null-nonce", lambda: _signed_raw_nonce_null(), "nonce"),
    ("missing-events", lambda: _signed(events=None), "has no events claim"),
    ("events-not-object", lambda: _signed(events=[BACKCHANNEL_LOGOUT_EVENT]), "events claim"),
    ("events-without-logout", lambda: _signed(events={"urn:other": {}}), "events claim"),
    (
        "events-member-not-object",
        lambda: _signed(events={BACKCHANNEL_LOGOUT_EVENT: True}),
        "events claim",
    ),
    ("neither-sub-nor-sid", lambda: _signed(sub=None, sid=None), "neither a subject"),
    ("sid-empty", lambda: _signed(sid=""), "sid claim"),
    ("sid-number", lambda: _signed(sid=7), "sid claim"),
    *[
        (f"missing-{name}", lambda name=name: _without(name), f"has no {name} claim")
        for name in ("iss", "aud", "iat", "exp", "jti")
    ],
    ("garbage", lambda: "a.b.c", "not a well-formed JWT"),
    ("empty", lambda: "", "missing"),
]


def _signed_raw_nonce_null() -> str:
    # drop_none would remove a None claim: put the JSON null in by hand.
    header = forge.b64(json.dumps({"alg": "RS256", "typ": "logout+jwt", "kid": RS.kid}).encode())
    payload = forge.b64(json.dumps({**GOOD, "nonce": None}).encode())
    assert isinstance(RS.private_key, rsa.RSAPrivateKey)
    signature = RS.private_key.sign(
        f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{header}.{payload}.{forge.b64(signature)}"


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in REFUSED], ids=[n for n, _, _ in REFUSED]
)
def test_verify_refuses(make: Callable[[], Any], reason: str) -> None:
    with pytest.raises(InvalidToken) as info:
        _verify(make())
    assert type(info.value) is InvalidToken
    assert reason in info.value.message
    assert info.value.message.endswith(".")


ISSUE_REFUSED: list[tuple[str, Callable[[], Any], type[Exception]]] = [
    ("neither-sub-nor-sid", lambda: _issue(subject=None, sid=None), InvalidRequest),
    ("empty-sid", lambda: _issue(sid=""), InvalidRequest),
    ("empty-sub", lambda: _issue(subject=""), InvalidRequest),
    ("empty-audience", lambda: _issue(audience=""), InvalidRequest),
    ("empty-jti", lambda: _issue(jti=""), InvalidRequest),
    ("hs256-key", lambda: _issue(HS), ConfigurationError),
    ("verify-only", lambda: _issue(verification_key_from_jwk(public_jwk(ED))), ConfigurationError),
    ("naive-now", lambda: _issue(now=datetime(2026, 5, 1)), ConfigurationError),
]


@pytest.mark.parametrize(
    ("call", "error"), [(c, e) for _, c, e in ISSUE_REFUSED], ids=[n for n, _, _ in ISSUE_REFUSED]
)
def test_issue_refuses(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()
