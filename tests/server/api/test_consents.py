"""Consent is remembered per user, client and scopes, and revocable by the user."""

from __future__ import annotations

import pytest

from tests.node_clients import NodeClients
from tests.server.conftest import Server
from tests.server.oidc.flow import authorize_url, callback_params, code_for, exchange, register
from tests.server.signin import signed_in

pytestmark = pytest.mark.usefixtures("node_clients")


@pytest.fixture
def routing() -> str:
    return "fastpath"


async def test_a_user_lists_and_revokes_consents(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, first_party=False)
    # Sign in through the JSON API first: the same wallet is the same account.
    account = (await signed_in(server, node_clients))["accountToken"]
    bearer = {"Authorization": f"Bearer {account}"}
    await server.runtime.store.grant_consent(
        (await server.client.get("/auth/me", headers=bearer)).json()["id"],
        rp.id,
        ("openid", "profile", "offline_access"),
        now=server.clock(),
    )
    back = await code_for(server, node_clients, rp, scope="openid offline_access")
    tokens = (await exchange(server, rp, back["code"])).json()
    listed = (await server.client.get("/auth/consents", headers=bearer)).json()
    assert [(c["clientId"], c["clientName"]) for c in listed] == [(rp.id, "Demo RP")]
    assert listed[0]["scopes"] == ["offline_access", "openid", "profile"]
    app_token = await server.client.get(
        "/auth/consents", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert app_token.status_code == 401  # an OIDC client's token is no account token
    gone = await server.client.delete(f"/auth/consents/{rp.id}", headers=bearer)
    assert gone.status_code == 204
    again = await server.client.delete(f"/auth/consents/{rp.id}", headers=bearer)
    assert again.status_code == 404
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    dead = await server.client.post("/oidc/token", data=refresh, headers=rp.basic())
    assert dead.json()["error"] == "invalid_grant"
    asked = await server.client.get(authorize_url(rp, prompt="none"))
    assert callback_params(asked)["error"] == "consent_required"
