"""Step-up grants: bound to user, session, key, type and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from keyfob.core.step_up import GRANT_TYP, issue_step_up_grant, verify_step_up_grant
from keyfob.errors import ConfigurationError, StepUpRequired

KEY = b"k" * 32
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ISS, AUD = "https://id.example", "https://id.example/account"


def grant(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "key": KEY,
        "issuer": ISS,
        "audience": AUD,
        "subject": "user-1",
        "session_id": "session-1",
        "method": "passkey",
        "now": NOW,
        "ttl": 300,
    }
    values.update(overrides)
    return issue_step_up_grant(**values)


def check(token: str | None, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "key": KEY,
        "expected_issuer": ISS,
        "expected_audience": AUD,
        "expected_subject": "user-1",
        "expected_session_id": "session-1",
        "now": NOW + timedelta(seconds=299),
    }
    values.update(overrides)
    return verify_step_up_grant(token, **values)


def test_a_grant_verifies_for_its_user_and_session() -> None:
    verified = check(grant())
    assert (verified.subject, verified.session_id, verified.method) == (
        "user-1",
        "session-1",
        "passkey",
    )
    assert verified.expires_at - verified.issued_at == 300
    assert jwt.get_unverified_header(grant())["typ"] == GRANT_TYP


@pytest.mark.parametrize(
    ("token", "overrides"),
    [
        (None, {}),
        ("", {}),
        ("x" * 3000, {}),
        ("not.a.jwt", {}),
        (grant(), {"now": NOW + timedelta(seconds=300)}),
        (grant(), {"expected_subject": "user-2"}),
        (grant(), {"expected_session_id": "session-2"}),
        (grant(), {"expected_session_id": None}),
        (grant(), {"key": b"o" * 32}),
        (grant(), {"expected_issuer": "https://other.example"}),
        (grant(), {"expected_audience": ISS}),
        (
            jwt.encode({"sub": "user-1"}, KEY, algorithm="HS256", headers={"typ": "at+jwt"}),
            {},
        ),
        (
            jwt.encode(
                {
                    "iss": ISS,
                    "aud": AUD,
                    "sub": "user-1",
                    "sid": "session-1",
                    "iat": 1,
                    "exp": 2**40,
                    "jti": "j",
                },
                KEY,
                algorithm="HS256",
                headers={"typ": "at+jwt"},
            ),
            {},
        ),
    ],
    ids=[
        "missing",
        "empty",
        "too long",
        "garbage",
        "expired",
        "other user",
        "other session",
        "no session",
        "other key",
        "other issuer",
        "other audience",
        "other typ, few claims",
        "other typ",
    ],
)
def test_a_bad_grant_is_step_up_required(token: str | None, overrides: dict[str, Any]) -> None:
    with pytest.raises(StepUpRequired) as caught:
        check(token, **overrides)
    assert (caught.value.code, caught.value.status) == ("step_up_required", 403)


def test_a_grant_needs_a_real_key_and_lifetime() -> None:
    with pytest.raises(ConfigurationError):
        grant(key=b"short")
    with pytest.raises(ConfigurationError):
        grant(ttl=0)
