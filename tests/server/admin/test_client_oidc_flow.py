"""Clients registered through the admin form, end to end: the OpenID Connect code flow with
the settings the form chose, and, for the same client, seed 003's hosted redirect."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.node_clients import NodeClients
from tests.server.admin.panel import Panel, sign_in_panel
from tests.server.admin.test_clients import FORM, shown
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.oidc.flow import APP, LOGGED_OUT, Rp, code_for, exchange, pkce
from tests.server.pages.test_hosted_pages import wallet_sign_in

pytestmark = pytest.mark.usefixtures("node_clients")


@pytest.fixture
def routing() -> str:
    return "fastpath"  # as served; the OIDC tests cover FastAPI's table


async def register_in_panel(panel: Panel, **changes: Any) -> Rp:
    """A client created with the admin form (open to all, registration on, first party); then
    the browser forgets the admin, so the flow signs a user in."""
    form = {
        **FORM,
        "redirect_uris": APP,
        "post_logout_redirect_uris": LOGGED_OUT,
        "access": "open",
        "registration_enabled": "on",
        "first_party": "on",
        **changes,
    }
    response = await panel.post("/admin/clients/new", form)
    assert response.status_code == 200, response.text
    client = await panel.server.runtime.store.get_client(shown(response.text, "client-id"))
    assert client is not None
    panel.client.cookies.clear()
    return Rp(client, shown(response.text, "client-secret"))


def verified_id_token(id_token: str, keys: dict[str, Any], rp: Rp) -> Any:
    header = jwt.get_unverified_header(id_token)
    key = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    return header, jwt.decode(
        id_token, jwt.PyJWK(key).key, algorithms=[header["alg"]], audience=rp.id, issuer=PUBLIC_URL
    )


async def test_a_confidential_client_gets_the_tokens_its_form_asked_for(
    server: Server, node_clients: NodeClients
) -> None:
    panel = await sign_in_panel(server)
    rp = await register_in_panel(
        panel,
        token_endpoint_auth_method="client_secret_post",
        scopes=["openid", "profile", "wallet"],
        subject_type="pairwise",
        id_token_alg="ES256",
        issue_refresh_tokens="on",
    )
    verifier, challenge = pkce()
    pkce_params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    params = await code_for(server, node_clients, rp, scope="openid wallet", **pkce_params)
    basic = await exchange(server, rp, params["code"], verifier)  # not its method
    assert (basic.status_code, basic.json()["error"]) == (401, "invalid_client")
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": APP,
        "code_verifier": verifier,
        "client_id": rp.id,
        "client_secret": rp.secret,
    }
    response = await server.client.post("/oidc/token", data=form)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert "refresh_token" in tokens  # without offline_access: the form's switch
    keys = (await server.client.get("/.well-known/jwks.json")).json()
    header, claims = verified_id_token(tokens["id_token"], keys, rp)
    assert header["alg"] == "ES256"
    assert len(claims["sub"]) == 43  # pairwise, not the user's id
    assert await server.runtime.store.get_user(claims["sub"]) is None
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["wallets"]
    refused = await code_for(server, node_clients, rp, scope="openid email", **pkce_params)
    assert refused["error"] == "invalid_scope"  # email is not among the form's scopes


async def test_a_public_client_serves_oidc_without_a_secret_and_the_hosted_redirect_with_it(
    server: Server, node_clients: NodeClients
) -> None:
    panel = await sign_in_panel(server)
    rp = await register_in_panel(panel, client_type="public", token_delivery="query")
    assert (rp.client.client_type, rp.client.token_endpoint_auth_method) == ("public", "none")
    verifier, challenge = pkce()
    pkce_params = {"code_challenge": challenge, "code_challenge_method": "S256"}
    params = await code_for(server, node_clients, rp, **pkce_params)
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": APP,
        "code_verifier": verifier,
        "client_id": rp.id,
    }
    response = await server.client.post("/oidc/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    # The secret the form showed is no OIDC credential of a public client...
    again = await code_for(server, node_clients, rp, **pkce_params)
    with_secret = await exchange(server, rp, again["code"], verifier)
    assert (with_secret.status_code, with_secret.json()["error"]) == (401, "invalid_client")
    # ...but signs the tokens of the same client's hosted redirect, unchanged.
    signed = await wallet_sign_in(server, node_clients, rp.id, redirectUri=APP)
    assert signed.status_code == 200, signed.text
    redirected = await server.client.get(signed.json()["next"])
    assert redirected.status_code == 303
    query = parse_qs(urlsplit(redirected.headers["location"]).query)
    claims = jwt.decode(
        query["token"][0], rp.secret, algorithms=["HS256"], audience=rp.id, issuer=PUBLIC_URL
    )
    assert claims["userId"]
