"""OAuth 2.0 (RFC 6749) without I/O: parameters, scopes, client authentication, token requests.

Parameters arrive as a **sequence of (name, value) pairs**, the way a form or a query string
holds them (Starlette's ``multi_items()``, ``urllib.parse.parse_qsl(..., keep_blank_values=True)``),
never as a dict: section 3.1 forbids sending a parameter twice, and only the pairs still show a
repeat. A parameter sent without a value counts as absent (section 3.1).

Client authentication is split in two pure steps around the server's client lookup:
:func:`parse_client_authentication` reads which one method a token request used (section 2.3:
never more than one) and for which client; :func:`authenticate_client` checks it is the method
the client registered. The server then proves the credential: :func:`secret_matches` for a
secret, :func:`keyfob.core.rfc7523.verify_client_assertion` for ``private_key_jwt``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from keyfob.core.rfc7523 import JWT_BEARER, MAX_ASSERTION_LENGTH, assertion_client_id
from keyfob.core.rfc8707 import requested_resource
from keyfob.errors import (
    ConfigurationError,
    InvalidClient,
    InvalidScope,
    OAuthInvalidRequest,
    UnsupportedGrantType,
)

Params = Sequence[tuple[str, str]]
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token")
MAX_SCOPE_LENGTH = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Section 3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E; tokens separated by
# single spaces.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*")
# Appendix A: error_description is NQSCHAR = %x20-21 / %x23-5B / %x5D-7E.
_NOT_NQSCHAR = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_TOKEN68 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_FORM_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_MAX_HEADER = 4096
_MAX_CLIENT_ID = 256
_CLIENT_PARAMS = {
    "client_id": _MAX_CLIENT_ID,
    "client_secret": 512,
    "client_assertion": MAX_ASSERTION_LENGTH,
    "client_assertion_type": 128,
}
_TOKEN_PARAMS = {
    "grant_type": 128,
    "code": 512,
    "redirect_uri": 2048,
    "code_verifier": 128,
    "refresh_token": 512,
    "scope": MAX_SCOPE_LENGTH,
}


def single_params(params: Params, limits: Mapping[str, int]) -> dict[str, str]:
    """The parameters named in ``limits`` (name to maximum length), each sent at most once.

    A repeated one (even once empty), a value over its limit or holding a control character
    raises :class:`OAuthInvalidRequest`; empty values are left out. Other names are ignored.
    """
    if isinstance(params, str | bytes | Mapping):
        raise TypeError("Pass the parameters as (name, value) pairs, not a string or mapping.")
    found: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in params:
        limit = limits.get(name)
        if limit is None:
            continue
        if name in seen:
            raise OAuthInvalidRequest(f"The parameter {name} is repeated (RFC 6749 section 3.1).")
        seen.add(name)
        if not isinstance(value, str) or len(value) > limit or _CONTROL.search(value):
            raise OAuthInvalidRequest(
                f"The parameter {name} must be text of at most {limit} characters, without "
                "control characters."
            )
        if value:
            found[name] = value
    return found


def error_description(message: str) -> str:
    """``message`` as an ``error_description`` may carry it (RFC 6749 appendix A.7): printable
    ASCII without ``"`` and ``\\``; other characters become ``?``."""
    return _NOT_NQSCHAR.sub("?", message)


def parse_scope(text: str | None) -> tuple[str, ...]:
    """The scope tokens of a ``scope`` parameter (section 3.3), repeats dropped, order kept;
    ``()`` for none. Malformed text raises :class:`InvalidScope`."""
    if text is None or text == "":
        return ()
    if not isinstance(text, str) or len(text) > MAX_SCOPE_LENGTH or not _SCOPE.fullmatch(text):
        raise InvalidScope(
            "The scope must be scope tokens of printable ASCII (no quote or backslash) "
            "separated by single spaces (RFC 6749 section 3.3)."
        )
    return tuple(dict.fromkeys(text.split(" ")))


def check_scope(requested: Sequence[str], *, expected_allowed: Collection[str]) -> tuple[str, ...]:
    """``requested`` if every token is in ``expected_allowed``, else :class:`InvalidScope`
    naming the first one that is not."""
    for token in requested:
        if token not in expected_allowed:
            raise InvalidScope(f"The scope {token} is not allowed for this client.")
    return tuple(requested)


@dataclass(frozen=True)
class ClientCredentials:
    """A client_id and secret from an HTTP Basic ``Authorization`` header (section 2.3.1)."""

    client_id: str
    secret: str = field(repr=False)


