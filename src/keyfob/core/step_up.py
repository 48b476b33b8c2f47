"""Step-up grants: a short-lived proof that a session's user just used one of their credentials.

A grant is an HS256 JWT under a key of its own (derived from ``KEYFOB_SECRET_KEY`` for the
purpose ``step-up``, known to keyfob alone) with ``typ`` :data:`GRANT_TYP`, so it can pass as no
other token and no other keyfob JWT can pass as it. It names the user (``sub``) and the session
(``sid``) it was made in; the credential-change endpoints take it in the ``X-Keyfob-Step-Up``
header and check both against the account token of the request.

Wallet step-up messages are sign-in messages whose Request ID is :data:`STEP_UP_REQUEST_ID`:
the login endpoints refuse them, and the step-up endpoint accepts nothing else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from keyfob.core.encoding import b64url_encode
from keyfob.errors import ConfigurationError, StepUpRequired

GRANT_TYP = "keyfob-step-up+jwt"
STEP_UP_REQUEST_ID = "keyfob-step-up"
STEP_UP_STATEMENT = (
    "Confirm a change to the sign-in methods of your account. This is not a sign-in and will "
    "not trigger a transaction."
)
MAX_GRANT_LENGTH = 2048
_ALG = "HS256"
_JWT = jwt.PyJWT()
_OPTIONS: Any = {
    "require": ["iss", "aud", "sub", "sid", "iat", "exp", "jti"],
    "verify_exp": False,  # ours, against ``now``
    "verify_iat": False,
    "verify_nbf": False,
}


@dataclass(frozen=True)
class StepUpGrant:
    """A verified step-up grant: who, in which session, by which method, until when."""

    subject: str
    session_id: str
    method: str
    issued_at: int
    expires_at: int
    jti: str


def issue_step_up_grant(
    *,
    key: bytes,
    issuer: str,
    audience: str,
    subject: str,
    session_id: str,
    method: str,
    now: datetime,
    ttl: int,
) -> str:
    """Sign a grant for ``subject`` in ``session_id``, valid ``ttl`` seconds from ``now``."""
    if len(key) < 32 or ttl <= 0:
        raise ConfigurationError("A step-up grant needs a 32-byte key and a positive lifetime.")
    issued_at = int(_timestamp(now))
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "sid": session_id,
        "method": method,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "jti": b64url_encode(secrets.token_bytes(16)),
    }
    return _JWT.encode(payload, key, algorithm=_ALG, headers={"typ": GRANT_TYP})


def verify_step_up_grant(
    token: str | None,
    *,
    key: bytes,
    expected_issuer: str,
    expected_audience: str,
    expected_subject: str,
    expected_session_id: str | None,
    now: datetime,
) -> StepUpGrant:
    """Verify a grant for this user and session; :class:`StepUpRequired` if it is missing,
    malformed, expired, or made for another user or session."""
    if not token or len(token) > MAX_GRANT_LENGTH:
        raise StepUpRequired()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != GRANT_TYP or header.get("alg") != _ALG:
            raise StepUpRequired("The X-Keyfob-Step-Up header does not hold a step-up grant.")
        payload: dict[str, Any] = _JWT.decode(
            token,
            key,
            algorithms=[_ALG],
            options=_OPTIONS,
            issuer=expected_issuer,
            audience=expected_audience,
        )
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise StepUpRequired("The step-up grant is malformed or was not made here.") from exc
    issued_at, expires_at = payload["iat"], payload["exp"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (issued_at, expires_at)):
        raise StepUpRequired("The step-up grant's iat and exp are not valid times.")
    if _timestamp(now) >= expires_at:
        raise StepUpRequired("The step-up grant has expired; confirm with your credential again.")
    if payload["sub"] != expected_subject or expected_session_id is None:
        raise StepUpRequired("The step-up grant was made for another account.")
    if payload["sid"] != expected_session_id:
        raise StepUpRequired("The step-up grant was made in another session.")
    method = payload.get("method")
    return StepUpGrant(
        subject=payload["sub"],
        session_id=payload["sid"],
        method=method if isinstance(method, str) else "",
        issued_at=issued_at,
        expires_at=expires_at,
        jti=str(payload["jti"]),
    )


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ConfigurationError("now must be a timezone-aware datetime.")
    return now.timestamp()
