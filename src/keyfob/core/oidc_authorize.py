"""The OpenID Connect authorization request: OIDC Core 1.0 section 3.1.2.1 on RFC 6749
section 4.1.1, with RFC 9700's rules (exact redirect URIs, PKCE S256) and RFC 9207's ``iss``.

It is checked in the order the server must follow, because an error may only be sent back to
the client by redirect once its redirect URI is trusted (RFC 6749 section 4.1.2.1):

1. :func:`parse_authorization_target` reads ``client_id`` (and ``redirect_uri``) and
2. :func:`check_redirect_target` matches the redirect URI exactly against the client's. Their
   errors (a missing or repeated client_id, an unknown client, a missing or unregistered
   redirect URI) are shown to the user on a page and never redirect. ``redirect_uri`` is
   required even for a client with a single registered URI: OIDC Core section 3.1.2.1 requires
   it, and keyfob's token endpoint then always compares it.
3. :func:`check_authorization_request` checks everything else. Its errors are
   :class:`OAuthError` subclasses the server sends back to the redirect URI with
   :func:`authorization_response_params` and :func:`build_redirect` (or as a form post), with
   the target's ``state`` and ``response_mode``.

Parameters are (name, value) pairs (see :mod:`keyfob.core.rfc6749`); a repeated one is
``invalid_request``, an empty one is absent, unknown ones are ignored. ``ui_locales`` is a
hint (the language tags it holds, malformed ones dropped, choose the pages' language). Not
supported, and ignored: ``claims`` (so discovery says ``claims_parameter_supported: false``),
``display`` and ``claims_locales``. A missing ``response_type`` is ``invalid_request`` (a
missing required parameter, RFC 6749 section 4.1.2.1); any value but ``code`` is
``unsupported_response_type``. keyfob serves only OpenID Connect, so a scope without
``openid`` is ``invalid_scope``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from keyfob.core.redirects import match_redirect_uri, redirect_with
from keyfob.core.rfc6749 import Params, check_scope, error_description, parse_scope, single_params
from keyfob.core.rfc7636 import CodeChallenge, check_code_challenge
from keyfob.core.rfc8707 import requested_resource
from keyfob.errors import (
    ConfigurationError,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    OAuthInvalidRequest,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedResponseType,
)

RESPONSE_MODES = ("query", "form_post")
PROMPTS = ("none", "login", "consent", "select_account")
_TARGET_PARAMS = {"client_id": 256, "redirect_uri": 2048}
_PARAMS = {
    **_TARGET_PARAMS,
    "response_type": 64,
    "scope": 2048,
    "state": 1024,
    "nonce": 512,
    "response_mode": 32,
    "prompt": 128,
    "max_age": 32,
    "login_hint": 256,
    "id_token_hint": 8192,
    "acr_values": 1024,
    "code_challenge": 128,
    "code_challenge_method": 32,
    "ui_locales": 256,
    # Accepted and ignored, but still single and bounded.
    "display": 32,
    "claims_locales": 256,
}
_VSCHAR = re.compile(r"[\x20-\x7e]+")  # RFC 6749 appendix A.5: state = 1*VSCHAR
_TOKENS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
_JOSE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)+")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_MAX_UI_LOCALES = 10
_RESPONSE_NAMES = ("code", "state", "iss", "error", "error_description", "error_uri")


@dataclass(frozen=True)
class AuthorizationTarget:
    """Who an authorization request is for, read before anything is trusted: the client to
    look up, the redirect URI to match, and how to send an error back once it matches
    (``state`` None when absent or malformed, ``response_mode`` ``query`` unless the request
    asked exactly ``form_post``)."""

    client_id: str
    redirect_uri: str | None
    state: str | None
    response_mode: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request: what the server stores with the code it issues.

    ``nonce`` is optional with ``response_type=code`` (OIDC Core section 3.1.2.1) and goes into
    the ID token as it is; with ``max_age`` set the ID token must carry ``auth_time``;
    ``prompt`` and ``id_token_hint`` (unverified here) are for the server to act on."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    response_mode: str
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    id_token_hint: str | None = field(repr=False)
    acr_values: tuple[str, ...]
    code_challenge: CodeChallenge | None
    resource: str | None
    ui_locales: tuple[str, ...] = ()  # the language tags the user prefers, most wanted first


def parse_authorization_target(params: Params) -> AuthorizationTarget:
    """The client_id (required) and redirect_uri of an authorization request, plus what an
    error response needs. A missing or repeated client_id or a repeated redirect_uri raises
    :class:`OAuthInvalidRequest`: a page, never a redirect."""
    fields = single_params(params, _TARGET_PARAMS)
    client_id = fields.get("client_id")
    if client_id is None:
        raise OAuthInvalidRequest("The client_id parameter is missing.")
    states = [value for name, value in params if name == "state"]
    modes = [value for name, value in params if name == "response_mode"]
    state = states[0] if len(states) == 1 and _valid_state(states[0]) else None
    mode = "form_post" if modes == ["form_post"] else "query"
    return AuthorizationTarget(client_id, fields.get("redirect_uri"), state, mode)


def check_redirect_target(
    redirect_uri: str | None, *, expected_redirect_uris: Sequence[str]
) -> str:
    """``redirect_uri`` if it is, character for character, one the client registered.

    Missing, it raises :class:`OAuthInvalidRequest` (OIDC Core section 3.1.2.1 requires it,
    whatever the client registered); not registered, :class:`RedirectUriMismatch`. Both are
    shown on a page, never sent to the URI.
    """
    if redirect_uri is None or redirect_uri == "":
        raise OAuthInvalidRequest(
            "The redirect_uri parameter is missing; OpenID Connect requires it."
        )
    return match_redirect_uri(redirect_uri, registered=expected_redirect_uris)


def check_authorization_request(
    params: Params,
    *,
    client_id: str,
    redirect_uri: str,
    expected_scopes: Collection[str],
    is_public_client: bool,
) -> AuthorizationRequest:
    """Check the rest of an authorization request whose ``client_id`` and ``redirect_uri``
    passed steps 1 and 2; ``expected_scopes`` are the scopes the client may ask for, and a
    public client must use PKCE. Every error is an :class:`OAuthError` to send by redirect.
    """
    present = {name for name, value in params if value != ""}
    if "request" in present:
        raise RequestNotSupported()
    if "request_uri" in present:
        raise RequestUriNotSupported()
    if "registration" in present:
        raise RegistrationNotSupported()
    fields = single_params(params, _PARAMS)
    if fields.get("client_id") != client_id or fields.get("redirect_uri") != redirect_uri:
        raise ValueError("client_id and redirect_uri must be those parse_authorization_target read")
    response_type = fields.get("response_type")
    if response_type is None:
        raise OAuthInvalidRequest("The response_type parameter is missing; send code.")
    if response_type != "code":
        raise UnsupportedResponseType()
    response_mode = fields.get("response_mode", "query")
    if response_mode not in RESPONSE_MODES:
        raise OAuthInvalidRequest(
            "This response_mode is not supported; use query (the default) or form_post."
        )
    scope = parse_scope(fields.get("scope"))
    if "openid" not in scope:
        raise InvalidScope("The scope must include openid: keyfob serves OpenID Connect only.")
    check_scope(scope, expected_allowed=expected_scopes)
    challenge = _code_challenge(fields, is_public_client=is_public_client)
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=_text(fields, "state"),
        nonce=_text(fields, "nonce"),
        response_mode=response_mode,
        prompt=_prompt(fields.get("prompt")),
        max_age=_max_age(fields.get("max_age")),
        login_hint=fields.get("login_hint"),
        id_token_hint=_id_token_hint(fields.get("id_token_hint")),
        acr_values=_acr_values(fields.get("acr_values")),
        code_challenge=challenge,
        resource=requested_resource(params),
        ui_locales=parse_ui_locales(fields.get("ui_locales")),
    )


def parse_ui_locales(text: str | None) -> tuple[str, ...]:
    """The BCP 47 language tags of a ``ui_locales`` value (OIDC Core §3.1.2.1, space-separated,
    most wanted first), at most :data:`_MAX_UI_LOCALES`; a malformed one is dropped, never an
    error: the parameter is only a preference."""
    tags = (tag for tag in (text or "").split(" ") if _LANGUAGE_TAG.fullmatch(tag))
    return tuple(dict.fromkeys(tags))[:_MAX_UI_LOCALES]


def _valid_state(value: str) -> bool:
    return len(value) <= _PARAMS["state"] and bool(_VSCHAR.fullmatch(value))


def _text(fields: Mapping[str, str], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not _VSCHAR.fullmatch(value):
        raise OAuthInvalidRequest(f"The {name} must be printable ASCII characters.")
    return value


def _code_challenge(fields: Mapping[str, str], *, is_public_client: bool) -> CodeChallenge | None:
    try:
        challenge = check_code_challenge(
            fields.get("code_challenge"), fields.get("code_challenge_method")
        )
    except InvalidRequest as exc:  # the JSON API's 422 kind; here it goes back by redirect
        raise OAuthInvalidRequest(exc.message) from exc
    if challenge is None and is_public_client:
        raise OAuthInvalidRequest(
            "A public client must use PKCE: send a code_challenge with "
            "code_challenge_method=S256 (RFC 9700 section 2.1.1)."
        )
    return challenge


def _prompt(text: str | None) -> frozenset[str]:
    if text is None:
        return frozenset()
    values = frozenset(text.split(" "))
    if not _TOKENS.fullmatch(text) or not values <= frozenset(PROMPTS):
        raise OAuthInvalidRequest(
            "The prompt must be space-separated values of none, login, consent and select_account."
        )
    if "none" in values and len(values) > 1:
        raise OAuthInvalidRequest("prompt=none cannot be combined with another prompt value.")
    return values


def _max_age(text: str | None) -> int | None:
    if text is None:
        return None
    if not _MAX_AGE.fullmatch(text):
        raise OAuthInvalidRequest("The max_age must be a non-negative whole number of seconds.")
    return int(text)


def _id_token_hint(text: str | None) -> str | None:
    if text is not None and not _JOSE.fullmatch(text):
        raise OAuthInvalidRequest("The id_token_hint is not a JWT.")
    return text


def _acr_values(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    if not _TOKENS.fullmatch(text):
        raise OAuthInvalidRequest("The acr_values must be values separated by single spaces.")
    return tuple(dict.fromkeys(text.split(" ")))


def authorization_response_params(
    *,
    code: str | None = None,
    error: OAuthError | None = None,
    state: str | None,
    issuer: str,
) -> dict[str, str]:
    """The parameters of an authorization response: ``code`` or ``error`` (with its
    ``error_description``), then ``state`` when the request had one, then ``iss`` (RFC 9207,
    on errors too)."""
    if code is not None and error is None and code and issuer:
        params = {"code": code}
    elif error is not None and code is None and issuer:
        params = {"error": error.code, "error_description": error_description(error.message)}
    else:
        raise ValueError("An authorization response has a code or an error, and an issuer.")
    if state is not None:
        params["state"] = state
    params["iss"] = issuer
    return params


def build_redirect(
    redirect_uri: str, params: Mapping[str, str], response_mode: str = "query"
) -> str:
    """The ``Location`` of a ``query`` response: ``params`` added to the redirect URI's query,
    which is kept (RFC 6749 section 3.1.2). A ``form_post`` response is not a redirect: the
    server posts ``params`` to the redirect URI from an auto-submitting page."""
    if response_mode != "query":
        raise ValueError(f"A {response_mode} response is not a redirect; post params instead.")
    existing = {name for name, _ in parse_qsl(urlsplit(redirect_uri).query, True)}
    clash = existing & {*params, *_RESPONSE_NAMES}
    if clash:
        raise ConfigurationError(
            "A registered redirect URI's query holds a name of the authorization response: "
            + ", ".join(sorted(clash))
        )
    return redirect_with(redirect_uri, params, delivery="query")
