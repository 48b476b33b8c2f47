"""JWT access tokens for OpenID Connect clients (RFC 9068).

What keyfob issues at its OIDC token endpoint, for the client's resource servers and for its
own UserInfo endpoint. The header is ``typ: at+jwt`` and ``kid`` (§2.1), signed with an
asymmetric key of keyfob's JWKS; the claims are §2.2's ``iss``, ``exp``, ``aud`` (the client id
or the RFC 8707 resources asked for), ``sub``, ``client_id``, ``iat``, ``jti``, plus ``scope``
(space-separated, §2.2.3), ``auth_time`` (§2.2.1) and keyfob's ``gid``, the grant the token
came from, which keyfob looks up to see whether the grant is still live (revocation of a
grant ends its access tokens too). ``sid`` and ``amr`` come when known.

keyfob's own API tokens (:mod:`keyfob.core.tokens`) are ``at+jwt`` too, signed by the same
keyring. The two never pass for each other: this module requires ``client_id`` and ``gid``,
which keyfob's tokens never carry, and :func:`keyfob.core.tokens.verify_access_token` refuses a
token that carries either.

Verification follows §4: ``typ``, issuer, signature with the key's algorithm, ``exp``; the
audience when the caller names one (a resource server names itself; UserInfo takes any).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from keyfob.core import rfc8725
from keyfob.core.encoding import b64url_encode
from keyfob.core.keys import SigningKey
from keyfob.errors import ConfigurationError, InvalidRequest, InvalidToken

ACCESS_TOKEN_TYP = "at+jwt"
_WHAT = "access token"
_REQUIRED = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope", "auth_time", "gid")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token


@dataclass(frozen=True)
class ClientAccessToken:
    """The verified claims of an OIDC client's access token (``scope``, ``audience`` as
    tuples; times in seconds since the epoch)."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    client_id: str
    scope: tuple[str, ...]
    issued_at: int
    expires_at: int
    auth_time: int
    jti: str
    grant_id: str
    sid: str | None
    amr: tuple[str, ...]


def issue_client_access_token(
    key: SigningKey,
    *,
    issuer: str,
    subject: str,
    audience: str | Sequence[str],
    client_id: str,
    scope: Sequence[str],
    now: datetime,
    lifetime_seconds: int,
    auth_time: datetime,
    grant_id: str,
    jti: str | None = None,
    sid: str | None = None,
    amr: Sequence[str] = (),
) -> str:
    """Sign an ``at+jwt`` access token for ``client_id`` (``jti``: 128 random bits if None).

    :class:`ConfigurationError` for an HS256 or verify-only key, a lifetime that is not
    positive or an ``auth_time`` after ``now``; :class:`InvalidRequest` for an empty or
    malformed scope or audience, or an empty string where a value is needed.
    """
    issued_at, authenticated_at = rfc8725.timestamp(now), rfc8725.timestamp(auth_time)
    if not isinstance(lifetime_seconds, int) or lifetime_seconds <= 0:
        raise ConfigurationError("An access token needs a positive lifetime.")
    if authenticated_at > issued_at:
        raise ConfigurationError("The auth_time of an access token cannot be after its iat.")
    audiences = (audience,) if isinstance(audience, str) else tuple(audience)
    if not audiences or not all(isinstance(item, str) and item for item in audiences):
        raise InvalidRequest("An access token's audience is a client id or resource URIs.")
    scopes = tuple(scope) if not isinstance(scope, str) else ()
    if not scopes or not all(isinstance(s, str) and _SCOPE_TOKEN.fullmatch(s) for s in scopes):
        raise InvalidRequest("An access token's scope is a list of RFC 6749 scope tokens.")
    claims = {
        "iss": _text(issuer, "iss"),
        "exp": issued_at + lifetime_seconds,
        "aud": audiences[0] if len(audiences) == 1 else list(audiences),
        "sub": _text(subject, "sub"),
        "client_id": _text(client_id, "client_id"),
        "iat": issued_at,
        "jti": _text(jti, "jti") if jti is not None else b64url_encode(secrets.token_bytes(16)),
        "scope": " ".join(scopes),
        "auth_time": authenticated_at,
        "gid": _text(grant_id, "gid"),
    }
    if sid is not None:
        claims["sid"] = _text(sid, "sid")
    if isinstance(amr, str):
        raise InvalidRequest("An access token's amr is a list of method names, not one string.")
    if amr:
        claims["amr"] = [_text(method, "amr") for method in amr]
    return rfc8725.sign(key, claims, typ=ACCESS_TOKEN_TYP, what="OIDC client access token")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"An access token's {name} is a non-empty string.")
    return value


def verify_client_access_token(
    token: str,
    keys: Mapping[str, SigningKey],
    *,
    expected_issuer: str,
    now: datetime,
    expected_audience: str | None = None,
    leeway: int = 0,
) -> ClientAccessToken:
    """Verify an OIDC client's access token (RFC 9068 §4; see the module docstring) and return
    its claims; :class:`InvalidToken` with a sentence saying what is wrong. Whether its grant
    is still live is the caller's question (``grant_id``)."""
    claims = rfc8725.verify(
        token,
        keys,
        typ=ACCESS_TOKEN_TYP,
        what=_WHAT,
        expected_issuer=expected_issuer,
        required=_REQUIRED,
    ).claims
    audience = rfc8725.audiences(claims, _WHAT)
    if expected_audience is not None and expected_audience not in audience:
        raise InvalidToken("The access token is meant for another audience.")
    issued_at = rfc8725.numeric_date(claims, "iat", _WHAT)
    expires_at = rfc8725.numeric_date(claims, "exp", _WHAT)
    auth_time = rfc8725.numeric_date(claims, "auth_time", _WHAT)
    current = rfc8725.timestamp(now)
    if expires_at <= issued_at or auth_time > issued_at:
        raise InvalidToken("The access token's iat, exp and auth_time are not in order.")
    if current >= expires_at + leeway:
        raise InvalidToken("The access token has expired.")
    if issued_at > current + leeway:
        raise InvalidToken("The access token was issued in the future; check the clocks.")
    scope = claims["scope"]
    scopes = tuple(scope.split(" ")) if isinstance(scope, str) else ()
    if not scopes or not all(_SCOPE_TOKEN.fullmatch(item) for item in scopes):
        raise InvalidToken("The access token's scope claim is not a list of scopes.")
    return ClientAccessToken(
        issuer=claims["iss"],
        subject=rfc8725.string(claims, "sub", _WHAT),
        audience=audience,
        client_id=rfc8725.string(claims, "client_id", _WHAT),
        scope=scopes,
        issued_at=issued_at,
        expires_at=expires_at,
        auth_time=auth_time,
        jti=rfc8725.string(claims, "jti", _WHAT),
        grant_id=rfc8725.string(claims, "gid", _WHAT),
        sid=rfc8725.optional_string(claims, "sid", _WHAT),
        amr=rfc8725.string_list(claims, "amr", _WHAT),
    )
