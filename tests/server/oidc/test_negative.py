"""The negative table of the OpenID Provider: each case refused the way the specs say."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.node_clients import NodeClients
from tests.server.conftest import Server
from tests.server.oidc.flow import (
    APP,
    Rp,
    authorize_url,
    callback_params,
    code_for,
    exchange,
    pkce,
    register,
)

pytestmark = pytest.mark.usefixtures("node_clients")


@pytest.fixture
def routing() -> str:
    return "fastpath"


def assert_error_page(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/cb",
        APP + "/",
        APP.upper(),
        APP + "?x=1",
        APP + "#frag",
        APP.replace("https", "http"),
        "https://user@rp.example.com/cb",
        "https://rp.example.com:444/cb",
        "",
    ],
)
async def test_near_miss_redirect_uris_get_a_page_and_no_redirect(
    server: Server, redirect_uri: str
) -> None:
    rp = await register(server)
    response = await server.client.get(authorize_url(rp, redirect_uri=redirect_uri))
    assert_error_page(response)


async def test_unknown_client_gets_a_page(server: Server) -> None:
    response = await server.client.get("/oidc/authorize?client_id=nobody&redirect_uri=" + APP)
    assert_error_page(response, 404)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "openid calendar"}, "invalid_scope"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://rp.example.com/req"}, "request_uri_not_supported"),
        ({"prompt": "none"}, "login_required"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
    ],
)
async def test_bad_requests_go_back_to_the_client(
    server: Server, params: dict[str, str], error: str
) -> None:
    rp = await register(server)
    back = callback_params(await server.client.get(authorize_url(rp, **params)))
    assert back["error"] == error
    assert back["state"] == "st-1"
    assert back["iss"] == "http://localhost:8000"
    assert "code" not in back


async def test_a_public_client_must_use_pkce(server: Server) -> None:
    rp = await register(server, public=True)
    back = callback_params(await server.client.get(authorize_url(rp)))
    assert back["error"] == "invalid_request"


async def test_pkce_verifier_missing_wrong_or_unasked(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)
    verifier, challenge = pkce()
    s256 = {"code_challenge": challenge, "code_challenge_method": "S256"}
    missing = await exchange(server, rp, (await code_for(server, node_clients, rp, **s256))["code"])
    assert missing.json()["error"] == "invalid_grant"
    wrong = await exchange(
        server, rp, (await code_for(server, node_clients, rp, **s256))["code"], pkce()[0]
    )
    assert wrong.json()["error"] == "invalid_grant"
    unasked = await exchange(
        server, rp, (await code_for(server, node_clients, rp))["code"], verifier
    )
    assert unasked.json()["error"] == "invalid_grant"  # RFC 9700: a verifier without challenge
    good = await exchange(
        server, rp, (await code_for(server, node_clients, rp, **s256))["code"], verifier
    )
    assert good.status_code == 200, good.text


async def test_a_code_of_another_client_or_expired(
    server: Server, node_clients: NodeClients
) -> None:
    rp, other = await register(server), await register(server, name="Other")
    code = (await code_for(server, node_clients, rp))["code"]
    stolen = await exchange(server, other, code)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    late = (await code_for(server, node_clients, rp))["code"]
    server.clock.advance(61)
    expired = await exchange(server, rp, late)
    assert expired.json()["error"] == "invalid_grant"


async def test_client_authentication_failures(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    code = (await code_for(server, node_clients, rp))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP}
    wrong = Rp(rp.client, "not-the-secret")
    refused = await server.client.post("/oidc/token", data=form, headers=wrong.basic())
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert refused.headers["www-authenticate"].startswith("Basic")
    as_post = {**form, "client_id": rp.id, "client_secret": rp.secret}
    method = await server.client.post("/oidc/token", data=as_post)
    assert method.status_code == 401  # registered for client_secret_basic
    both = await server.client.post("/oidc/token", data=as_post, headers=rp.basic())
    assert both.status_code == 401
    nobody = await server.client.post("/oidc/token", data=form)
    assert nobody.status_code == 401
    # The code survived every refused attempt: authentication comes before the code.
    assert (await exchange(server, rp, code)).status_code == 200


async def test_refresh_rotation_reuse_and_other_client(
    server: Server, node_clients: NodeClients
) -> None:
    rp, other = await register(server), await register(server, name="Other")
    code = (await code_for(server, node_clients, rp, scope="openid offline_access"))["code"]
    first = (await exchange(server, rp, code)).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    theirs = await server.client.post("/oidc/token", data=form, headers=other.basic())
    assert theirs.json()["error"] == "invalid_grant"
    rotated = await server.client.post("/oidc/token", data=form, headers=rp.basic())
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    reused = await server.client.post("/oidc/token", data=form, headers=rp.basic())
    assert reused.json()["error"] == "invalid_grant"
    family = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    dead = await server.client.post("/oidc/token", data=family, headers=rp.basic())
    assert dead.json()["error"] == "invalid_grant"  # reuse revoked the whole family
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert info.status_code == 401


async def test_no_refresh_token_without_offline_access(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)
    tokens = (await exchange(server, rp, (await code_for(server, node_clients, rp))["code"])).json()
    assert "refresh_token" not in tokens


def _forge(token: str, **header: str) -> str:
    head, body, _ = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(head + "=="))
    decoded.update(header)
    new_head = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{new_head}.{body}." if header.get("alg") == "none" else f"{new_head}.{body}.AAAA"


async def test_id_token_hint_forged_or_alg_none(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    tokens = (await exchange(server, rp, (await code_for(server, node_clients, rp))["code"])).json()
    good = await server.client.get(
        authorize_url(rp, prompt="none", id_token_hint=tokens["id_token"])
    )
    assert "code" in callback_params(good)
    for hint in (_forge(tokens["id_token"], alg="none"), _forge(tokens["id_token"], kid="x")):
        forged = await server.client.get(authorize_url(rp, prompt="none", id_token_hint=hint))
        assert callback_params(forged)["error"] == "login_required"
    hs256 = jwt.encode(
        jwt.decode(tokens["id_token"], options={"verify_signature": False}), rp.secret
    )
    guessed = await server.client.get(authorize_url(rp, prompt="none", id_token_hint=hs256))
    assert callback_params(guessed)["error"] == "login_required"


async def test_max_age_and_prompt_login_force_a_new_sign_in(
    server: Server, node_clients: NodeClients
) -> None:
    rp = await register(server)
    first = (await exchange(server, rp, (await code_for(server, node_clients, rp))["code"])).json()
    server.clock.advance(2)
    for params in ({"max_age": "1"}, {"prompt": "login"}):
        asked = await server.client.get(authorize_url(rp, **params))
        assert asked.status_code == 303
        assert asked.headers["location"].startswith("/oidc/login?")
    silent = await server.client.get(authorize_url(rp, max_age="1", prompt="none"))
    assert callback_params(silent)["error"] == "login_required"
    again = await code_for(server, node_clients, rp, max_age="1")
    later = (await exchange(server, rp, again["code"])).json()
    auth_times = [
        jwt.decode(t["id_token"], options={"verify_signature": False})["auth_time"]
        for t in (first, later)
    ]
    assert auth_times[1] > auth_times[0]


async def test_consent_for_third_party_clients(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, first_party=False)
    asked = await server.client.get(authorize_url(rp))
    page = await server.client.get(asked.headers["location"])  # sign-in page
    from tests.server.oidc.flow import sign_in_on_page

    consent = await sign_in_on_page(server, node_clients, asked.headers["location"])
    assert page.status_code == 200
    assert consent.status_code == 303
    assert consent.headers["location"].startswith("/oidc/consent?")
    silent = await server.client.get(authorize_url(rp, prompt="none"))
    assert callback_params(silent)["error"] == "consent_required"
    shown = await server.client.get(consent.headers["location"])
    assert shown.status_code == 200
    token = parse_qs(urlsplit(consent.headers["location"]).query)["interaction"][0]
    form_token = shown.text.split('name="form_token" value="')[1].split('"')[0]
    forged = await server.client.post(
        "/oidc/consent",
        data={"interaction": token, "form_token": "0" * 64, "decision": "allow"},
    )
    assert_error_page(forged, 403)
    allowed = await server.client.post(
        "/oidc/consent", data={"interaction": token, "form_token": form_token, "decision": "allow"}
    )
    assert "code" in callback_params(allowed)
    remembered = await server.client.get(authorize_url(rp, prompt="none"))
    assert "code" in callback_params(remembered)


async def test_sign_in_page_posts_answer_json_errors(server: Server) -> None:
    rp = await register(server)
    asked = await server.client.get(authorize_url(rp))
    token = parse_qs(urlsplit(asked.headers["location"]).query)["interaction"][0]
    url = "/oidc/login/wallet?interaction=" + token
    malformed = await server.client.post(url, content=b"{not json")
    assert malformed.status_code == 422
    assert malformed.json()["error"] == "invalid_request"
    bad = await server.client.post(
        url, json={"chain": "ethereum", "message": "hello", "signature": "0x00"}
    )
    assert bad.status_code in (400, 401)
    assert set(bad.json()) == {"error", "message"}
    cross_site = await server.client.post(
        url, json={}, headers={"Origin": "https://evil.example.com"}
    )
    assert cross_site.status_code == 403
    expired = await server.client.post("/oidc/login/wallet?interaction=forged", json={})
    assert expired.status_code == 422


async def test_resources_must_be_registered(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, resources=["https://api.example.com/"])
    refused = await server.client.get(authorize_url(rp, resource="https://other.example.com/"))
    assert callback_params(refused)["error"] == "invalid_target"
    back = await code_for(server, node_clients, rp, resource="https://api.example.com/")
    access = (await exchange(server, rp, back["code"])).json()["access_token"]
    assert jwt.decode(access, options={"verify_signature": False})["aud"] == (
        "https://api.example.com/"
    )


async def test_login_hint_fills_in_the_username(server: Server) -> None:
    rp = await register(server)
    asked = await server.client.get(authorize_url(rp, login_hint="alice"))
    page = await server.client.get(asked.headers["location"])
    assert 'value="alice"' in page.text
