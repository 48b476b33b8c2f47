"""Client tokens (seed 003): HS256 with the client's secret, verified strictly here and by the
seed's own ``jsonwebtoken`` snippet under Node."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from keyfob.core.client_tokens import issue_client_token, new_client_secret, verify_client_token
from keyfob.errors import InvalidToken
from tests.jsonwebtoken import JsonWebTokenError, verify_with_jsonwebtoken

ISSUER = "https://auth.example.com"
CLIENT = "550e8400-e29b-41d4-a716-446655440000"
USER = "3f1c2b7e-0d5a-4c8e-9a61-2b7f0e4d9c11"


def make(secret: str, *, now: datetime | None = None, ttl: int = 300) -> str:
    return issue_client_token(
        secret,
        issuer=ISSUER,
        client_id=CLIENT,
        user_id=USER,
        now=now or datetime.now(UTC),
        ttl_seconds=ttl,
    )


def test_secret_has_256_bits() -> None:
    secret = new_client_secret()
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    assert secret != new_client_secret()


def test_claims_of_the_seed_and_the_registered_ones() -> None:
    secret = new_client_secret()
    now = datetime.now(UTC)
    token = make(secret, now=now)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience=CLIENT, issuer=ISSUER)
    assert claims["userId"] == claims["sub"] == USER
    assert claims["exp"] - claims["iat"] == 300
    verified = verify_client_token(
        token, secret, expected_issuer=ISSUER, expected_client_id=CLIENT, now=now
    )
    assert verified.user_id == USER
    assert verified.client_id == CLIENT


def test_the_seed_snippet_verifies_it() -> None:
    secret = new_client_secret()
    payload = verify_with_jsonwebtoken(make(secret), secret)
    assert payload["userId"] == USER
    with pytest.raises(JsonWebTokenError, match="invalid signature"):
        verify_with_jsonwebtoken(make(secret), new_client_secret())


def _forge(claims: dict[str, object], header: dict[str, str]) -> str:
    def part(value: object) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.filterwarnings("ignore:The HMAC key is 43 bytes long")
@pytest.mark.parametrize(
    "case",
    ["wrong_secret", "wrong_audience", "wrong_issuer", "expired", "alg_none", "hs512", "garbage"],
)
def test_refused(case: str) -> None:
    secret = new_client_secret()
    now = datetime.now(UTC)
    token = make(secret, now=now)
    audience, issuer = CLIENT, ISSUER
    if case == "wrong_secret":
        secret = new_client_secret()
    elif case == "wrong_audience":
        audience = "00000000-0000-0000-0000-000000000000"
    elif case == "wrong_issuer":
        issuer = "https://other.example.com"
    elif case == "expired":
        token = make(secret, now=now - timedelta(minutes=10))
    elif case == "alg_none":
        claims = jwt.decode(token, options={"verify_signature": False})
        token = _forge(claims, {"alg": "none", "typ": "JWT"})
    elif case == "hs512":
        claims = jwt.decode(token, options={"verify_signature": False})
        token = jwt.encode(claims, secret, algorithm="HS512")
    else:
        token = "not-a-token"
    with pytest.raises(InvalidToken):
        verify_client_token(
            token, secret, expected_issuer=issuer, expected_client_id=audience, now=now
        )
