"""Tests for keyfob.core.rfc6749: parameters, scopes, Basic credentials, client authentication,
token requests; and the OAuth error classes of keyfob.errors they raise."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import httpx
import pytest
from authlib.oauth2.auth import encode_client_secret_basic, encode_client_secret_post, encode_none
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from keyfob import errors
from keyfob.core.rfc6749 import (
    CLIENT_AUTH_METHODS,
    AuthorizationCodeGrant,
    ClientAuthentication,
    ClientCredentials,
    RefreshTokenGrant,
    authenticate_client,
    check_scope,
    error_description,
    parse_basic_credentials,
    parse_client_authentication,
    parse_scope,
    parse_token_request,
    secret_matches,
    single_params,
)
from keyfob.core.rfc7523 import JWT_BEARER
from keyfob.errors import (
    ConfigurationError,
    InvalidClient,
    InvalidScope,
    InvalidTarget,
    OAuthError,
    OAuthInvalidRequest,
    UnsupportedGrantType,
)

# RFC 6749 section 2.3.1 (and the token requests of 4.1.3 and 6): client s6BhdRkqt3, secret
# gX1fBat3bV.
RFC6749_BASIC = "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"
# RFC 6749 section 4.1.3, the example access token request body.
RFC6749_CODE_BODY = (
    "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
    "&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb"
)
# RFC 6749 section 6, the example refresh request body.
RFC6749_REFRESH_BODY = "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
NQSCHAR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")


def pairs(body: str) -> list[tuple[str, str]]:
    """A form body as the server hands it to core: (name, value) pairs, blanks kept."""
    return parse_qsl(body, keep_blank_values=True)


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


# --- the OAuth error classes ---------------------------------------------------------------

OAUTH_ERRORS = [
    (errors.OAuthInvalidRequest, "invalid_request", 400),
    (errors.InvalidClient, "invalid_client", 401),
    (errors.UnauthorizedClient, "unauthorized_client", 400),
    (errors.UnsupportedGrantType, "unsupported_grant_type", 400),
    (errors.InvalidScope, "invalid_scope", 400),
    (errors.UnsupportedResponseType, "unsupported_response_type", 400),
    (errors.AccessDenied, "access_denied", 403),
    (errors.LoginRequired, "login_required", 400),
    (errors.ConsentRequired, "consent_required", 400),
    (errors.InteractionRequired, "interaction_required", 400),
    (errors.AccountSelectionRequired, "account_selection_required", 400),
    (errors.RequestNotSupported, "request_not_supported", 400),
    (errors.RequestUriNotSupported, "request_uri_not_supported", 400),
    (errors.RegistrationNotSupported, "registration_not_supported", 400),
    (errors.InvalidTarget, "invalid_target", 400),
    (errors.ServerError, "server_error", 500),
    (errors.TemporarilyUnavailable, "temporarily_unavailable", 503),
    (errors.InsufficientScope, "insufficient_scope", 403),
]


@pytest.mark.parametrize(("cls", "code", "status"), OAUTH_ERRORS)
def test_oauth_error_classes(cls: type[OAuthError], code: str, status: int) -> None:
    error = cls()
    assert isinstance(error, OAuthError)
    assert isinstance(error, errors.KeyfobError)
    assert (error.code, error.status) == (code, status)
    # The default sentence goes out as error_description as it is (RFC 6749 appendix A.7).
    assert NQSCHAR.fullmatch(error.message), error.message
    assert error_description(error.message) == error.message


def test_every_oauth_error_is_in_the_table_once() -> None:
    defined = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, OAuthError) and value is not OAuthError
    }
    assert defined == {cls for cls, _, _ in OAUTH_ERRORS}
    codes = [code for _, code, _ in OAUTH_ERRORS]
    assert len(codes) == len(set(codes))
    # The two codes the older tree also uses, kept apart on purpose.
    assert errors.InvalidRequest.code == "invalid_request"
    assert errors.InvalidRequest.status == 422
    assert errors.InvalidGrant.code == "invalid_grant"
    assert errors.InvalidGrant.status == 400


def test_error_description_keeps_to_nqschar() -> None:
    assert error_description('Say "hi" \\ café\n') == "Say ?hi? ? caf??"
    assert error_description("Unsupported response_type value") == (
        "Unsupported response_type value"
    )


# --- parameters ----------------------------------------------------------------------------

LIMITS = {"a": 5, "b": 5}


def test_single_params_keeps_named_params_once_and_drops_blanks() -> None:
    got = single_params([("a", "x"), ("b", ""), ("c", "1"), ("c", "2")], LIMITS)
    assert got == {"a": "x"}  # b blank means absent; c is not ours, repeats and all


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ([("a", "x"), ("a", "x")], "repeated"),
        ([("a", "x"), ("a", "y")], "repeated"),
        ([("a", ""), ("a", "x")], "repeated"),  # a blank still counts as sent
        ([("a", ""), ("a", "")], "repeated"),
        ([("a", "123456")], "at most 5"),
        ([("a", "x\ny")], "control"),
        ([("a", "x\x00")], "control"),
        ([("a", "\x7f")], "control"),
    ],
)
def test_single_params_refuses(params: list[tuple[str, str]], why: str) -> None:
    with pytest.raises(OAuthInvalidRequest, match=why):
        single_params(params, LIMITS)


@pytest.mark.parametrize("params", ["a=x", b"a=x", {"a": "x"}])
def test_single_params_wants_pairs(params: Any) -> None:
    with pytest.raises(TypeError):
        single_params(params, LIMITS)


# --- scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("openid profile email", ("openid", "profile", "email")),  # OIDC Core 3.1.2.1 example
        ("openid", ("openid",)),
        ("openid openid profile openid", ("openid", "profile")),
        ("profile openid", ("profile", "openid")),
        (
            "urn:example:read https://a.example/x!#$[]^~",
            ("urn:example:read", "https://a.example/x!#$[]^~"),
        ),
        ("", ()),
        (None, ()),
    ],
)
def test_parse_scope(text: str | None, scope: tuple[str, ...]) -> None:
    assert parse_scope(text) == scope


@pytest.mark.parametrize(
    "text",
    [
        "openid  profile",
        " openid",
        "openid ",
        " ",
        "openid\tprofile",
        "openid\nprofile",
        'openid "profile"',
        "openid pro\\file",
        "openid profilé",
        "openid " + "x" * 2048,
    ],
)
def test_parse_scope_refuses(text: str) -> None:
    with pytest.raises(InvalidScope, match=r"section 3\.3"):
        parse_scope(text)


def test_check_scope() -> None:
    allowed = {"openid", "profile", "email"}
    assert check_scope(("openid", "email"), expected_allowed=allowed) == ("openid", "email")
    assert check_scope((), expected_allowed=allowed) == ()
    with pytest.raises(InvalidScope, match="The scope admin is not allowed"):
        check_scope(("openid", "admin", "root"), expected_allowed=allowed)
    with pytest.raises(InvalidScope, match="Profile"):
        check_scope(("Profile",), expected_allowed=allowed)  # case-sensitive


# --- Basic credentials ---------------------------------------------------------------------


def test_rfc6749_basic_example() -> None:
    assert parse_basic_credentials(RFC6749_BASIC) == ClientCredentials("s6BhdRkqt3", "gX1fBat3bV")


def test_basic_from_real_clients() -> None:
    # keyfob's client ids are UUIDs and its secrets 43 base64url characters.
    client = SimpleNamespace(
        client_id="0c5f5a3e-8b1e-4d1a-9c5e-1f2a3b4c5d6e",
        client_secret="q9gk3yH_vP2-xL0aZ7mN4bR6tW8cE1dF5sJ3hK0uY2o",
    )
    _, headers, _ = encode_client_secret_basic(client, "POST", "https://x/token", {}, "")
    got = parse_basic_credentials(headers["Authorization"])
    assert got == ClientCredentials(client.client_id, client.client_secret)
    request = httpx.Request("POST", "https://x/token")
    auth = httpx.BasicAuth(client.client_id, client.client_secret)
    sent = next(auth.auth_flow(request))
    assert parse_basic_credentials(sent.headers["Authorization"]) == got


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("my client", "p@ss:w+rd%20"),
        ("id:with:colons", "secret"),
        ("ünïcode", "sécret ☃"),
        ("a+b", "c d"),
    ],
)
def test_basic_parts_are_form_urlencoded(client_id: str, secret: str) -> None:
    # RFC 6749 section 2.3.1: each part is application/x-www-form-urlencoded first.
    header = basic(f"{quote_plus(client_id)}:{quote_plus(secret)}")
    assert parse_basic_credentials(header) == ClientCredentials(client_id, secret)


@pytest.mark.parametrize(
    "header",
    [
        "basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        "BASIC czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        "Basic   czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        " Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW ",
    ],
)
def test_basic_scheme_is_case_insensitive(header: str) -> None:
    assert parse_basic_credentials(header).client_id == "s6BhdRkqt3"


def _non_canonical() -> str:
    token = base64.b64encode(b"id:se").decode()  # "aWQ6c2U=": the last symbol has 2 spare bits
    assert token.endswith("U=")
    return "Basic " + token[:-2] + "V="


BASIC_REFUSED = [
    ("", "must be Basic"),
    ("Basic", "must be Basic"),
    ("Basic ", "must be Basic"),
    ("Bearer czZCaGRSa3F0MzpnWDFmQmF0M2JW", "must be Basic"),
    ("Digest czZCaGRSa3F0MzpnWDFmQmF0M2JW", "must be Basic"),
    ("Basicc czZCaGRSa3F0MzpnWDFmQmF0M2JW", "must be Basic"),
    ("Basic czZCaGRSa3F0Mzpn WDFmQmF0M2JW", "must be Basic"),
    ("Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW\n", "must be Basic"),
    ("Basic\tczZCaGRSa3F0MzpnWDFmQmF0M2JW", "must be Basic"),
    ("Basic !!!!", "must be Basic"),
    ("Basic " + base64.urlsafe_b64encode(b"id:s\xfb\xff").decode(), "must be Basic"),
    ("Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW=", "base64"),
    ("Basic " + base64.b64encode(b"id:secret1").decode().rstrip("="), "base64"),
    ("Basic " + base64.b64encode(b"id:secret").decode() + "==", "base64"),
    (_non_canonical(), "canonical"),
    ("Basic " + base64.b64encode(b"id:\xff\xfe").decode(), "UTF-8"),
    (basic("s6BhdRkqt3"), "client_id:client_secret"),
    (basic(""), "must be Basic"),
    (basic(":gX1fBat3bV"), "client_id is empty"),
    (basic("%00id:secret"), "client_id is empty or malformed"),
    (basic("id%0A:secret"), "client_id is empty or malformed"),
    (basic("x" * 257 + ":secret"), "client_id is empty or malformed"),
    (basic("s6BhdRkqt3:"), "client_secret is empty"),
    (basic("id%ZZ:secret"), "malformed %-escape"),
    (basic("id:secret%"), "malformed %-escape"),
    (basic("id:secret%4"), "malformed %-escape"),
    (basic("%FF:secret"), "not UTF-8"),
    (basic("id:%C3"), "not UTF-8"),
    ("Basic " + "QUFB" * 1100, "must be Basic"),
]


@pytest.mark.parametrize(("header", "why"), BASIC_REFUSED)
def test_basic_refused(header: str, why: str) -> None:
    with pytest.raises(InvalidClient, match=why):
        parse_basic_credentials(header)


def test_secret_matches() -> None:
    assert secret_matches("gX1fBat3bV", "gX1fBat3bV")
    assert secret_matches("sécret ☃", "sécret ☃")
    assert not secret_matches("gX1fBat3bV", "gX1fBat3bv")
    assert not secret_matches("gX1fBat3bV", "gX1fBat3bV ")
    assert not secret_matches("gX1fBat3b", "gX1fBat3bV")
    assert not secret_matches("\ud800", "x")  # a lone surrogate from a lax decoder: no crash
    for given, expected in [("", ""), (None, None), ("", "x"), ("x", ""), (None, "x")]:
        assert not secret_matches(given, expected)


# --- client authentication -----------------------------------------------------------------

CID = "s6BhdRkqt3"


def _assertion(payload: str = '{"iss":"s6BhdRkqt3","sub":"s6BhdRkqt3"}') -> str:
    def segment(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return segment('{"alg":"ES256"}') + "." + segment(payload) + ".c2ln"


ASSERTION = _assertion()


@pytest.mark.parametrize(
    ("form", "header", "expected"),
    [
        ([], RFC6749_BASIC, ClientAuthentication(CID, "client_secret_basic", "gX1fBat3bV")),
        (
            [("client_id", CID)],
            RFC6749_BASIC,
            ClientAuthentication(CID, "client_secret_basic", "gX1fBat3bV"),
        ),
        (
            [("client_id", CID), ("client_secret", "7Fjfp0ZBr1KtDRbnfVdmIw")],
            None,
            ClientAuthentication(CID, "client_secret_post", "7Fjfp0ZBr1KtDRbnfVdmIw"),
        ),
        ([("client_id", CID)], None, ClientAuthentication(CID, "none")),
        ([("client_id", CID), ("client_secret", "")], None, ClientAuthentication(CID, "none")),
        ([("client_id", CID)], "", ClientAuthentication(CID, "none")),
        (
            [("client_assertion_type", JWT_BEARER), ("client_assertion", ASSERTION)],
            None,
            ClientAuthentication(CID, "private_key_jwt", assertion=ASSERTION),
        ),
        (
            [
                ("client_id", CID),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", ASSERTION),
            ],
            None,
            ClientAuthentication(CID, "private_key_jwt", assertion=ASSERTION),
        ),
    ],
)
def test_client_authentication_methods(
    form: list[tuple[str, str]], header: str | None, expected: ClientAuthentication
) -> None:
    got = parse_client_authentication(form, authorization_header=header)
    assert got == expected
    assert got.secret is None or got.secret not in repr(got)  # secrets stay out of logs
    assert authenticate_client(got, expected_method=expected.method) == expected.method


def test_client_authentication_from_authlib() -> None:
    client = SimpleNamespace(client_id=CID, client_secret="7Fjfp0ZBr1KtDRbnfVdmIw")
    body = prepare_token_request("authorization_code", code="c", redirect_uri="https://a/cb")
    for encode, method in [
        (encode_client_secret_basic, "client_secret_basic"),
        (encode_client_secret_post, "client_secret_post"),
        (encode_none, "none"),
    ]:
        _, headers, sent = encode(client, "POST", "https://x/token", {}, body)
        got = parse_client_authentication(
            pairs(sent), authorization_header=headers.get("Authorization")
        )
        assert (got.client_id, got.method) == (CID, method)
        assert got.secret == (None if method == "none" else client.client_secret)


CLIENT_AUTH_REFUSED: list[tuple[str, list[tuple[str, str]], str | None, str]] = [
    ("nothing", [], None, "neither authenticates"),
    ("secret-without-id", [("client_secret", "x")], None, "without a client_id"),
    ("basic-and-post", [("client_secret", "x")], RFC6749_BASIC, "more than one way"),
    (
        "basic-and-post-same-secret",
        [("client_id", CID), ("client_secret", "gX1fBat3bV")],
        RFC6749_BASIC,
        "client_secret_basic, client_secret_post",
    ),
    (
        "basic-and-assertion",
        [("client_assertion_type", JWT_BEARER), ("client_assertion", ASSERTION)],
        RFC6749_BASIC,
        "more than one way",
    ),
    (
        "post-and-assertion",
        [
            ("client_id", CID),
            ("client_secret", "x"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", ASSERTION),
        ],
        None,
        "client_secret_post, private_key_jwt",
    ),
    ("basic-other-client-id", [("client_id", "other")], RFC6749_BASIC, "does not match"),
    ("malformed-basic", [("client_id", CID)], "Basic nope", "not base64"),
    ("bearer-header", [("client_id", CID)], "Bearer abc", "must be Basic"),
    ("assertion-without-type", [("client_assertion", ASSERTION)], None, "client_assertion_type"),
    (
        "type-without-assertion",
        [("client_id", CID), ("client_assertion_type", JWT_BEARER)],
        None,
        "client_assertion_type",
    ),
    (
        "saml-assertion-type",
        [
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
            ("client_assertion", ASSERTION),
        ],
        None,
        "client_assertion_type",
    ),
    (
        "assertion-for-another-client",
        [
            ("client_id", "other"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", ASSERTION),
        ],
        None,
        "does not match",
    ),
    (
        "assertion-iss-not-sub",
        [
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", _assertion('{"iss":"a","sub":"s6BhdRkqt3"}')),
        ],
        None,
        "iss and sub",
    ),
    (
        "assertion-not-a-jwt",
        [("client_assertion_type", JWT_BEARER), ("client_assertion", "abc")],
        None,
        "not a signed JWT",
    ),
]


@pytest.mark.parametrize(
    ("form", "header", "why"),
    [case[1:] for case in CLIENT_AUTH_REFUSED],
    ids=[case[0] for case in CLIENT_AUTH_REFUSED],
)
def test_client_authentication_refused(
    form: list[tuple[str, str]], header: str | None, why: str
) -> None:
    with pytest.raises(InvalidClient, match=why):
        parse_client_authentication(form, authorization_header=header)


@pytest.mark.parametrize("name", ["client_id", "client_secret", "client_assertion_type"])
def test_client_authentication_refuses_repeats(name: str) -> None:
    form = [("client_id", CID), (name, "x"), (name, "x")]
    with pytest.raises(OAuthInvalidRequest, match=f"{name} is repeated"):
        parse_client_authentication(form, authorization_header=None)


@pytest.mark.parametrize("registered", CLIENT_AUTH_METHODS)
@pytest.mark.parametrize("used", CLIENT_AUTH_METHODS)
def test_authenticate_client_wants_the_registered_method(registered: str, used: str) -> None:
    presented = ClientAuthentication(CID, used, secret="s" if "secret" in used else None)
    if used == registered:
        assert authenticate_client(presented, expected_method=registered) == used
    else:
        with pytest.raises(InvalidClient, match=f"authenticates with {registered}, not {used}"):
            authenticate_client(presented, expected_method=registered)


@pytest.mark.parametrize("method", ["client_secret_jwt", "tls_client_auth", "", "NONE"])
def test_authenticate_client_refuses_unknown_registrations(method: str) -> None:
    with pytest.raises(ConfigurationError):
        authenticate_client(ClientAuthentication(CID, "none"), expected_method=method)


# --- token requests ------------------------------------------------------------------------


def test_rfc6749_token_request_examples() -> None:
    assert parse_token_request(pairs(RFC6749_CODE_BODY)) == AuthorizationCodeGrant(
        code="SplxlOBeZQQYbYS6WxSbIA",
        redirect_uri="https://client.example.com/cb",
        code_verifier=None,
        resource=None,
    )
    assert parse_token_request(pairs(RFC6749_REFRESH_BODY)) == RefreshTokenGrant(
        refresh_token="tGzv3JOkF0XG5Qx2TlKWIA", scope=None, resource=None
    )


def test_token_requests_from_authlib() -> None:
    body = prepare_token_request(
        "authorization_code",
        code="SplxlOBeZQQYbYS6WxSbIA",
        redirect_uri="https://client.example.org/cb",
        code_verifier=VERIFIER,
        resource="https://api.example.com/",
        client_id=CID,
    )
    grant = parse_token_request(pairs(body))
    assert grant == AuthorizationCodeGrant(
        "SplxlOBeZQQYbYS6WxSbIA",
        "https://client.example.org/cb",
        VERIFIER,
        "https://api.example.com/",
    )
    assert VERIFIER not in repr(grant)
    assert "SplxlOBeZQQYbYS6WxSbIA" not in repr(grant)
    body = prepare_token_request("refresh_token", refresh_token="kfr_x", scope=["openid", "email"])
    assert parse_token_request(pairs(body)) == RefreshTokenGrant("kfr_x", ("openid", "email"), None)


def test_refresh_with_an_empty_scope_keeps_the_original() -> None:
    grant = parse_token_request(pairs(RFC6749_REFRESH_BODY + "&scope="))
    assert isinstance(grant, RefreshTokenGrant)
    assert grant.scope is None


def _body(base: str, change: str) -> str:
    """``base`` with a ``name=`` parameter removed (``-name``) or a parameter appended."""
    if change.startswith("-"):
        return "&".join(p for p in base.split("&") if not p.startswith(change[1:] + "="))
    return f"{base}&{change}"


CODE, REFRESH, BAD = RFC6749_CODE_BODY, RFC6749_REFRESH_BODY, OAuthInvalidRequest
NO_CODE = _body(CODE, "-code")
URN = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
TOKEN_REFUSED: list[tuple[str, str, str, type[Exception], str]] = [
    ("no-grant-type", CODE, "-grant_type", BAD, "grant_type"),
    ("blank-grant-type", "grant_type=&code=x", "redirect_uri=x", BAD, "missing"),
    ("repeated-grant-type", CODE, "grant_type=refresh_token", BAD, "repeated"),
    ("no-code", CODE, "-code", BAD, "code parameter is missing"),
    ("blank-code", NO_CODE, "code=", BAD, "code"),
    ("repeated-code", CODE, "code=SplxlOBeZQQYbYS6WxSbIA", BAD, "repeated"),
    ("no-redirect-uri", CODE, "-redirect_uri", BAD, "redirect_uri"),
    ("repeated-redirect-uri", CODE, "redirect_uri=https%3A%2F%2Fx", BAD, "repeated"),
    ("repeated-verifier", CODE, f"code_verifier={VERIFIER}&code_verifier=x", BAD, "repeated"),
    ("long-verifier", CODE, "code_verifier=" + "a" * 129, BAD, "at most 128"),
    ("control-in-code", NO_CODE, "code=a%00b", BAD, "control"),
    ("long-code", NO_CODE, "code=" + "a" * 513, BAD, "512"),
    (
        "two-resources",
        CODE,
        "resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
        InvalidTarget,
        "one",
    ),
    ("relative-resource", CODE, "resource=%2Fapi", InvalidTarget, "absolute URI"),
    ("resource-fragment", CODE, "resource=https%3A%2F%2Fa%2F%23x", InvalidTarget, "fragment"),
    ("no-refresh-token", "grant_type=refresh_token", "scope=openid", BAD, "refresh_token"),
    ("repeated-refresh-token", REFRESH, "refresh_token=x", BAD, "repeated"),
    ("bad-scope", REFRESH, "scope=openid++email", InvalidScope, "section 3"),
    ("repeated-scope", REFRESH, "scope=openid&scope=email", BAD, "repeated"),
    ("password", "grant_type=password&username=u", "password=p", UnsupportedGrantType, "grant"),
    (
        "client-credentials",
        "grant_type=client_credentials",
        "scope=x",
        UnsupportedGrantType,
        "grant",
    ),
    ("implicit", "grant_type=implicit", "scope=x", UnsupportedGrantType, "grant"),
    (
        "uppercase",
        CODE.replace("=authorization_code", "=AUTHORIZATION_CODE"),
        "",
        UnsupportedGrantType,
        "grant",
    ),
    ("device-code", f"grant_type={URN}device_code", "device_code=x", UnsupportedGrantType, "grant"),
    (
        "jwt-bearer-grant",
        f"grant_type={URN}jwt-bearer",
        "assertion=x",
        UnsupportedGrantType,
        "grant",
    ),
]


@pytest.mark.parametrize(
    ("base", "change", "error", "why"),
    [case[1:] for case in TOKEN_REFUSED],
    ids=[case[0] for case in TOKEN_REFUSED],
)
def test_token_requests_refused(base: str, change: str, error: type[Exception], why: str) -> None:
    with pytest.raises(error, match=why):
        parse_token_request(pairs(_body(base, change)))


def test_token_request_ignores_other_params_and_their_repeats() -> None:
    body = RFC6749_CODE_BODY + "&client_id=a&foo=1&foo=2&state=x"
    assert isinstance(parse_token_request(pairs(body)), AuthorizationCodeGrant)
