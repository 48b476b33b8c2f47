"""openid-client (panva's certified relying party for Node) against a live keyfob over HTTP.

openid-client discovers keyfob, builds the authorization URL and validates everything that
comes back (iss, state, PKCE, nonce, the ID token's signature and claims, at_hash); a
:class:`~tests.server.oidc.live.Browser` plays the user agent and signs in with a wallet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_fixtures import CallbackApp, LiveKeyfob
from tests.node_clients import NodeClientError, NodeClients
from tests.server.oidc.live import SCOPES, Browser, Registered, query_of, register


@pytest.fixture
def browser(live: LiveKeyfob, node_clients: NodeClients) -> Iterator[Browser]:
    with Browser(live, node_clients) as browser:
        yield browser


def discover(clients: NodeClients, live: LiveKeyfob, rp: Registered, **auth: Any) -> dict[str, Any]:
    auth.setdefault("clientSecret", rp.secret)
    return clients.request(
        "oidc.discover", issuer=live.url, clientId=rp.id, redirectUri=rp.redirect_uri, **auth
    )


def sign_in(
    clients: NodeClients, browser: Browser, rp_id: str, scope: str = SCOPES
) -> dict[str, Any]:
    """An authorization through the browser, then openid-client's callback and code grant."""
    started = clients.request("oidc.authorize", rp=rp_id, scope=scope)
    back = browser.authorize(started["url"])
    assert query_of(back)["iss"] == browser.live.url
    return clients.request("oidc.callback", rp=rp_id, url=back)


def test_discovery_matches_the_issuer(
    live: LiveKeyfob, rp_app: CallbackApp, node_clients: NodeClients
) -> None:
    rp = register(live, rp_app)
    metadata = discover(node_clients, live, rp)["metadata"]
    assert metadata["issuer"] == live.url
    assert metadata["authorization_endpoint"] == f"{live.url}/oidc/authorize"
    assert metadata["token_endpoint"] == f"{live.url}/oidc/token"
    assert metadata["end_session_endpoint"] == f"{live.url}/oidc/logout"


def test_code_flow_refresh_revoke_introspect_and_logout(
    live: LiveKeyfob, rp_app: CallbackApp, node_clients: NodeClients, browser: Browser
) -> None:
    rp = register(live, rp_app)
    handle = discover(node_clients, live, rp)["rp"]
    signed = sign_in(node_clients, browser, handle)
    tokens, claims = signed["tokens"], signed["claims"]
    assert claims["iss"] == live.url
    assert claims["aud"] == rp.id
    assert "sid" in claims
    assert "auth_time" in claims
    assert {"access_token", "refresh_token", "id_token"} <= tokens.keys()
    assert browser.signed_in

    info = node_clients.request(
        "oidc.userinfo", rp=handle, accessToken=tokens["access_token"], subject=claims["sub"]
    )["userinfo"]
    assert info["sub"] == claims["sub"]
    assert info["preferred_username"].startswith("0x")

    seen = node_clients.request("oidc.introspect", rp=handle, token=tokens["access_token"])
    assert seen["introspection"]["active"] is True
    assert seen["introspection"]["client_id"] == rp.id
    assert seen["introspection"]["sub"] == claims["sub"]

    refreshed = node_clients.request(
        "oidc.refresh", rp=handle, refreshToken=tokens["refresh_token"]
    )
    new = refreshed["tokens"]
    assert new["refresh_token"] != tokens["refresh_token"]
    assert refreshed["claims"]["sub"] == claims["sub"]
    with pytest.raises(NodeClientError, match="invalid_grant"):  # rotated: the old one is dead
        node_clients.request("oidc.refresh", rp=handle, refreshToken=tokens["refresh_token"])

    # Reusing a refresh token revoked the whole grant (RFC 9700 4.14.2): sign in again.
    again = sign_in(node_clients, browser, handle)["tokens"]
    node_clients.request("oidc.revoke", rp=handle, token=again["access_token"])
    with pytest.raises(NodeClientError, match="invalid_token"):
        node_clients.request("oidc.userinfo", rp=handle, accessToken=again["access_token"])
    gone = node_clients.request("oidc.introspect", rp=handle, token=again["access_token"])
    assert gone["introspection"] == {"active": False}

    node_clients.request(
        "oidc.revoke", rp=handle, token=again["refresh_token"], hint="refresh_token"
    )
    with pytest.raises(NodeClientError, match="invalid_grant"):
        node_clients.request("oidc.refresh", rp=handle, refreshToken=again["refresh_token"])

    last = sign_in(node_clients, browser, handle)
    end = node_clients.request(
        "oidc.endSession",
        rp=handle,
        idTokenHint=last["tokens"]["id_token"],
        postLogoutRedirectUri=rp.post_logout_uri,
        state="bye-1",
    )["url"]
    response = browser.follow(end)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{rp.post_logout_uri}&state=bye-1"
    assert not browser.signed_in
    with pytest.raises(
        NodeClientError, match="invalid_token"
    ):  # logging out revoked the session's grants
        node_clients.request("oidc.userinfo", rp=handle, accessToken=last["tokens"]["access_token"])