def parse_basic_credentials(authorization_header: str) -> ClientCredentials:
    """The credentials of ``Authorization: Basic ...`` (section 2.3.1): base64 of
    ``client_id:secret``, each form-urlencoded (``+`` is a space, ``%XX`` an octet of UTF-8).

    Strict: another scheme, base64 that is malformed or not canonical, no colon, an empty
    client_id or secret, or a bad escape raise :class:`InvalidClient`.
    """
    header = authorization_header.strip(" \t") if isinstance(authorization_header, str) else ""
    scheme, _, token = header.partition(" ")
    token = token.lstrip(" ")
    if scheme.lower() != "basic" or len(header) > _MAX_HEADER or not _TOKEN68.fullmatch(token):
        raise InvalidClient("The Authorization header must be Basic client credentials.")
    try:
        decoded = base64.b64decode(token, validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise InvalidClient("The Basic credentials are not base64 of UTF-8 text.") from exc
    if base64.b64encode(decoded).decode("ascii") != token:
        raise InvalidClient("The Basic credentials are not canonical base64.")
    user, colon, password = text.partition(":")
    if not colon:
        raise InvalidClient("The Basic credentials must be client_id:client_secret.")
    client_id, secret = _form_decode(user), _form_decode(password)
    if not client_id or len(client_id) > _MAX_CLIENT_ID or _CONTROL.search(client_id):
        raise InvalidClient("The Basic credentials' client_id is empty or malformed.")
    if not secret:
        raise InvalidClient("The Basic credentials' client_secret is empty.")
    return ClientCredentials(client_id=client_id, secret=secret)


def _form_decode(text: str) -> str:
    if not _FORM_ENCODED.fullmatch(text):
        raise InvalidClient("The Basic credentials hold a malformed %-escape.")
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidClient("The Basic credentials' escapes are not UTF-8.") from exc


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Whether a presented client secret equals the registered one, compared in constant time;
    False when either is missing or empty."""
    if not given or not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@dataclass(frozen=True)
class ClientAuthentication:
    """How a token request authenticates its client: one of :data:`CLIENT_AUTH_METHODS`, with
    the secret (``client_secret_basic``, ``client_secret_post``) or the assertion
    (``private_key_jwt``) still to be proved."""

    client_id: str
    method: str
    secret: str | None = field(default=None, repr=False)
    assertion: str | None = field(default=None, repr=False)


def parse_client_authentication(
    form: Params, *, authorization_header: str | None
) -> ClientAuthentication:
    """Which single method a token request used, and for which client (section 2.3).

    A Basic header, ``client_secret`` in the form, and ``client_assertion`` are one method
    each; using two raises :class:`InvalidClient`, as does a ``client_id`` in the form that
    differs from the one the credentials name. Only a ``client_id`` is ``none`` (a public
    client). The client_id of an assertion is read unverified, to find the client's keys.
    """
    fields = single_params(form, _CLIENT_PARAMS)
    basic = parse_basic_credentials(authorization_header) if authorization_header else None
    assertion, assertion_type = fields.get("client_assertion"), fields.get("client_assertion_type")
    used = [
        name
        for name, present in (
            ("client_secret_basic", basic is not None),
            ("client_secret_post", "client_secret" in fields),
            ("private_key_jwt", assertion is not None or assertion_type is not None),
        )
        if present
    ]
    if len(used) > 1:
        raise InvalidClient(
            f"The request authenticates the client in more than one way ({', '.join(used)}); "
            "use exactly one (RFC 6749 section 2.3)."
        )
    form_id = fields.get("client_id")
    if basic is not None:
        client = ClientAuthentication(basic.client_id, "client_secret_basic", secret=basic.secret)
    elif "client_secret" in fields:
        if form_id is None:
            raise InvalidClient("client_secret was sent without a client_id.")
        client = ClientAuthentication(form_id, "client_secret_post", secret=fields["client_secret"])
    elif used:
        if assertion_type != JWT_BEARER or assertion is None:
            raise InvalidClient(
                f"A client assertion needs client_assertion_type={JWT_BEARER} and a "
                "client_assertion."
            )
        client = ClientAuthentication(
            assertion_client_id(assertion), "private_key_jwt", assertion=assertion
        )
    elif form_id is not None:
        return ClientAuthentication(form_id, "none")
    else:
        raise InvalidClient("The request neither authenticates a client nor names one.")
    if form_id is not None and form_id != client.client_id:
        raise InvalidClient("The client_id does not match the client's credentials.")
    return client


def authenticate_client(presented: ClientAuthentication, *, expected_method: str) -> str:
    """The method ``presented`` used, if it is the one the client registered
    (``expected_method``); otherwise :class:`InvalidClient`. A client registered for
    ``client_secret_basic`` that posts its secret in the form is refused, and so on."""
    if expected_method not in CLIENT_AUTH_METHODS:
        raise ConfigurationError(f"Unknown client authentication method {expected_method!r}.")
    if presented.method != expected_method:
        raise InvalidClient(
            f"This client authenticates with {expected_method}, not {presented.method}."
        )
    return presented.method


@dataclass(frozen=True)
class AuthorizationCodeGrant:
    """A ``grant_type=authorization_code`` token request (section 4.1.3, RFC 7636 4.5)."""

    code: str = field(repr=False)
    redirect_uri: str
    code_verifier: str | None = field(repr=False)
    resource: str | None


@dataclass(frozen=True)
class RefreshTokenGrant:
    """A ``grant_type=refresh_token`` token request (section 6); ``scope`` None keeps the
    original scope."""

    refresh_token: str = field(repr=False)
    scope: tuple[str, ...] | None
    resource: str | None


def parse_token_request(form: Params) -> AuthorizationCodeGrant | RefreshTokenGrant:
    """The grant of a token request's form (client authentication is read apart).

    A missing or repeated parameter raises :class:`OAuthInvalidRequest`, a grant type other
    than authorization_code and refresh_token :class:`UnsupportedGrantType`, a bad scope
    :class:`InvalidScope`, a bad or repeated resource ``InvalidTarget``. ``redirect_uri`` is
    required because keyfob's authorization requests always carry one (section 4.1.3).
    """
    resource = requested_resource(form)
    fields = single_params(form, _TOKEN_PARAMS)
    grant_type = fields.get("grant_type")
    if grant_type is None:
        raise OAuthInvalidRequest("The grant_type parameter is missing.")
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantType()
    if grant_type == "refresh_token":
        token = _required(fields, "refresh_token")
        scope = parse_scope(fields.get("scope")) if "scope" in fields else None
        return RefreshTokenGrant(refresh_token=token, scope=scope, resource=resource)
    return AuthorizationCodeGrant(
        code=_required(fields, "code"),
        redirect_uri=_required(fields, "redirect_uri"),
        code_verifier=fields.get("code_verifier"),
        resource=resource,
    )


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise OAuthInvalidRequest(f"The {name} parameter is missing.")
    return value
