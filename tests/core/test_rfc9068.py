"""Tests for keyfob.core.rfc9068: JWT access tokens for OpenID Connect clients, and that they and
keyfob's own API tokens (keyfob.core.tokens) refuse each other."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from keyfob.core.keys import SigningKey, generate_signing_key, public_jwk, verification_key_from_jwk
from keyfob.core.oidc_id_token import issue_id_token
from keyfob.core.rfc9068 import (
    ClientAccessToken,
    issue_client_access_token,
    verify_client_access_token,
)
from keyfob.core.tokens import issue_access_token, verify_access_token
from keyfob.errors import ConfigurationError, InvalidRequest, InvalidToken
from tests.core import jwt_forge as forge
from tests.core.node_jwt import verify_with_node

ISS = "https://auth.example.com"
CLIENT = "s6BhdRkqt3"
RESOURCE = "https://rs.example.com/"
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
RS = generate_signing_key("RS256")
EC = generate_signing_key("ES256")
ED = generate_signing_key("EdDSA")
HS = generate_signing_key("HS256")
KEYS = {key.kid: key for key in (RS, EC, ED, HS)}
ASYMMETRIC = [RS, EC, ED]
# RFC 9068 §3, Figure 2: the JWT access token issued for the request of Figure 1.
RFC9068_HEADER = {"typ": "at+JWT", "alg": "RS256", "kid": "RjEwOwOA"}
RFC9068_CLAIMS: dict[str, Any] = {
    "iss": "https://authorization-server.example.com/",
    "sub": "5ba552d67",
    "aud": "https://rs.example.com/",
    "exp": 1639528912,
    "iat": 1618354090,
    "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
    "client_id": "s6BhdRkqt3",
    "scope": "openid profile reademail",
}


def _issue(key: SigningKey = RS, **changes: Any) -> str:
    args: dict[str, Any] = {
        "issuer": ISS,
        "subject": "user-1",
        "audience": CLIENT,
        "client_id": CLIENT,
        "scope": ("openid", "profile"),
        "now": NOW,
        "lifetime_seconds": 300,
        "auth_time": NOW - timedelta(seconds=30),
        "grant_id": "grant-1",
    }
    return issue_client_access_token(key, **{**args, **changes})


def _verify(token: str, **changes: Any) -> ClientAccessToken:
    args: dict[str, Any] = {"expected_issuer": ISS, "now": NOW}
    return verify_client_access_token(token, KEYS, **{**args, **changes})


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- positive ----------------------------------------------------------------------------------


def test_rfc9068_figure_2_claim_set_plus_keyfobs_own() -> None:
    # Issued with the values of RFC 9068 Figure 2: the same claims, plus auth_time and gid.
    token = issue_client_access_token(
        RS,
        issuer=RFC9068_CLAIMS["iss"],
        subject=RFC9068_CLAIMS["sub"],
        audience=RFC9068_CLAIMS["aud"],
        client_id=RFC9068_CLAIMS["client_id"],
        scope=RFC9068_CLAIMS["scope"].split(" "),
        now=datetime.fromtimestamp(RFC9068_CLAIMS["iat"], UTC),
        lifetime_seconds=RFC9068_CLAIMS["exp"] - RFC9068_CLAIMS["iat"],
        auth_time=datetime.fromtimestamp(RFC9068_CLAIMS["iat"] - 60, UTC),
        jti=RFC9068_CLAIMS["jti"],
        grant_id="grant-1",
    )
    assert _claims(token) == {
        **RFC9068_CLAIMS,
        "auth_time": RFC9068_CLAIMS["iat"] - 60,
        "gid": "grant-1",
    }
    assert list(_claims(token))[:7] == ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "at+jwt", "kid": RS.kid}


def test_rfc9068_figure_2_token_verifies_with_keyfobs_claims_added() -> None:
    # Figure 2's header as written (typ "at+JWT": media types compare case-insensitively).
    key = generate_signing_key("RS256")
    header = {**RFC9068_HEADER, "kid": key.kid}
    claims = {**RFC9068_CLAIMS, "auth_time": RFC9068_CLAIMS["iat"], "gid": "grant-1"}
    verified = verify_client_access_token(
        forge.signed(key, header, claims),
        {key.kid: key},
        expected_issuer=RFC9068_CLAIMS["iss"],
        expected_audience=RESOURCE,
        now=datetime.fromtimestamp(RFC9068_CLAIMS["iat"] + 10, UTC),
    )
    assert verified.scope == ("openid", "profile", "reademail")
    assert verified.client_id == "s6BhdRkqt3"
    # The example as it is has no gid: not a token keyfob issued, so refused.
    with pytest.raises(InvalidToken, match="has no gid claim"):
        verify_client_access_token(
            forge.signed(key, header, {**RFC9068_CLAIMS, "auth_time": RFC9068_CLAIMS["iat"]}),
            {key.kid: key},
            expected_issuer=RFC9068_CLAIMS["iss"],
            now=datetime.fromtimestamp(RFC9068_CLAIMS["iat"] + 10, UTC),
        )


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_round_trip(key: SigningKey) -> None:
    token = _issue(key, sid="sess-1", amr=("swk", "user"), jti="jti-1")
    assert _verify(token, expected_audience=CLIENT) == ClientAccessToken(
        issuer=ISS,
        subject="user-1",
        audience=(CLIENT,),
        client_id=CLIENT,
        scope=("openid", "profile"),
        issued_at=NOW_S,
        expires_at=NOW_S + 300,
        auth_time=NOW_S - 30,
        jti="jti-1",
        grant_id="grant-1",
        sid="sess-1",
        amr=("swk", "user"),
    )


def test_optional_claims_only_when_given_and_jti_random() -> None:
    claims = _claims(_issue())
    assert set(claims) == {
        *("iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope", "auth_time", "gid")
    }
    jtis = {_claims(_issue())["jti"] for _ in range(50)}
    assert len(jtis) == 50
    assert all(len(base64.urlsafe_b64decode(j + "==")) == 16 for j in jtis)


def test_resource_audiences_and_audience_check() -> None:
    token = _issue(audience=(RESOURCE, "https://other.example.com/"))
    assert _claims(token)["aud"] == [RESOURCE, "https://other.example.com/"]
    assert _verify(token, expected_audience=RESOURCE).audience[0] == RESOURCE
    assert _verify(token).client_id == CLIENT  # UserInfo: no audience asked
    with pytest.raises(InvalidToken, match="another audience"):
        _verify(token, expected_audience=CLIENT)


def test_time_window_and_leeway() -> None:
    token = _issue(lifetime_seconds=60)
    assert _verify(token, now=NOW + timedelta(seconds=59)).expires_at == NOW_S + 60
    assert _verify(token, now=NOW + timedelta(seconds=65), leeway=10).jti
    assert _verify(token, now=NOW - timedelta(seconds=5), leeway=10).jti
    with pytest.raises(InvalidToken, match=r"^The access token has expired\.$"):
        _verify(token, now=NOW + timedelta(seconds=60))
    with pytest.raises(InvalidToken, match="in the future"):
        _verify(token, now=NOW - timedelta(seconds=1))


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_third_party_pyjwt_verifies_with_the_published_jwk(key: SigningKey) -> None:
    claims = jwt.decode(
        _issue(key),
        jwt.PyJWK(public_jwk(key)),
        algorithms=[key.alg],
        audience=CLIENT,
        issuer=ISS,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["scope"] == "openid profile"


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
    assert header == {"alg": key.alg, "typ": "at+jwt", "kid": key.kid}
    assert (claims["client_id"], claims["gid"]) == (CLIENT, "grant-1")


def test_verify_only_key_from_the_jwks_verifies() -> None:
    keys = {RS.kid: verification_key_from_jwk(public_jwk(RS))}
    assert verify_client_access_token(_issue(), keys, expected_issuer=ISS, now=NOW).subject


# --- keyfob's API tokens and OIDC client tokens refuse each other ------------------------------


def _api_token(key: SigningKey) -> str:
    token, _ = issue_access_token(
        key=key,
        issuer=ISS,
        audience=ISS,
        subject="user-1",
        session_id="sess-1",
        amr=("pop",),
        chain="ethereum",
        address=None,
        now=NOW,
        ttl=300,
    )
    return token


@pytest.mark.parametrize("key", [ED, EC, HS], ids=lambda k: k.alg)
def test_keyfobs_api_token_is_not_a_client_access_token(key: SigningKey) -> None:
    token = _api_token(key)
    assert verify_access_token(
        token, keys=KEYS, expected_issuer=ISS, expected_audience=ISS, now=NOW
    )
    with pytest.raises(InvalidToken) as info:
        _verify(token)
    # HS256 fails on its key before its claims; the others lack client_id.
    assert ("shared secret" if key is HS else "has no client_id claim") in info.value.message


@pytest.mark.parametrize("key", ASYMMETRIC, ids=lambda k: k.alg)
def test_a_client_access_token_is_not_keyfobs_api_token(key: SigningKey) -> None:
    # Even with aud set to keyfob's API audience (an RFC 8707 resource naming keyfob).
    token = _issue(key, audience=ISS)
    assert _verify(token, expected_audience=ISS).audience == (ISS,)
    with pytest.raises(InvalidToken, match="OpenID Connect client's access token"):
        verify_access_token(token, keys=KEYS, expected_issuer=ISS, expected_audience=ISS, now=NOW)


@pytest.mark.parametrize("claim", ["client_id", "gid"])
def test_keyfob_api_verify_refuses_either_client_claim(claim: str) -> None:
    claims = {
        "iss": ISS,
        "aud": ISS,
        "sub": "user-1",
        "iat": NOW_S,
        "exp": NOW_S + 300,
        "jti": "j",
        claim: "x",
    }
    token = forge.signed(ED, {"typ": "at+jwt", "kid": ED.kid}, claims)
    with pytest.raises(InvalidToken, match="OpenID Connect client's access token"):
        verify_access_token(token, keys=KEYS, expected_issuer=ISS, expected_audience=ISS, now=NOW)


# --- negative ----------------------------------------------------------------------------------

GOOD = {
    "iss": ISS,
    "exp": NOW_S + 300,
    "aud": CLIENT,
    "sub": "user-1",
    "client_id": CLIENT,
    "iat": NOW_S,
    "jti": "jti-1",
    "scope": "openid",
    "auth_time": NOW_S,
    "gid": "grant-1",
}


def _signed(key: SigningKey = RS, header: dict[str, Any] | None = None, **claims: Any) -> str:
    header = {"typ": "at+jwt", "kid": key.kid, **(header or {})}
    return forge.signed(key, header, {**GOOD, **claims})


def _without(name: str) -> str:
    removed: dict[str, Any] = {name: None}
    return _signed(**removed)


OTHER = generate_signing_key("RS256")
REFUSED: list[tuple[str, Callable[[], Any], str]] = [
    ("alg-none", lambda: forge.unsigned({"typ": "at+jwt", "kid": RS.kid}, GOOD), "alg none"),
    (
        "hs256-over-our-public-pem",
        lambda: forge.hmac_with(forge.public_pem(EC), {"typ": "at+jwt", "kid": EC.kid}, GOOD),
        "algorithm is not ES256",
    ),
    ("hs256-key-of-ours", lambda: _signed(HS), "shared secret"),
    ("unknown-kid", lambda: _signed(OTHER), "key we do not know"),
    ("other-key-same-kid", lambda: _signed(OTHER, header={"kid": RS.kid}), "signature"),
    ("tampered-scope", lambda: forge.tampered(_issue(), scope="openid admin"), "signature"),
    ("wrong-issuer", lambda: _signed(iss="https://evil.example.com"), "issued by someone else"),
    ("typ-jwt", lambda: _signed(header={"typ": "JWT"}), "typ is not at+jwt"),
    ("typ-missing", lambda: _signed(header={"typ": None}), "typ is not at+jwt"),
    ("typ-logout", lambda: _signed(header={"typ": "logout+jwt"}), "typ is not at+jwt"),
    (
        "id-token",
        lambda: issue_id_token(
            RS,
            issuer=ISS,
            subject="user-1",
            audience=CLIENT,
            now=NOW,
            lifetime_seconds=300,
            auth_time=NOW,
        ),
        "typ is not at+jwt",
    ),
    *[
        (f"missing-{name}", lambda name=name: _without(name), f"has no {name} claim")
        for name in GOOD
    ],
    ("client-id-empty", lambda: _signed(client_id=""), "client_id claim"),
    ("client-id-number", lambda: _signed(client_id=7), "client_id claim"),
    ("gid-empty", lambda: _signed(gid=""), "gid claim"),
    ("gid-list", lambda: _signed(gid=["g"]), "gid claim"),
    ("scope-empty", lambda: _signed(scope=""), "scope claim"),
    ("scope-list", lambda: _signed(scope=["openid"]), "scope claim"),
    ("scope-double-space", lambda: _signed(scope="openid  profile"), "scope claim"),
    ("scope-quote", lambda: _signed(scope='openid "x'), "scope claim"),
    ("amr-string", lambda: _signed(amr="pop"), "amr claim"),
    ("sid-number", lambda: _signed(sid=1), "sid claim"),
    ("aud-number", lambda: _signed(aud=1), "aud claim"),
    ("expired", lambda: _signed(iat=NOW_S - 600, exp=NOW_S, auth_time=NOW_S - 600), "expired"),
    ("issued-in-future", lambda: _signed(iat=NOW_S + 5, exp=NOW_S + 300), "in the future"),
    ("exp-before-iat", lambda: _signed(exp=NOW_S - 1), "not in order"),
    ("auth-time-after-iat", lambda: _signed(auth_time=NOW_S + 1), "not in order"),
    ("auth-time-string", lambda: _signed(auth_time="now"), "auth_time claim"),
    ("exp-float", lambda: _signed(exp=NOW_S + 300.5), "exp claim"),
    ("too-long", lambda: "a" * 9000, "too long"),
    ("garbage", lambda: "x.y.z", "not a well-formed JWT"),
    ("refresh-token-like", lambda: "kfr_abc", "not a well-formed JWT"),
]


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
    ("hs256-key", lambda: _issue(HS), ConfigurationError),
    ("verify-only", lambda: _issue(verification_key_from_jwk(public_jwk(EC))), ConfigurationError),
    ("zero-lifetime", lambda: _issue(lifetime_seconds=0), ConfigurationError),
    (
        "auth-time-after-now",
        lambda: _issue(auth_time=NOW + timedelta(seconds=1)),
        ConfigurationError,
    ),
    ("naive-auth-time", lambda: _issue(auth_time=datetime(2026, 5, 1)), ConfigurationError),
    ("no-scope", lambda: _issue(scope=()), InvalidRequest),
    ("scope-string", lambda: _issue(scope="openid profile"), InvalidRequest),
    ("scope-with-space", lambda: _issue(scope=("openid profile",)), InvalidRequest),
    ("scope-empty-token", lambda: _issue(scope=("openid", "")), InvalidRequest),
    ("no-audience", lambda: _issue(audience=()), InvalidRequest),
    ("empty-client-id", lambda: _issue(client_id=""), InvalidRequest),
    ("empty-grant-id", lambda: _issue(grant_id=""), InvalidRequest),
    ("empty-jti", lambda: _issue(jti=""), InvalidRequest),
    ("empty-sid", lambda: _issue(sid=""), InvalidRequest),
    ("amr-one-string", lambda: _issue(amr="pop"), InvalidRequest),
    ("empty-subject", lambda: _issue(subject=""), InvalidRequest),
]


@pytest.mark.parametrize(
    ("call", "error"), [(c, e) for _, c, e in ISSUE_REFUSED], ids=[n for n, _, _ in ISSUE_REFUSED]
)
def test_issue_refuses(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()
