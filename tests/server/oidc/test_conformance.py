"""One test per module of the OpenID Foundation's conformance plans that keyfob can run
in-process (Basic OP, Form Post OP, Config OP, RP-Initiated Logout), named after the module;
docs/oidc.md maps every module to its test here or elsewhere, or says why it does not apply.

The ``response_mode`` fixture runs the authorization modules twice: the Basic plan (query)
and the Form Post plan (``form_post``: an auto-submitting page instead of a 303).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest

from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.oidc.flow import (
    APP,
    LOGGED_OUT,
    Rp,
    authorize_url,
    exchange,
    register,
    sign_in_on_page,
)

pytestmark = pytest.mark.usefixtures("node_clients")
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def routing() -> str:
    return "fastpath"


@pytest.fixture(params=["query", "form_post"])
def response_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def returned(response: httpx.Response, mode: str) -> dict[str, str]:
    """The authorization response's parameters, delivered by 303 or by a form-post page."""
    if mode == "form_post":
        assert response.status_code == 200, response.text
        assert f'action="{APP}"' in response.text
        return {name: html.unescape(value) for name, value in _FIELD.findall(response.text)}
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(APP + "?")
    return dict(httpx.URL(location).params)


async def authorize(
    server: Server, clients: NodeClients, rp: Rp, mode: str, *, method: str = "GET", **params: str
) -> dict[str, str]:
    """Send an authorization request (signing in on the page when asked)."""
    if mode == "form_post":
        params = {"response_mode": "form_post", **params}
    url = authorize_url(rp, **params)
    if method == "POST":
        path, query = url.split("?", 1)
        response = await server.client.post(
            path, content=query, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    else:
        response = await server.client.get(url)
    if response.status_code == 303 and response.headers["location"].startswith("/oidc/login"):
        response = await sign_in_on_page(server, clients, response.headers["location"])
    return returned(response, mode)


async def tokens_of(server: Server, rp: Rp, back: dict[str, str]) -> dict[str, Any]:
    response = await exchange(server, rp, back["code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def test_oidcc_server(server: Server, node_clients: NodeClients, response_mode: str) -> None:
    rp = await register(server)
    back = await authorize(server, node_clients, rp, response_mode)
    assert (back["state"], back["iss"]) == ("st-1", PUBLIC_URL)
    id_token = claims((await tokens_of(server, rp, back))["id_token"])
    assert id_token["iss"] == PUBLIC_URL
    assert id_token["aud"] == rp.id
    assert id_token["nonce"] == "n-1"
    assert {"sub", "exp", "iat", "auth_time", "sid", "at_hash", "amr"} <= set(id_token)


async def test_oidcc_response_type_missing(server: Server, response_mode: str) -> None:
    rp = await register(server)
    back = await authorize(server, None, rp, response_mode, response_type="")  # type: ignore[arg-type]
    assert back["error"] == "invalid_request"
    assert "code" not in back


@pytest.mark.parametrize("how", ["get", "post-header", "post-body"])
async def test_oidcc_userinfo(server: Server, node_clients: NodeClients, how: str) -> None:
    """oidcc-userinfo-get, -post-header and -post-body."""
    rp = await register(server)
    access = (await tokens_of(server, rp, await authorize(server, node_clients, rp, "query")))[
        "access_token"
    ]
    bearer = {"Authorization": f"Bearer {access}"}
    if how == "get":
        response = await server.client.get("/oidc/userinfo", headers=bearer)
    elif how == "post-header":
        response = await server.client.post("/oidc/userinfo", headers=bearer)
    else:
        response = await server.client.post("/oidc/userinfo", data={"access_token": access})
    assert response.status_code == 200, response.text
    assert "sub" in response.json()


async def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(
    server: Server, node_clients: NodeClients, response_mode: str
) -> None:
    rp = await register(server)
    back = await authorize(server, node_clients, rp, response_mode, nonce="")
    assert "nonce" not in claims((await tokens_of(server, rp, back))["id_token"])


@pytest.mark.parametrize(
    ("scope", "expected", "absent"),
    [
        ("openid profile", {"name", "preferred_username"}, {"email"}),
        ("openid email", {"email", "email_verified"}, {"name"}),
        ("openid wallet", {"wallets"}, {"name"}),
    ],
)
async def test_oidcc_scope_profile_email_and_wallet(
    server: Server, node_clients: NodeClients, scope: str, expected: set[str], absent: set[str]
) -> None:
    """oidcc-scope-profile and oidcc-scope-email (email: a client opted in to the synthetic
    address, ``email_verified: false``), and keyfob's own ``wallet`` scope."""
    rp = await register(server, synthetic_email=True)
    back = await authorize(server, node_clients, rp, "query", scope=scope)
    tokens = await tokens_of(server, rp, back)
    info = (
        await server.client.get(
            "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    ).json()
    assert expected <= set(info)
    assert not absent & set(info)
    assert not expected - {"sub"} & set(claims(tokens["id_token"])) - {"sub"}
    if "email" in info:
        assert info["email_verified"] is False
        assert info["email"] == f"{info['sub']}@localhost.localdomain"
    if "wallets" in info:
        assert info["wallets"][0]["account"].startswith("eip155:1:0x")
        assert info["wallets"][0]["chain"] == "eip155:1"


async def test_oidcc_alternate_happy_flow(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, synthetic_email=True)
    query = urlencode(
        {"scope": "email openid", "redirect_uri": APP, "state": "s", "client_id": rp.id,
         "nonce": "n", "response_type": "code"}
    )  # fmt: skip
    response = await server.client.get("/oidc/authorize?" + query)
    response = await sign_in_on_page(server, node_clients, response.headers["location"])
    assert "code" in returned(response, "query")


@pytest.mark.parametrize(
    "extra",
    [
        {"display": "page"},
        {"display": "popup"},
        {"ui_locales": "se"},
        {"claims_locales": "se"},
        {"extra": "foobar"},
        {"login_hint": "buffy@localhost"},
        {"acr_values": "1 2"},
        {"claims": '{"userinfo": {"name": {"essential": true}}}'},
    ],
)
async def test_oidcc_ignored_parameters_succeed(
    server: Server, node_clients: NodeClients, extra: dict[str, str]
) -> None:
    """oidcc-display-page, -display-popup, -ui-locales, -claims-locales,
    -ensure-request-with-unknown-parameter-succeeds, -login-hint,
    -ensure-request-with-acr-values-succeeds, -claims-essential."""
    rp = await register(server)
    assert "code" in await authorize(server, node_clients, rp, "query", **extra)


async def test_oidcc_prompt_none_and_max_age_10000(
    server: Server, node_clients: NodeClients, response_mode: str
) -> None:
    """oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in, oidcc-max-age-10000."""
    rp = await register(server)
    state = "s" * 128
    refused = await authorize(server, node_clients, rp, response_mode, prompt="none", state=state)
    assert (refused["error"], refused["state"]) == ("login_required", state)
    first = claims(
        (await tokens_of(server, rp, await authorize(server, node_clients, rp, "query")))[
            "id_token"
        ]
    )
    for params in ({"prompt": "none"}, {"max_age": "10000"}):
        again = await authorize(server, node_clients, rp, response_mode, **params)
        later = claims((await tokens_of(server, rp, again))["id_token"])
        assert (later["sub"], later["auth_time"]) == (first["sub"], first["auth_time"])


async def test_oidcc_id_token_hint(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    first = await tokens_of(server, rp, await authorize(server, node_clients, rp, "query"))
    back = await authorize(
        server, node_clients, rp, "query", prompt="none", id_token_hint=first["id_token"]
    )
    assert (
        claims((await tokens_of(server, rp, back))["id_token"])["sub"]
        == claims(first["id_token"])["sub"]
    )


async def test_oidcc_codereuse_30seconds(server: Server, node_clients: NodeClients) -> None:
    """oidcc-codereuse and oidcc-codereuse-30seconds: the second use fails and the first
    use's access token stops working."""
    rp = await register(server)
    back = await authorize(server, node_clients, rp, "query")
    access = (await tokens_of(server, rp, back))["access_token"]
    server.clock.advance(30)
    again = await exchange(server, rp, back["code"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    info = await server.client.get("/oidc/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert info.status_code == 401


async def test_oidcc_ensure_post_request_succeeds(
    server: Server, node_clients: NodeClients, response_mode: str
) -> None:
    rp = await register(server)
    assert "code" in await authorize(server, node_clients, rp, response_mode, method="POST")


async def test_oidcc_server_client_secret_post(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, auth_method="client_secret_post")
    back = await authorize(server, node_clients, rp, "query")
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": APP,
            "client_id": rp.id, "client_secret": rp.secret}  # fmt: skip
    response = await server.client.post("/oidc/token", data=form)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"request": "eyJhbGciOiJub25lIn0.eyJyZXNwb25zZV9tb2RlIjoiZm9ybV9wb3N0In0."},
         "request_not_supported"),
        ({"request_uri": "https://rp.example.com/request.jwt"}, "request_uri_not_supported"),
    ],
)  # fmt: skip
async def test_oidcc_unsigned_request_object_rejected_as_unsupported(
    server: Server, response_mode: str, extra: dict[str, str], error: str
) -> None:
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported and the
    request_uri module: refused by the response mode of the outer request."""
    rp = await register(server)
    back = await authorize(server, None, rp, response_mode, **extra)  # type: ignore[arg-type]
    assert back["error"] == error


async def test_oidcc_ensure_request_object_with_redirect_uri(server: Server) -> None:
    """A bad redirect_uri is never trusted, whatever a request object says: a page."""
    rp = await register(server)
    response = await server.client.get(
        authorize_url(rp, redirect_uri="https://evil.example.com/cb", request="e30.e30.")
    )
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_oidcc_refresh_token(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    back = await authorize(server, node_clients, rp, "query", scope="openid offline_access")
    first = await tokens_of(server, rp, back)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "scope": "openid"}  # fmt: skip
    response = await server.client.post("/oidc/token", data=form, headers=rp.basic())
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    renewed = response.json()
    assert renewed["scope"] == "openid"
    old, new = claims(first["id_token"]), claims(renewed["id_token"])
    assert (new["iss"], new["sub"], new["aud"], new["auth_time"]) == (
        old["iss"], old["sub"], old["aud"], old["auth_time"]
    )  # fmt: skip
    wider = {**form, "refresh_token": renewed["refresh_token"], "scope": "openid email"}
    refused = await server.client.post("/oidc/token", data=wider, headers=rp.basic())
    assert refused.json()["error"] == "invalid_scope"


async def test_oidcc_discovery_endpoint_verification(server: Server) -> None:
    document = (await server.client.get("/.well-known/openid-configuration")).json()
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ):
        assert document[name].startswith(PUBLIC_URL + "/"), name
    assert document["response_types_supported"] == ["code"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert document["request_uri_parameter_supported"] is False
    assert document["claims_parameter_supported"] is False
    assert set(document["subject_types_supported"]) == {"public", "pairwise"}
    jwks = (await server.client.get("/.well-known/jwks.json")).json()
    assert all({"kid", "kty", "alg"} <= set(key) for key in jwks["keys"])


async def _session(server: Server, clients: NodeClients) -> tuple[Rp, str]:
    rp = await register(server)
    tokens = await tokens_of(server, rp, await authorize(server, clients, rp, "query"))
    return rp, tokens["id_token"]


async def _signed_out(server: Server, rp: Rp) -> bool:
    silent = await server.client.get(authorize_url(rp, prompt="none"))
    return returned(silent, "query").get("error") == "login_required"


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"post_logout_redirect_uri": LOGGED_OUT, "state": "x"}, LOGGED_OUT + "?state=x"),
        ({"post_logout_redirect_uri": LOGGED_OUT}, LOGGED_OUT),
    ],
)
async def test_oidcc_rp_initiated_logout(
    server: Server, node_clients: NodeClients, params: dict[str, str], location: str
) -> None:
    """oidcc-rp-initiated-logout and -no-state."""
    rp, hint = await _session(server, node_clients)
    response = await server.client.get(
        "/oidc/logout?" + urlencode({"id_token_hint": hint, **params})
    )
    assert (response.status_code, response.headers["location"]) == (303, location)
    assert await _signed_out(server, rp)


async def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server, post_logout_redirect_uris=[LOGGED_OUT + "?from=op"])
    tokens = await tokens_of(server, rp, await authorize(server, node_clients, rp, "query"))
    query = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": LOGGED_OUT + "?from=op",
        "state": "x",
    }
    response = await server.client.get("/oidc/logout?" + urlencode(query))
    assert response.headers["location"] == LOGGED_OUT + "?from=op&state=x"


@pytest.mark.parametrize("case", ["bad-post-logout-redirect-uri", "modified-id-token-hint",
                                  "bad-id-token-hint"])  # fmt: skip
async def test_oidcc_rp_initiated_logout_refusals(
    server: Server, node_clients: NodeClients, case: str
) -> None:
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri, -modified-id-token-hint and
    -bad-id-token-hint: an error page, no redirect, and the user stays signed in."""
    rp, hint = await _session(server, node_clients)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": LOGGED_OUT}
    if case == "bad-post-logout-redirect-uri":
        query["post_logout_redirect_uri"] = "https://rp.example.com/elsewhere"
    elif case == "modified-id-token-hint":
        head, body, signature = hint.split(".")
        query["id_token_hint"] = f"{head}.{body}.{signature[:-4]}AAAA"
    else:
        query["id_token_hint"] = "not.a.token"
    response = await server.client.get("/oidc/logout?" + urlencode(query))
    assert response.status_code in (400, 401)
    assert "location" not in response.headers
    assert not await _signed_out(server, rp)


@pytest.mark.parametrize(
    "params",
    [{}, {"state": "only"}, {"client_id": "CLIENT", "post_logout_redirect_uri": LOGGED_OUT}],
)
async def test_oidcc_rp_initiated_logout_without_a_hint_asks_first(
    server: Server, node_clients: NodeClients, params: dict[str, str]
) -> None:
    """oidcc-rp-initiated-logout-no-params, -only-state, -no-id-token-hint: a confirmation
    page; the user stays signed in until they confirm."""
    rp, _ = await _session(server, node_clients)
    params = {k: (rp.id if v == "CLIENT" else v) for k, v in params.items()}
    response = await server.client.get("/oidc/logout?" + urlencode(params))
    assert response.status_code == 200
    assert "Sign out?" in response.text
    assert not await _signed_out(server, rp)


async def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(
    server: Server, node_clients: NodeClients
) -> None:
    rp, hint = await _session(server, node_clients)
    response = await server.client.get("/oidc/logout?" + urlencode({"id_token_hint": hint}))
    assert response.status_code == 200
    assert "signed out" in response.text
    assert await _signed_out(server, rp)
