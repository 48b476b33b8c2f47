"""OpenID Connect Back-Channel Logout 1.0: the logout token (§2.4) and its validation (§2.6).

keyfob POSTs a logout token to a client's ``backchannel_logout_uri`` when a session ends. The
token is a JWT with header ``typ: logout+jwt`` (§2.4 recommends explicit typing, so that it
cannot pass as an ID token or anything else) and ``kid``, signed with an asymmetric key of
keyfob's JWKS, and the claims ``iss``, ``aud`` (the client id), ``iat``, ``exp``
(:data:`LOGOUT_TOKEN_LIFETIME` later: it is delivered at once), ``jti`` (128 random bits),
``events`` with the one member :data:`BACKCHANNEL_LOGOUT_EVENT` whose value is ``{}``, and
``sub``, ``sid`` or both; never ``nonce`` (§2.4: so it is never mistaken for an ID token).

:func:`verify_logout_token` is the RP's side, §2.6 steps 2 to 7, for keyfob's own tokens (the
tests, and :mod:`keyfob.integrations` later): it also *requires* ``typ: logout+jwt``, which
§2.6 cannot ask of every provider but keyfob always sends. Steps 8 to 11 (``jti`` replay and
matching ``sub``/``sid`` against the RP's sessions) need state and are the caller's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keyfob.core import rfc8725
from keyfob.core.encoding import b64url_encode
from keyfob.core.keys import SigningKey
from keyfob.errors import InvalidRequest, InvalidToken

LOGOUT_TOKEN_TYP = "logout+jwt"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120  # seconds
_WHAT = "logout token"


@dataclass(frozen=True)
class LogoutToken:
    """A verified logout token: whom to log out (``subject``, ``sid`` or both) and its ``jti``
    for the caller's replay check."""

    issuer: str
    audience: tuple[str, ...]
    subject: str | None
    sid: str | None
    issued_at: int
    expires_at: int
    jti: str


def issue_logout_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    now: datetime,
    subject: str | None = None,
    sid: str | None = None,
    jti: str | None = None,
) -> str:
    """Sign a logout token for the client ``audience`` naming ``subject``, ``sid`` or both.

    :class:`InvalidRequest` if neither is given or a value is empty; :class:`ConfigurationError`
    for an HS256 or verify-only key.
    """
    if subject is None and sid is None:
        raise InvalidRequest("A logout token names a subject, a session (sid) or both.")
    issued_at = rfc8725.timestamp(now)
    claims: dict[str, Any] = {
        "iss": _text(issuer, "iss"),
        "aud": _text(audience, "aud"),
        "iat": issued_at,
        "exp": issued_at + LOGOUT_TOKEN_LIFETIME,
        "jti": _text(jti, "jti") if jti is not None else b64url_encode(secrets.token_bytes(16)),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    if subject is not None:
        claims["sub"] = _text(subject, "sub")
    if sid is not None:
        claims["sid"] = _text(sid, "sid")
    return rfc8725.sign(key, claims, typ=LOGOUT_TOKEN_TYP, what=_WHAT)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"A logout token's {name} is a non-empty string.")
    return value


def verify_logout_token(
    token: str,
    keys: Mapping[str, SigningKey],
    *,
    expected_issuer: str,
    expected_audience: str,
    now: datetime,
    leeway: int = 0,
) -> LogoutToken:
    """Validate a logout token as §2.6 asks (see the module docstring): :class:`InvalidToken`
    with a sentence saying which rule it breaks (the RP answers 400 Bad Request)."""
    claims = rfc8725.verify(
        token,
        keys,
        typ=LOGOUT_TOKEN_TYP,
        what=_WHAT,
        expected_issuer=expected_issuer,
        required=("iss", "aud", "iat", "exp", "jti", "events"),
    ).claims
    audience = rfc8725.audiences(claims, _WHAT)
    if expected_audience not in audience:
        raise InvalidToken("The logout token is meant for another client.")
    issued_at = rfc8725.numeric_date(claims, "iat", _WHAT)
    expires_at = rfc8725.numeric_date(claims, "exp", _WHAT)
    current = rfc8725.timestamp(now)
    if expires_at <= issued_at:
        raise InvalidToken("The logout token expires before it was issued.")
    if current >= expires_at + leeway:
        raise InvalidToken("The logout token has expired.")
    if issued_at > current + leeway:
        raise InvalidToken("The logout token was issued in the future; check the clocks.")
    subject = rfc8725.optional_string(claims, "sub", _WHAT)
    sid = rfc8725.optional_string(claims, "sid", _WHAT)
    if subject is None and sid is None:
        raise InvalidToken("The logout token names neither a subject (sub) nor a session (sid).")
    events = claims["events"]
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidToken(
            f"The logout token's events claim has no {BACKCHANNEL_LOGOUT_EVENT} object."
        )
    if "nonce" in claims:
        raise InvalidToken("The logout token carries a nonce, which no logout token may have.")
    return LogoutToken(
        issuer=claims["iss"],
        audience=audience,
        subject=subject,
        sid=sid,
        issued_at=issued_at,
        expires_at=expires_at,
        jti=rfc8725.string(claims, "jti", _WHAT),
    )