def test_client_secret_post(
    live: LiveKeyfob, rp_app: CallbackApp, node_clients: NodeClients, browser: Browser
) -> None:
    rp = register(live, rp_app, auth_method="client_secret_post")
    handle = discover(node_clients, live, rp, authMethod="client_secret_post")["rp"]
    tokens = sign_in(node_clients, browser, handle)["tokens"]
    refreshed = node_clients.request(
        "oidc.refresh", rp=handle, refreshToken=tokens["refresh_token"]
    )
    assert refreshed["tokens"]["access_token"] != tokens["access_token"]
    basic = discover(node_clients, live, rp)["rp"]  # not the method it registered
    with pytest.raises(NodeClientError, match="invalid_client"):
        node_clients.request(
            "oidc.refresh", rp=basic, refreshToken=refreshed["tokens"]["refresh_token"]
        )


def test_public_client_with_pkce(
    live: LiveKeyfob, rp_app: CallbackApp, node_clients: NodeClients, browser: Browser
) -> None:
    rp = register(live, rp_app, public=True)
    handle = discover(node_clients, live, rp, authMethod="none", clientSecret=None)["rp"]
    signed = sign_in(node_clients, browser, handle, scope="openid profile")
    assert signed["claims"]["aud"] == rp.id
    assert "refresh_token" not in signed["tokens"]
    # Without PKCE a public client is turned away at the authorization endpoint.
    bare = node_clients.request("oidc.authorize", rp=handle, pkce=False)
    back = query_of(browser.authorize(bare["url"]))
    assert back["error"] == "invalid_request"
    assert back["state"] == bare["state"]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_private_key_jwt(
    live: LiveKeyfob,
    rp_app: CallbackApp,
    node_clients: NodeClients,
    browser: Browser,
    alg: str,
) -> None:
    key = node_clients.request("oidc.makeKey", alg=alg)
    jwks = json.dumps({"keys": [key["jwk"]]})
    rp = register(live, rp_app, auth_method="private_key_jwt", jwks=jwks)
    handle = discover(
        node_clients, live, rp, authMethod="private_key_jwt", keyId=key["keyId"], clientSecret=None
    )["rp"]
    tokens = sign_in(node_clients, browser, handle)["tokens"]
    refreshed = node_clients.request(
        "oidc.refresh", rp=handle, refreshToken=tokens["refresh_token"]
    )
    assert refreshed["claims"]["aud"] == rp.id
    other = node_clients.request("oidc.makeKey", alg=alg)  # a key the client never registered
    wrong = discover(
        node_clients,
        live,
        rp,
        authMethod="private_key_jwt",
        keyId=other["keyId"],
        clientSecret=None,
    )["rp"]
    with pytest.raises(NodeClientError, match="invalid_client"):
        node_clients.request(
            "oidc.refresh", rp=wrong, refreshToken=refreshed["tokens"]["refresh_token"]
        )
