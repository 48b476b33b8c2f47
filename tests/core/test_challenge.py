"""Tests for keyfob.core.challenge: seed 000's HS256 challenge JWT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from keyfob.core.challenge import Challenge, issue_challenge, verify_challenge
from keyfob.core.keys import generate_signing_key
from keyfob.core.secretbox import derive_key
from keyfob.core.tokens import issue_access_token
from keyfob.errors import ConfigurationError, InvalidNonce

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
SECRET = "a-test-secret-that-is-long-enough-0123456789"
KEY = derive_key(SECRET, "challenge")
ISS = "https://auth.example.com"
AUD = "https://auth.example.com/auth/challenge"


def _verify(token: Any, *, now: datetime = NOW, key: bytes = KEY) -> Challenge:
    return verify_challenge(token, key=key, expected_issuer=ISS, expected_audience=AUD, now=now)


def test_issue_and_verify() -> None:
    challenge = issue_challenge(key=KEY, issuer=ISS, audience=AUD, now=NOW, ttl=300)
    assert challenge.issued_at == NOW
    assert challenge.expires_at == NOW + timedelta(seconds=300)
    assert _verify(challenge.token) == challenge
    assert _verify(challenge.token, now=NOW + timedelta(seconds=299)) == challenge


def test_is_a_standard_hs256_jwt() -> None:
    # Seed 000's clients and any JWT library can read it with the derived key.
    challenge = issue_challenge(key=KEY, issuer=ISS, audience=AUD, now=NOW)
    assert jwt.get_unverified_header(challenge.token) == {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(
        challenge.token, KEY, algorithms=["HS256"], audience=AUD, options={"verify_exp": False}
    )
    assert payload == {
        "iss": ISS,
        "aud": AUD,
        "jti": challenge.jti,
        "iat": NOW_S,
        "exp": NOW_S + 300,
    }


def test_jtis_are_unique() -> None:
    jtis = {issue_challenge(key=KEY, issuer=ISS, audience=AUD, now=NOW).jti for _ in range(100)}
    assert len(jtis) == 100


def _token(key: bytes = KEY, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    payload = {"iss": ISS, "aud": AUD, "jti": "j1", "iat": NOW_S, "exp": NOW_S + 300, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="HS256", headers={"typ": "JWT", **(headers or {})})


def _access_token() -> str:
    token, _ = issue_access_token(
        key=generate_signing_key("EdDSA"),
        issuer=ISS,
        audience=AUD,
        subject="u",
        session_id=None,
        amr=(),
        chain=None,
        address=None,
        now=NOW,
        ttl=60,
    )
    return token


def _tampered() -> str:
    head, _, sig = _token().split(".")
    other = _token(jti="j2").split(".")[1]
    return f"{head}.{other}.{sig}"


NEGATIVE: list[tuple[str, Callable[[], Any], str]] = [
    ("expired", lambda: _token(iat=NOW_S - 300, exp=NOW_S), "expired"),
    ("issued-in-future", lambda: _token(iat=NOW_S + 10), "in the future"),
    ("wrong-issuer", lambda: _token(iss="https://evil.example.com"), "another server"),
    ("wrong-audience", lambda: _token(aud=ISS), "another server"),
    ("other-key", lambda: _token(key=derive_key(SECRET, "other")), "not ours"),
    ("tampered", _tampered, "not ours"),
    ("access-token", _access_token, "not one of ours"),
    ("typ-at-jwt", lambda: _token(headers={"typ": "at+jwt"}), "not one of ours"),
    ("alg-none", lambda: jwt.encode({"iss": ISS}, "", algorithm="none"), "not one of ours"),
    ("missing-jti", lambda: _token(jti=None), "no jti claim"),
    ("missing-exp", lambda: _token(exp=None), "no exp claim"),
    ("jti-not-string", lambda: _token(jti=5), "malformed"),
    ("exp-string", lambda: _token(exp="soon"), "not valid times"),
    ("exp-huge", lambda: _token(exp=10**20), "out of range"),
    ("garbage", lambda: "not.a.jwt", "well-formed"),
    ("empty", lambda: "", "missing"),
    ("not-string", lambda: 42, "missing"),
    ("too-long", lambda: "e" * 5000, "too long"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in NEGATIVE], ids=[n for n, _, _ in NEGATIVE]
)
def test_verify_refuses(make: Callable[[], Any], reason: str) -> None:
    with pytest.raises(InvalidNonce) as info:
        _verify(make())
    assert reason in info.value.message
    assert info.value.message.endswith(".")


@pytest.mark.parametrize("key", [b"short", "a-string-is-not-bytes-0123456789abcdef"])
def test_weak_keys_are_a_configuration_error(key: Any) -> None:
    with pytest.raises(ConfigurationError):
        issue_challenge(key=key, issuer=ISS, audience=AUD, now=NOW)
    with pytest.raises(ConfigurationError):
        _verify("x.y.z", key=key)
