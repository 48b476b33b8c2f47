"""``/account/login``: the account page's sign-in (passkey or a wallet of an account)."""

from __future__ import annotations

from keyfob.server.services.sso import PLAIN_COOKIE
from tests.node_clients import NodeClients
from tests.server.api.test_passkeys import (
    AUTH_CHALLENGE,
    assertion_of,
    issue,
    registered,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import ETH_KEY, eth_address, nonce


async def _signed(server: Server, clients: NodeClients) -> dict[str, str]:
    issued = await nonce(server, "ethereum", address=eth_address(clients))
    signature = clients.viem_sign(ETH_KEY, issued["message"]).signature
    return {"chain": "ethereum", "message": issued["message"], "signature": signature}


async def test_the_sign_in_page(server: Server) -> None:
    page = await server.client.get("/account/login")
    assert page.status_code == 200
    assert "Sign in to manage your account" in page.text
    assert 'data-wallet-url="/account/login/wallet"' in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_a_wallet_of_an_account_signs_in_and_continues_to_the_account_page(
    server: Server, node_clients: NodeClients
) -> None:
    user, _ = await server.runtime.store.sign_in_identity(
        kind="ethereum", address=eth_address(node_clients), public_key=None, now=server.clock()
    )
    signed = await server.post("/account/login/wallet", await _signed(server, node_clients))
    assert signed.status_code == 200, signed.text
    assert signed.json() == {"next": "/account"}
    assert server.client.cookies.get(PLAIN_COOKIE)
    page = await server.client.get("/account")
    assert page.status_code == 200
    assert user.id in page.text


async def test_an_unknown_wallet_makes_no_account(
    server: Server, node_clients: NodeClients
) -> None:
    """Before /account there was no such page; a wallet sign-in elsewhere (/admin/login)
    makes an account. The account page manages accounts and makes none."""
    refused = await server.post("/account/login/wallet", await _signed(server, node_clients))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "registration_disabled"
    assert "No keyfob account signs in with this wallet" in refused.json()["message"]
    assert "set-cookie" not in refused.headers
    assert await server.runtime.store.count_users() == 0


async def test_a_cross_site_post_is_refused(server: Server, node_clients: NodeClients) -> None:
    body = await _signed(server, node_clients)
    refused = await server.post(
        "/account/login/wallet", body, headers={"origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    options = await server.post(
        "/account/login/passkey/options", {}, headers={"sec-fetch-site": "cross-site"}
    )
    assert options.status_code == 403


async def test_a_passkey_signs_in(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        options = await server.post("/account/login/passkey/options", {})
        assert options.status_code == 200
        assert "allowCredentials" not in options.json() or not options.json()["allowCredentials"]
        await issue(server, AUTH_CHALLENGE, "login")
        signed = await server.post("/account/login/passkey", {"credential": assertion_of(user_id)})
        assert signed.status_code == 200, signed.text
        assert signed.json() == {"next": "/account"}
        assert (await server.client.get("/account")).status_code == 200
