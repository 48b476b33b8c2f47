"""RP-Initiated Logout, Back-Channel Logout, revocation and introspection over ASGI."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from keyfob.core.keys import verification_key_from_jwk
from keyfob.core.oidc_backchannel import verify_logout_token
from tests.browser_fixtures import CallbackApp
from tests.node_clients import NodeClients
from tests.server.conftest import PUBLIC_URL, Server
from tests.server.oidc.flow import (
    LOGGED_OUT,
    Rp,
    authorize_url,
    callback_params,
    code_for,
    exchange,
    register,
)

pytestmark = pytest.mark.usefixtures("node_clients")


@pytest.fixture
def routing() -> str:
    return "fastpath"


async def _signed_in(
    server: Server, clients: NodeClients, **oidc: Any
) -> tuple[Rp, dict[str, Any]]:
    rp = await register(server, **oidc)
    tokens = (await exchange(server, rp, (await code_for(server, clients, rp))["code"])).json()
    return rp, tokens


async def test_logout_with_a_hint_signs_out_and_notifies_the_back_channel(
    server: Server, node_clients: NodeClients, callback_app: CallbackApp
) -> None:
    rp, tokens = await _signed_in(
        server, node_clients, backchannel_logout_uri=callback_app.callback_url
    )
    query = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": LOGGED_OUT,
        "state": "s9",
    }
    response = await server.client.get("/oidc/logout?" + urlencode(query))
    assert response.status_code == 303
    assert response.headers["location"] == LOGGED_OUT + "?state=s9"
    silent = await server.client.get(authorize_url(rp, prompt="none"))
    assert callback_params(silent)["error"] == "login_required"
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401  # the session's grants are revoked
    for _ in range(200):  # the delivery runs in the background
        if callback_app.received:
            break
        await asyncio.sleep(0.02)
    assert callback_app.received, "no back-channel logout arrived"
    posted = callback_app.received[0]
    assert posted.method == "POST"
    jwks = (await server.client.get("/.well-known/jwks.json")).json()["keys"]
    keys = {jwk["kid"]: verification_key_from_jwk(jwk) for jwk in jwks}
    logout = verify_logout_token(
        posted.form["logout_token"],
        keys,
        expected_issuer=PUBLIC_URL,
        expected_audience=rp.id,
        now=server.clock(),
    )
    hint = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert logout.sid == hint["sid"]


async def test_logout_without_a_hint_asks_first(server: Server, node_clients: NodeClients) -> None:
    rp, _ = await _signed_in(server, node_clients)
    asked = await server.client.get("/oidc/logout")
    assert asked.status_code == 200
    assert "Sign out?" in asked.text
    form_token = asked.text.split('name="form_token" value="')[1].split('"')[0]
    forged = await server.client.post("/oidc/logout/confirm", data={"form_token": "0" * 64})
    assert forged.status_code == 403
    done = await server.client.post("/oidc/logout/confirm", data={"form_token": form_token})
    assert done.status_code == 200
    assert "signed out" in done.text
    silent = await server.client.get(authorize_url(rp, prompt="none"))
    assert callback_params(silent)["error"] == "login_required"


async def test_logout_refuses_unregistered_post_logout_uris(
    server: Server, node_clients: NodeClients
) -> None:
    _, tokens = await _signed_in(server, node_clients)
    for uri in ("https://evil.example.com/", LOGGED_OUT + "/x"):
        query = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": uri}
        refused = await server.client.get("/oidc/logout?" + urlencode(query))
        assert refused.status_code == 400
        assert "location" not in refused.headers
    bad_hint = await server.client.get("/oidc/logout?id_token_hint=abc.def.ghi")
    assert bad_hint.status_code in (400, 401)


async def test_revocation_and_introspection(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server)
    other = await register(server, name="Other")
    code = (await code_for(server, node_clients, rp, scope="openid offline_access"))["code"]
    tokens = (await exchange(server, rp, code)).json()
    seen = await server.client.post(
        "/oidc/introspect", data={"token": tokens["access_token"]}, headers=rp.basic()
    )
    assert seen.json()["active"] is True
    assert seen.json()["client_id"] == rp.id
    refresh_seen = await server.client.post(
        "/oidc/introspect", data={"token": tokens["refresh_token"]}, headers=rp.basic()
    )
    assert refresh_seen.json()["active"] is True
    foreign = await server.client.post(
        "/oidc/introspect", data={"token": tokens["access_token"]}, headers=other.basic()
    )
    assert foreign.json() == {"active": False}
    not_theirs = await server.client.post(
        "/oidc/revoke", data={"token": tokens["refresh_token"]}, headers=other.basic()
    )
    assert not_theirs.status_code == 200
    still = await server.client.post(
        "/oidc/introspect", data={"token": tokens["access_token"]}, headers=rp.basic()
    )
    assert still.json()["active"] is True
    revoked = await server.client.post(
        "/oidc/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=rp.basic(),
    )
    assert revoked.status_code == 200
    gone = await server.client.post(
        "/oidc/introspect", data={"token": tokens["access_token"]}, headers=rp.basic()
    )
    assert gone.json() == {"active": False}
    unknown = await server.client.post("/oidc/revoke", data={"token": "nope"}, headers=rp.basic())
    assert unknown.status_code == 200
    unauthenticated = await server.client.post("/oidc/revoke", data={"token": "nope"})
    assert unauthenticated.status_code == 401


async def test_the_hosted_logout_ends_the_oidc_grants_too(
    server: Server, node_clients: NodeClients
) -> None:
    rp, tokens = await _signed_in(server, node_clients)
    await server.client.get(f"/auth/logout/{rp.id}")
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401


async def test_the_admin_panel_sign_out_ends_the_oidc_grants_too(
    server: Server, node_clients: NodeClients, callback_app: CallbackApp
) -> None:
    """The same SSO session signs in to the panel and to apps: signing out of one ends both."""
    rp, tokens = await _signed_in(
        server, node_clients, backchannel_logout_uri=callback_app.callback_url
    )
    hint = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert await server.runtime.store.set_roles(hint["sub"], ("admin",))
    page = await server.client.get("/admin/settings")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    response = await server.client.post(
        "/admin/sign-out", data={"csrf": found.group(1)}, headers={"origin": PUBLIC_URL}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")
    info = await server.client.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401
    for _ in range(200):  # the delivery runs in the background
        if callback_app.received:
            break
        await asyncio.sleep(0.02)
    assert callback_app.received, "no back-channel logout arrived"
    logout = jwt.decode(
        callback_app.received[0].form["logout_token"], options={"verify_signature": False}
    )
    assert (logout["aud"], logout["sid"]) == (rp.id, hint["sid"])
