"""OpenID Connect Core 1.0 ID tokens: issuing them (§2, §3.1.3.6) and reading an ``id_token_hint``.

An ID token keyfob signs carries ``iss``, ``sub``, ``aud``, ``exp``, ``iat`` and ``auth_time``
(keyfob always sends ``auth_time``, so ``max_age`` requests and step-up work without asking);
``nonce`` only when the authorization request sent one (§3.1.2.1), ``amr``, ``sid`` and ``azp``
only when given; ``at_hash`` and ``c_hash`` (§3.1.3.6, §3.3.2.11) with the hash of the key's
algorithm (:mod:`keyfob.core.oidc_core`). Its header is ``typ: JWT`` and ``kid``; it is signed
with an asymmetric key of keyfob's JWKS (§10.1: an HS256 ID token would be keyed with the
client's secret, which keyfob does not do). Several audiences need an ``azp`` among them
(§2; §3.1.3.7 steps 4 and 5).

An ``id_token_hint`` (§3.1.2.1, and RP-Initiated Logout 1.0 §2) is an ID token keyfob issued,
handed back. :func:`verify_id_token_hint` checks it is ours (key by ``kid``, ``alg`` from the
key, issuer) and returns who it names; the caller matches its audience against the client.
Both specifications allow an *expired* hint (the RP logs out after the ID token lapsed), so
``exp`` is not enforced; a hint issued more than :data:`HINT_SKEW_SECONDS` in the future is
refused. A hint whose key has been rotated out of the keyring fails as an unknown ``kid``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keyfob.core import rfc8725
from keyfob.core.keys import SigningKey
from keyfob.core.oidc_core import at_hash, c_hash
from keyfob.errors import ConfigurationError, InvalidRequest, InvalidToken

ID_TOKEN_TYP = "JWT"
HINT_SKEW_SECONDS = 60
# What issue_id_token sets itself, and claims of keyfob's other tokens (RFC 9068 access tokens,
# logout tokens) that an ID token must never carry.
RESERVED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "amr", "sid", "azp"}
    | {"at_hash", "c_hash", "client_id", "gid", "scope", "events"}
)
_WHAT = "ID token hint"
_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")  # §2: at most 255 ASCII characters


@dataclass(frozen=True)
class IdTokenHint:
    """Who a verified ``id_token_hint`` names: its ``sub``, ``aud`` (a tuple), ``sid``,
    ``iat`` and ``exp`` (possibly past), and ``azp`` when it has one."""

    subject: str
    audience: tuple[str, ...]
    sid: str | None
    issued_at: int
    expires_at: int
    authorized_party: str | None = None

    def is_for(self, client_id: str) -> bool:
        """Whether the hint was issued to ``client_id``: in ``aud``, and its ``azp`` if any."""
        return client_id in self.audience and self.authorized_party in (None, client_id)


def issue_id_token(
    key: SigningKey,
    *,
    issuer: str,
    subject: str,
    audience: str | Sequence[str],
    now: datetime,
    lifetime_seconds: int,
    auth_time: datetime,
    nonce: str | None = None,
    amr: Sequence[str] = (),
    sid: str | None = None,
    access_token: str | None = None,
    code: str | None = None,
    azp: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Sign an ID token for ``audience`` (the client id, or several with ``azp`` among them).

    ``access_token`` and ``code`` give ``at_hash`` and ``c_hash``; ``extra`` adds claims
    (``name``, ``email``... when no UserInfo call is made) but may not set any of
    :data:`RESERVED_CLAIMS`. :class:`ConfigurationError` for an HS256 or verify-only key, a
    lifetime that is not positive or an ``auth_time`` after ``now``; :class:`InvalidRequest`
    for a value no ID token can carry.
    """
    issued_at, authenticated_at = rfc8725.timestamp(now), rfc8725.timestamp(auth_time)
    if not isinstance(lifetime_seconds, int) or lifetime_seconds <= 0:
        raise ConfigurationError("An ID token needs a positive lifetime.")
    if authenticated_at > issued_at:
        raise ConfigurationError("The auth_time of an ID token cannot be after its iat.")
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise InvalidRequest("An ID token's sub is 1 to 255 printable ASCII characters.")
    audiences = _audiences(audience, azp)
    claims: dict[str, Any] = {
        "iss": _text(issuer, "iss"),
        "sub": subject,
        "aud": audiences[0] if len(audiences) == 1 else list(audiences),
        "exp": issued_at + lifetime_seconds,
        "iat": issued_at,
        "auth_time": authenticated_at,
    }
    for name, value in (("nonce", nonce), ("sid", sid), ("azp", azp)):
        if value is not None:
            claims[name] = _text(value, name)
    if isinstance(amr, str):
        raise InvalidRequest("An ID token's amr is a list of method names, not one string.")
    if amr:
        claims["amr"] = [_text(method, "amr") for method in amr]
    crv = (key.public_jwk or {}).get("crv")
    if access_token is not None:
        claims["at_hash"] = at_hash(access_token, alg=key.alg, crv=crv)
    if code is not None:
        claims["c_hash"] = c_hash(code, alg=key.alg, crv=crv)
    for name, value in (extra or {}).items():
        if name in RESERVED_CLAIMS:
            raise ConfigurationError(f"The {name} claim of an ID token is not an extra claim.")
        claims[name] = value
    return rfc8725.sign(key, claims, typ=ID_TOKEN_TYP, what="ID token")


def _audiences(audience: str | Sequence[str], azp: str | None) -> tuple[str, ...]:
    audiences = (audience,) if isinstance(audience, str) else tuple(audience)
    if not audiences or not all(isinstance(item, str) and item for item in audiences):
        raise InvalidRequest("An ID token's audience is one or more client ids.")
    if len(audiences) > 1 and azp is None:
        raise InvalidRequest("An ID token for several audiences needs an azp (OIDC Core §2).")
    if azp is not None and azp not in audiences:
        raise InvalidRequest("An ID token's azp must be one of its audiences.")
    return audiences


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"An ID token's {name} is a non-empty string.")
    return value


def verify_id_token_hint(
    token: str, keys: Mapping[str, SigningKey], *, expected_issuer: str, now: datetime
) -> IdTokenHint:
    """Check that ``token`` is an ID token keyfob signed (see the module docstring) and return
    who it names; :class:`InvalidToken` with a sentence saying what is wrong."""
    verified = rfc8725.verify(
        token,
        keys,
        typ=ID_TOKEN_TYP,
        what=_WHAT,
        expected_issuer=expected_issuer,
        required=("iss", "sub", "aud", "iat", "exp"),
    )
    claims = verified.claims
    issued_at = rfc8725.numeric_date(claims, "iat", _WHAT)
    expires_at = rfc8725.numeric_date(claims, "exp", _WHAT)
    if expires_at <= issued_at:
        raise InvalidToken("The ID token hint expires before it was issued.")
    if issued_at > rfc8725.timestamp(now) + HINT_SKEW_SECONDS:
        raise InvalidToken("The ID token hint was issued in the future; check the clocks.")
    return IdTokenHint(
        subject=rfc8725.string(claims, "sub", _WHAT),
        audience=rfc8725.audiences(claims, _WHAT),
        sid=rfc8725.optional_string(claims, "sid", _WHAT),
        issued_at=issued_at,
        expires_at=expires_at,
        authorized_party=rfc8725.optional_string(claims, "azp", _WHAT),
    )
