"""Tests for keyfob.core.oidc_authorize: the authorization request in its three steps, and the
authorization response (RFC 9207 ``iss``), against spec examples, Authlib, and near misses."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc6749.parameters import (
    parse_authorization_code_response,
    prepare_grant_uri,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from keyfob.core.oidc_authorize import (
    AuthorizationRequest,
    AuthorizationTarget,
    authorization_response_params,
    build_redirect,
    check_authorization_request,
    check_redirect_target,
    parse_authorization_target,
    parse_ui_locales,
)
from keyfob.core.rfc7636 import CodeChallenge, s256_challenge
from keyfob.errors import (
    AccessDenied,
    ConfigurationError,
    InvalidScope,
    InvalidTarget,
    OAuthError,
    OAuthInvalidRequest,
    RedirectUriMismatch,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedResponseType,
)

# OpenID Connect Core 1.0 section 3.1.2.1, the example authorization request.
OIDC_REQUEST = (
    "response_type=code&scope=openid%20profile%20email&client_id=s6BhdRkqt3"
    "&state=af0ifjsldkj&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb"
)
# RFC 6749 section 4.1.1, the example authorization request (plain OAuth: no openid scope).
RFC6749_REQUEST = (
    "response_type=code&client_id=s6BhdRkqt3&state=xyz"
    "&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb"
)
CLIENT = "s6BhdRkqt3"
REDIRECT = "https://client.example.org/cb"
SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PKCE = f"&code_challenge={CHALLENGE}&code_challenge_method=S256"
ISSUER = "https://auth.example.com"


def pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def check(query: str, *, public: bool = False, **changes: Any) -> AuthorizationRequest:
    """Steps 1 to 3 on ``query``, the way the server runs them."""
    params = pairs(query)
    target = parse_authorization_target(params)
    assert target.client_id == CLIENT
    uri = check_redirect_target(target.redirect_uri, expected_redirect_uris=[REDIRECT])
    args: dict[str, Any] = {
        "client_id": CLIENT,
        "redirect_uri": uri,
        "expected_scopes": SCOPES,
        "is_public_client": public,
    }
    return check_authorization_request(params, **{**args, **changes})


def test_oidc_core_example_request() -> None:
    target = parse_authorization_target(pairs(OIDC_REQUEST))
    assert target == AuthorizationTarget(CLIENT, REDIRECT, "af0ifjsldkj", "query")
    assert check(OIDC_REQUEST) == AuthorizationRequest(
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        scope=("openid", "profile", "email"),
        state="af0ifjsldkj",
        nonce=None,
        response_mode="query",
        prompt=frozenset(),
        max_age=None,
        login_hint=None,
        id_token_hint=None,
        acr_values=(),
        code_challenge=None,
        resource=None,
    )


def test_rfc6749_example_is_not_openid_connect() -> None:
    params = pairs(RFC6749_REQUEST)
    target = parse_authorization_target(params)
    assert target == AuthorizationTarget(CLIENT, "https://client.example.com/cb", "xyz", "query")
    registered = ["https://client.example.com/cb"]
    uri = check_redirect_target(target.redirect_uri, expected_redirect_uris=registered)
    with pytest.raises(InvalidScope, match="must include openid"):
        check_authorization_request(
            params,
            client_id=CLIENT,
            redirect_uri=uri,
            expected_scopes=SCOPES,
            is_public_client=False,
        )


def test_authlib_public_client_request() -> None:
    verifier = "x" * 20 + VERIFIER  # 63 unreserved characters
    url = prepare_grant_uri(
        "https://auth.example.com/oidc/authorize",
        client_id=CLIENT,
        response_type="code",
        redirect_uri=REDIRECT,
        scope=["openid", "email", "offline_access"],
        state="ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI",
        nonce="n-0S6_WzA2Mj",
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        prompt="login consent",
        max_age="0",
        resource="https://api.example.com/",
    )
    request = check(urlsplit(url).query, public=True)
    assert request.scope == ("openid", "email", "offline_access")
    assert request.code_challenge == CodeChallenge(s256_challenge(verifier))
    assert (request.nonce, request.max_age) == ("n-0S6_WzA2Mj", 0)
    assert request.prompt == frozenset({"login", "consent"})
    assert request.resource == "https://api.example.com/"


def test_every_parameter() -> None:
    query = (
        OIDC_REQUEST
        + PKCE
        + "&"
        + urlencode(
            {
                "nonce": "n-0S6_WzA2Mj",
                "response_mode": "form_post",
                "prompt": "none",
                "max_age": "3600",
                "login_hint": "alice@example.com",
                "id_token_hint": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
                "acr_values": "urn:mace:incommon:iap:silver phr phr",
                "resource": "https://api.example.com/app/",
                "ui_locales": "fr-CA fr en",
                # accepted and ignored
                "display": "popup",
                "claims_locales": "de",
                "claims": '{"userinfo":{"email":null}}',
                "unknown": "x",
            }
        )
        + "&unknown=y"
    )
    request = check(query, public=True)
    assert request.response_mode == "form_post"
    assert request.prompt == frozenset({"none"})
    assert request.max_age == 3600
    assert request.login_hint == "alice@example.com"
    assert request.id_token_hint == "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    assert "c2ln" not in repr(request)
    assert request.acr_values == ("urn:mace:incommon:iap:silver", "phr")
    assert request.resource == "https://api.example.com/app/"
    assert request.ui_locales == ("fr-CA", "fr", "en")
    assert parse_authorization_target(pairs(query)).response_mode == "form_post"
    assert check(OIDC_REQUEST + PKCE, public=True).ui_locales == ()


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        (None, ()),
        ("", ()),
        ("de", ("de",)),
        ("de-CH de en", ("de-CH", "de", "en")),
        ("de  en", ("de", "en")),  # an empty value between two spaces is skipped
        ("de de en", ("de", "en")),  # a repeat adds nothing
        ("de_DE fr", ("fr",)),  # not BCP 47: dropped, never an error (a preference only)
        ("<b> 12 x-toolongtag9 zh-Hant-TW", ("zh-Hant-TW",)),
        (
            " ".join(f"l{chr(97 + n)}" for n in range(15)),
            tuple(f"l{chr(97 + n)}" for n in range(10)),
        ),
    ],
)
def test_ui_locales(value: str | None, tags: tuple[str, ...]) -> None:
    assert parse_ui_locales(value) == tags


@pytest.mark.parametrize("blank", ["request", "request_uri", "registration", "prompt", "nonce"])
def test_blank_parameters_are_absent(blank: str) -> None:
    assert check(f"{OIDC_REQUEST}&{blank}=") == check(OIDC_REQUEST)


# --- steps 1 and 2: never a redirect -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("response_type=code&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb", "client_id"),
        ("client_id=&redirect_uri=x", "client_id parameter is missing"),
        (OIDC_REQUEST + "&client_id=s6BhdRkqt3", "client_id is repeated"),
        (OIDC_REQUEST + "&client_id=other", "client_id is repeated"),
        (OIDC_REQUEST + "&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb", "redirect_uri is"),
        ("client_id=" + "a" * 257, "at most 256"),
        ("client_id=s6Bh%0AdRkqt3", "control"),
    ],
)
def test_target_refused(query: str, why: str) -> None:
    with pytest.raises(OAuthInvalidRequest, match=why):
        parse_authorization_target(pairs(query))


@pytest.mark.parametrize(
    ("extra", "state", "mode"),
    [
        ("", "af0ifjsldkj", "query"),
        ("&state=again", None, "query"),  # repeated: echo neither
        ("&response_mode=form_post", "af0ifjsldkj", "form_post"),
        ("&response_mode=fragment", "af0ifjsldkj", "query"),
        ("&response_mode=form_post&response_mode=form_post", "af0ifjsldkj", "query"),
        ("&response_mode=FORM_POST", "af0ifjsldkj", "query"),
    ],
)
def test_target_says_how_to_answer_errors(extra: str, state: str | None, mode: str) -> None:
    target = parse_authorization_target(pairs(OIDC_REQUEST + extra))
    assert (target.state, target.response_mode) == (state, mode)


@pytest.mark.parametrize(
    ("state", "why"),
    [("caf\u00e9", "printable ASCII"), ("x" * 1025, "at most 1024"), ("a\tb", "control")],
)
def test_target_does_not_echo_a_malformed_state(state: str, why: str) -> None:
    query = OIDC_REQUEST.replace("state=af0ifjsldkj", urlencode({"state": state}))
    assert parse_authorization_target(pairs(query)).state is None
    with pytest.raises(OAuthInvalidRequest, match=why):
        check(query)


REGISTERED = ["https://client.example.org/cb", "http://localhost:3000/callback"]
NEAR_MISSES = [
    "https://client.example.org/cb/",  # trailing slash
    "https://client.example.org/CB",  # path case
    "https://Client.Example.Org/cb",  # host case
    "HTTPS://client.example.org/cb",  # scheme case
    "https://client.example.org/cb?x=1",  # extra query
    "https://client.example.org/cb?",  # empty query
    "https://client.example.org/cb#",  # empty fragment
    "https://client.example.org/cb#frag",  # fragment
    "http://client.example.org/cb",  # http for https
    "https://client.example.org:443/cb",  # default port spelled out
    "https://client.example.org:8443/cb",  # other port
    "https://user@client.example.org/cb",  # userinfo
    "https://client.example.org@evil.example/cb",  # userinfo that names us
    "https://evil.example/?https://client.example.org/cb",
    "https://client.example.org.evil.example/cb",  # suffix
    "https://client.example.org./cb",  # trailing dot
    "https://client.example.org/%63b",  # percent-encoded unreserved character
    "https://client.example.org/cb/../cb",  # dot segments
    "https://client.example.org//cb",
    "https://client.example.org/cb%20",
    " https://client.example.org/cb",
    "https://client.example.org/cb\n",
    "https://xn--client-.example.org/cb",
    "http://localhost:3001/callback",  # loopback: the port is exact too
    "http://127.0.0.1:3000/callback",  # loopback: localhost is not 127.0.0.1
    "/cb",
    "cb",
]


@pytest.mark.parametrize("near_miss", NEAR_MISSES)
def test_redirect_near_misses_are_refused(near_miss: str) -> None:
    with pytest.raises(RedirectUriMismatch):
        check_redirect_target(near_miss, expected_redirect_uris=REGISTERED)


def test_redirect_target() -> None:
    for uri in REGISTERED:
        assert check_redirect_target(uri, expected_redirect_uris=REGISTERED) == uri
    # OIDC requires redirect_uri: no default even when the client registered one alone.
    for missing in (None, ""):
        with pytest.raises(OAuthInvalidRequest, match="redirect_uri parameter is missing"):
            check_redirect_target(missing, expected_redirect_uris=REGISTERED[:1])
    with pytest.raises(RedirectUriMismatch, match="no redirect URI registered"):
        check_redirect_target(REGISTERED[0], expected_redirect_uris=[])


# --- step 3: errors go back by redirect ----------------------------------------------------

BAD = OAuthInvalidRequest


def _without(name: str) -> str:
    return "&".join(p for p in OIDC_REQUEST.split("&") if not p.startswith(name + "="))


def _set(name: str, value: str) -> str:
    return _without(name) + "&" + urlencode({name: value})


REFUSED: list[tuple[str, str, type[OAuthError], str]] = [
    # response_type
    ("no-response-type", _without("response_type"), BAD, "response_type parameter is missing"),
    ("blank-response-type", _set("response_type", ""), BAD, "response_type parameter"),
    ("token", _set("response_type", "token"), UnsupportedResponseType, "response_type=code"),
    ("id-token", _set("response_type", "id_token"), UnsupportedResponseType, "code"),
    ("code-id-token", _set("response_type", "code id_token"), UnsupportedResponseType, "code"),
    ("id-token-code", _set("response_type", "id_token code"), UnsupportedResponseType, "code"),
    ("code-token", _set("response_type", "code token"), UnsupportedResponseType, "code"),
    ("none", _set("response_type", "none"), UnsupportedResponseType, "code"),
    ("uppercase", _set("response_type", "CODE"), UnsupportedResponseType, "code"),
    ("code-space", _set("response_type", "code "), UnsupportedResponseType, "code"),
    ("code-code", _set("response_type", "code code"), UnsupportedResponseType, "code"),
    ("repeated", OIDC_REQUEST + "&response_type=code", BAD, "response_type is repeated"),
    # request objects and registration (OIDC Core 6, 7.2.1)
    ("request", OIDC_REQUEST + "&request=eyJhbGciOiJub25lIn0.e30.", RequestNotSupported, "request"),
    (
        "request-uri",
        OIDC_REQUEST + "&request_uri=urn%3Aexample%3Ax",
        RequestUriNotSupported,
        "request_uri parameter",
    ),
    (
        "par-urn",
        OIDC_REQUEST + "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax",
        RequestUriNotSupported,
        "request_uri",
    ),
    (
        "registration",
        OIDC_REQUEST + "&registration=%7B%7D",
        RegistrationNotSupported,
        "registration parameter",
    ),
    # response_mode
    ("fragment", OIDC_REQUEST + "&response_mode=fragment", BAD, "response_mode"),
    ("jwt", OIDC_REQUEST + "&response_mode=jwt", BAD, "query .the default. or form_post"),
    ("form-post-jwt", OIDC_REQUEST + "&response_mode=form_post.jwt", BAD, "response_mode"),
    ("web-message", OIDC_REQUEST + "&response_mode=web_message", BAD, "response_mode"),
    ("mode-repeated", OIDC_REQUEST + "&response_mode=query&response_mode=query", BAD, "repeated"),
    # scope
    ("no-scope", _without("scope"), InvalidScope, "must include openid"),
    ("no-openid", _set("scope", "profile email"), InvalidScope, "must include openid"),
    ("openid-case", _set("scope", "OpenID profile"), InvalidScope, "must include openid"),
    ("unknown-scope", _set("scope", "openid admin"), InvalidScope, "The scope admin is not"),
    ("double-space", _set("scope", "openid  profile"), InvalidScope, "single spaces"),
    ("tab", _set("scope", "openid\tprofile"), BAD, "control"),
    ("quote", _set("scope", 'openid "x"'), InvalidScope, "single spaces"),
    ("scope-repeated", OIDC_REQUEST + "&scope=openid", BAD, "scope is repeated"),
    ("long-scope", _set("scope", "openid " + "x" * 2048), BAD, "at most 2048"),
    # PKCE
    (
        "plain",
        OIDC_REQUEST + f"&code_challenge={VERIFIER}&code_challenge_method=plain",
        BAD,
        "plain code_challenge_method is not supported",
    ),
    ("no-method", OIDC_REQUEST + f"&code_challenge={CHALLENGE}", BAD, "reads as plain"),
    (
        "s256-case",
        OIDC_REQUEST + f"&code_challenge={CHALLENGE}&code_challenge_method=s256",
        BAD,
        "supports only S256",
    ),
    ("method-alone", OIDC_REQUEST + "&code_challenge_method=S256", BAD, "without a code_challenge"),
    (
        "bad-challenge",
        OIDC_REQUEST + "&code_challenge=abc&code_challenge_method=S256",
        BAD,
        "43 base64url",
    ),
    ("challenge-repeated", OIDC_REQUEST + PKCE + f"&code_challenge={CHALLENGE}", BAD, "repeated"),
    # prompt
    ("none-login", OIDC_REQUEST + "&prompt=none%20login", BAD, "prompt=none cannot be combined"),
    ("none-consent", OIDC_REQUEST + "&prompt=consent%20none", BAD, "cannot be combined"),
    ("unknown-prompt", OIDC_REQUEST + "&prompt=create", BAD, "prompt must be"),
    ("prompt-case", OIDC_REQUEST + "&prompt=Login", BAD, "prompt must be"),
    ("prompt-double-space", OIDC_REQUEST + "&prompt=login%20%20consent", BAD, "prompt must be"),
    ("prompt-trailing-space", OIDC_REQUEST + "&prompt=login%20", BAD, "prompt must be"),
    ("prompt-repeated", OIDC_REQUEST + "&prompt=login&prompt=consent", BAD, "repeated"),
    # max_age
    ("max-age-negative", OIDC_REQUEST + "&max_age=-1", BAD, "non-negative whole number"),
    ("max-age-text", OIDC_REQUEST + "&max_age=abc", BAD, "non-negative whole number"),
    ("max-age-float", OIDC_REQUEST + "&max_age=1.5", BAD, "whole number"),
    ("max-age-plus", OIDC_REQUEST + "&max_age=%2B1", BAD, "whole number"),
    ("max-age-space", OIDC_REQUEST + "&max_age=%201", BAD, "whole number"),
    ("max-age-arabic", OIDC_REQUEST + "&max_age=%D9%A3", BAD, "whole number"),
    ("max-age-huge", OIDC_REQUEST + "&max_age=12345678901", BAD, "whole number"),
    ("max-age-exp", OIDC_REQUEST + "&max_age=1e3", BAD, "whole number"),
    # lengths and characters
    ("long-state", _set("state", "s" * 1025), BAD, "state must be text of at most 1024"),
    ("state-non-ascii", _set("state", "caf\u00e9"), BAD, "state must be printable ASCII"),
    ("state-repeated", OIDC_REQUEST + "&state=af0ifjsldkj", BAD, "state is repeated"),
    ("long-nonce", OIDC_REQUEST + "&nonce=" + "n" * 513, BAD, "nonce must be text of at most 512"),
    ("nonce-newline", OIDC_REQUEST + "&nonce=a%0Ab", BAD, "control"),
    ("nonce-non-ascii", OIDC_REQUEST + "&nonce=%E2%98%83", BAD, "nonce must be printable"),
    ("nonce-repeated", OIDC_REQUEST + "&nonce=a&nonce=b", BAD, "nonce is repeated"),
    ("long-login-hint", OIDC_REQUEST + "&login_hint=" + "a" * 257, BAD, "at most 256"),
    ("id-token-hint", OIDC_REQUEST + "&id_token_hint=not%20a%20jwt", BAD, "not a JWT"),
    ("id-token-hint-one-part", OIDC_REQUEST + "&id_token_hint=abc", BAD, "not a JWT"),
    ("acr-double-space", OIDC_REQUEST + "&acr_values=a%20%20b", BAD, "acr_values"),
    ("display-repeated", OIDC_REQUEST + "&display=page&display=popup", BAD, "display is repeated"),
    ("long-ui-locales", OIDC_REQUEST + "&ui_locales=" + "a" * 257, BAD, "ui_locales"),
    # resource (RFC 8707)
    (
        "two-resources",
        OIDC_REQUEST + "&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example",
        InvalidTarget,
        "one resource",
    ),
    (
        "resource-fragment",
        OIDC_REQUEST + "&resource=https%3A%2F%2Fa.example%2F%23f",
        InvalidTarget,
        "fragment",
    ),
    ("relative-resource", OIDC_REQUEST + "&resource=%2Fapi", InvalidTarget, "absolute URI"),
]


@pytest.mark.parametrize(
    ("query", "error", "why"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_requests_refused(query: str, error: type[OAuthError], why: str) -> None:
    with pytest.raises(error, match=why) as caught:
        check(query)
    assert type(caught.value) is error
    # Every refusal here is one the server can send back by redirect.
    assert isinstance(caught.value, OAuthError)


def test_public_clients_must_use_pkce() -> None:
    with pytest.raises(OAuthInvalidRequest, match="public client must use PKCE"):
        check(OIDC_REQUEST, public=True)
    assert check(OIDC_REQUEST + PKCE, public=True).code_challenge == CodeChallenge(CHALLENGE)
    # A confidential client may use it too.
    assert check(OIDC_REQUEST + PKCE).code_challenge == CodeChallenge(CHALLENGE)


def test_request_objects_are_refused_before_anything_else() -> None:
    # Checked first: a request object may carry the parameters that look wrong outside it.
    query = "client_id=s6BhdRkqt3&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb"
    with pytest.raises(RequestNotSupported):
        check(query + "&request=x&request_uri=y&response_type=token")
    with pytest.raises(RequestUriNotSupported):
        check(query + "&request_uri=y&request_uri=z")


def test_scopes_are_the_clients() -> None:
    with pytest.raises(InvalidScope, match="The scope email is not allowed"):
        check(OIDC_REQUEST, expected_scopes={"openid", "profile"})
    with pytest.raises(InvalidScope, match="The scope openid is not allowed"):
        check(OIDC_REQUEST, expected_scopes={"profile", "email"})


def test_step_three_wants_what_steps_one_and_two_read() -> None:
    with pytest.raises(ValueError, match="parse_authorization_target"):
        check(OIDC_REQUEST, client_id="other")
    with pytest.raises(ValueError, match="parse_authorization_target"):
        check(OIDC_REQUEST, redirect_uri="https://client.example.org/other")


# --- the response --------------------------------------------------------------------------


def test_rfc9207_examples() -> None:
    # RFC 9207 section 2.1: a successful response from https://honest.as.example ...
    params = authorization_response_params(
        code="x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58",
        state="ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI",
        issuer="https://honest.as.example",
    )
    assert build_redirect("https://client.example/cb", params) == (
        "https://client.example/cb?code=x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58"
        "&state=ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI&iss=https%3A%2F%2Fhonest.as.example"
    )
    # ... and section 2.2, its error response (keyfob adds an error_description).
    params = authorization_response_params(
        error=AccessDenied(),
        state="N2JjNGJhY2JiZjRhYzA3MGJkMzNmMDE5OWJhZmJhZjA",
        issuer="https://honest.as.example",
    )
    location = build_redirect("https://client.example/cb", params)
    assert pairs(urlsplit(location).query) == [
        ("error", "access_denied"),
        ("error_description", "The request was denied."),
        ("state", "N2JjNGJhY2JiZjRhYzA3MGJkMzNmMDE5OWJhZmJhZjA"),
        ("iss", "https://honest.as.example"),
    ]


def test_oidc_core_error_response_example() -> None:
    # OIDC Core 3.1.2.6: error=invalid_request, error_description=Unsupported response_type
    # value, state=af0ifjsldkj; keyfob writes the space as + (RFC 6749 appendix B).
    example = (
        "error=invalid_request&error_description=Unsupported%20response_type%20value"
        "&state=af0ifjsldkj"
    )
    error = OAuthInvalidRequest("Unsupported response_type value")
    params = authorization_response_params(error=error, state="af0ifjsldkj", issuer=ISSUER)
    location = build_redirect(REDIRECT, params)
    assert location.startswith(REDIRECT + "?error=invalid_request&error_description=Unsupported+")
    assert pairs(urlsplit(location).query) == [*pairs(example), ("iss", ISSUER)]


def test_authlib_reads_our_response() -> None:
    params = authorization_response_params(
        code="SplxlOBeZQQYbYS6WxSbIA", state="a b&c", issuer=ISSUER
    )
    location = build_redirect("https://client.example.org/cb?from=keyfob", params)
    assert location.startswith("https://client.example.org/cb?from=keyfob&code=")
    got = parse_authorization_code_response(location, state="a b&c")
    assert got == {
        "from": "keyfob",
        "code": "SplxlOBeZQQYbYS6WxSbIA",
        "state": "a b&c",
        "iss": ISSUER,
    }


def test_response_without_state_and_with_an_awkward_message() -> None:
    error = OAuthInvalidRequest('Say "no" to C:\\ and caf\u00e9')
    assert authorization_response_params(error=error, state=None, issuer=ISSUER) == {
        "error": "invalid_request",
        "error_description": "Say ?no? to C:? and caf?",
        "iss": ISSUER,
    }


@pytest.mark.parametrize(
    "args",
    [
        {"state": None, "issuer": ISSUER},
        {"code": "c", "error": AccessDenied(), "state": None, "issuer": ISSUER},
        {"code": "", "state": None, "issuer": ISSUER},
        {"code": "c", "state": None, "issuer": ""},
        {"error": AccessDenied(), "state": None, "issuer": ""},
    ],
)
def test_response_params_misuse(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="code or an error"):
        authorization_response_params(**args)


def test_build_redirect() -> None:
    params = {"code": "c", "iss": ISSUER}
    assert build_redirect("https://a.example/cb?", params) == (
        "https://a.example/cb?code=c&iss=https%3A%2F%2Fauth.example.com"
    )
    with pytest.raises(ValueError, match="post params"):
        build_redirect("https://a.example/cb", params, "form_post")
    with pytest.raises(ValueError, match="not a redirect"):
        build_redirect("https://a.example/cb", params, "fragment")
    for query in ("state=x", "iss=x", "code=", "error=x&y=1"):
        with pytest.raises(ConfigurationError, match="holds a name of the authorization response"):
            build_redirect(f"https://a.example/cb?{query}", params)
