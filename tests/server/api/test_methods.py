"""Account linking: a wallet user (viem) adds the captured passkey and a second wallet, lists
and removes sign-in methods."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from keyfob.core.encoding import b64url_encode
from tests.node_clients import NodeClients
from tests.server.api.test_passkeys import (
    AUTH_CHALLENGE,
    CREDENTIAL_ID,
    REG_CHALLENGE,
    assert_error,
    assertion_of,
    audit_rows,
    issue,
    register_vector,
    registered,
    sign_in_vector,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import (
    account,
    bearer,
    eth_address,
    eth_signed,
    login,
    signed_in,
    wallet_step_up,
)

OTHER_KEY = "0x" + "5d" * 32
THIRD_KEY = "0x" + "6e" * 32


async def methods(server: Server, tokens: dict[str, Any]) -> list[dict[str, Any]]:
    """``GET /auth/methods`` with the account token of ``tokens``, insisting on success."""
    response = await server.client.get("/auth/methods", headers=account(tokens))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def add_passkey(server: Server, tokens: dict[str, Any], grant: str) -> dict[str, Any]:
    """Add the captured passkey to the account of ``tokens`` (account token and step-up grant
    on both steps)."""
    headers = account(tokens, grant)
    response = await server.post("/auth/passkey/register/options", {}, headers=headers)
    assert response.status_code == 200, response.text
    user_id = tokens["user"]["id"]
    assert response.json()["user"]["id"] == b64url_encode(uuid.UUID(user_id).bytes)
    # The browser would answer that challenge; the capture answers its own, issued alike.
    await issue(server, REG_CHALLENGE, "register", user_id=user_id)
    verified = await register_vector(server, **headers)
    assert verified.status_code == 200, verified.text
    body: dict[str, Any] = verified.json()
    return body


async def add_wallet(
    server: Server, tokens: dict[str, Any], body: dict[str, Any], grant: str | None
) -> Any:
    """``POST /auth/methods/wallet`` with the account token (and ``grant``) of ``tokens``."""
    return await server.post("/auth/methods/wallet", body, headers=account(tokens, grant))


async def delete_method(
    server: Server, tokens: dict[str, Any], identity_id: str, grant: str | None
) -> Any:
    """``DELETE /auth/methods/{id}`` with the account token (and ``grant``) of ``tokens``."""
    path = f"/auth/methods/{identity_id}"
    return await server.client.delete(path, headers=account(tokens, grant))


async def test_a_wallet_user_adds_a_passkey(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        tokens = await signed_in(server, node_clients)
        user_id = tokens["user"]["id"]
        grant = await wallet_step_up(server, node_clients, tokens)
        added = await add_passkey(server, tokens, grant)
        assert added["user"]["id"] == user_id
        kinds = sorted((i["chain"], i["address"]) for i in added["user"]["identities"])
        assert kinds == [("ethereum", eth_address(node_clients)), ("passkey", CREDENTIAL_ID)]
        assert [row["user_id"] for row in await audit_rows(server, "passkey_added")] == [user_id]
        listed = await methods(server, tokens)
        assert sorted(i["chain"] for i in listed) == ["ethereum", "passkey"]
        # The account's passkeys are excluded from the next registration.
        headers = account(tokens, grant)
        again = await server.post("/auth/passkey/register/options", {}, headers=headers)
        assert [c["id"] for c in again.json()["excludeCredentials"]] == [CREDENTIAL_ID]
        # And the passkey signs in to the wallet's account.
        await issue(server, AUTH_CHALLENGE, "login")
        response = await sign_in_vector(server, assertion_of(user_id))
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == user_id


async def test_a_bearer_registration_needs_a_challenge_for_that_account(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        tokens = await signed_in(server, node_clients)
        headers = account(tokens, await wallet_step_up(server, node_clients, tokens))
        for owner in (str(uuid.uuid4()), None):  # another account's; a new account's
            await issue(server, REG_CHALLENGE, "register", user_id=owner)
            assert_error(await register_vector(server, **headers), 401, "invalid_challenge")
            await server.runtime.store.consume_passkey_challenge(
                REG_CHALLENGE, now=server.runtime.now()
            )
        assert await server.runtime.store.get_passkey(CREDENTIAL_ID) is None


async def test_a_bad_bearer_is_refused_not_ignored(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        headers = bearer("not-a-token")
        response = await server.post("/auth/passkey/register/options", {}, headers=headers)
        assert_error(response, 401, "invalid_token")
        await issue(server, REG_CHALLENGE, "register")
        assert_error(await register_vector(server, **headers), 401, "invalid_token")


async def test_a_second_wallet_is_added(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, tokens)
        body = await eth_signed(server, node_clients, OTHER_KEY)
        response = await add_wallet(server, tokens, body, grant)
        assert response.status_code == 200, response.text
        user = response.json()
        assert user["id"] == tokens["user"]["id"]
        addresses = sorted(i["address"] for i in user["identities"])
        mine = [eth_address(node_clients), eth_address(node_clients, OTHER_KEY)]
        assert addresses == sorted(mine)
        # Its message is spent.
        assert_error(await add_wallet(server, tokens, body, grant), 401, "invalid_nonce")
        # The new wallet signs in to the same account.
        other = await signed_in(server, node_clients, OTHER_KEY)
        assert other["user"]["id"] == tokens["user"]["id"]
        [row] = await audit_rows(server, "wallet_added")
        assert row["user_id"] == tokens["user"]["id"]


async def test_adding_a_wallet_already_mine_changes_nothing(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, tokens)
        body = await eth_signed(server, node_clients)
        response = await add_wallet(server, tokens, body, grant)
        assert response.status_code == 200, response.text
        assert len(response.json()["identities"]) == 1


async def test_a_wallet_of_another_account_conflicts(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        mine = await signed_in(server, node_clients)
        theirs = await signed_in(server, node_clients, OTHER_KEY)
        grant = await wallet_step_up(server, node_clients, mine)
        body = await eth_signed(server, node_clients, OTHER_KEY)
        assert_error(await add_wallet(server, mine, body, grant), 409, "conflict")
        assert len(await methods(server, mine)) == 1
        assert len(await methods(server, theirs)) == 1
        # Refused whole: the nonce was not spent, so the message still signs its owner in.
        response = await login(server, body)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == theirs["user"]["id"]


async def test_a_wallet_needs_a_valid_signature(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, tokens)
        body = await eth_signed(server, node_clients, OTHER_KEY)
        forged = {
            **body,
            "signature": (await eth_signed(server, node_clients, THIRD_KEY))["signature"],
        }
        response = await add_wallet(server, tokens, forged, grant)
        assert response.status_code == 401, response.text
        assert len(await methods(server, tokens)) == 1


@pytest.mark.parametrize(
    "body", [{}, {"chain": "bitcoin", "message": "x", "signature": "y"}, {"chain": "ethereum"}]
)
async def test_malformed_wallet_bodies_are_refused(
    make_server: ServerFactory, node_clients: NodeClients, body: dict[str, Any]
) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, tokens)
        assert_error(await add_wallet(server, tokens, body, grant), 422, "invalid_request")


async def test_removing_methods(make_server: ServerFactory, node_clients: NodeClients) -> None:
    async with make_server() as server:
        tokens = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, tokens)
        assert (
            await add_wallet(
                server, tokens, await eth_signed(server, node_clients, OTHER_KEY), grant
            )
        ).status_code == 200
        other = next(
            i for i in await methods(server, tokens) if i["address"] != eth_address(node_clients)
        )
        response = await delete_method(server, tokens, other["id"], grant)
        assert response.status_code == 204, response.text
        [left] = await methods(server, tokens)
        assert left["address"] == eth_address(node_clients)
        [row] = await audit_rows(server, "sign_in_method_removed")
        assert row["user_id"] == tokens["user"]["id"]
        # The last one stays.
        response = await delete_method(server, tokens, left["id"], grant)
        assert_error(response, 409, "conflict")
        assert len(await methods(server, tokens)) == 1
        # The removed wallet now signs in to an account of its own.
        again = await signed_in(server, node_clients, OTHER_KEY)
        assert again["user"]["id"] != tokens["user"]["id"]


async def test_removing_the_method_of_this_session_ends_it(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        tokens = await signed_in(server, node_clients)
        added = await add_passkey(
            server, tokens, await wallet_step_up(server, node_clients, tokens)
        )
        wallet = next(i for i in added["user"]["identities"] if i["chain"] == "ethereum")
        # The passkey's own session confirms with the wallet it removes.
        grant = await wallet_step_up(server, node_clients, added)
        response = await delete_method(server, added, wallet["id"], grant)
        assert response.status_code == 204, response.text
        [left] = await methods(server, added)
        assert left["chain"] == "passkey"
        response = await server.client.get("/auth/methods", headers=account(tokens))
        assert_error(response, 401, "token_revoked")


async def test_removing_someone_elses_method_is_not_found(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with make_server() as server:
        mine = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, mine)
        assert (
            await add_wallet(server, mine, await eth_signed(server, node_clients, THIRD_KEY), grant)
        ).status_code == 200
        theirs = await signed_in(server, node_clients, OTHER_KEY)
        [their_wallet] = theirs["user"]["identities"]
        for identity_id in (their_wallet["id"], str(uuid.uuid4()), "not-an-id"):
            response = await delete_method(server, mine, identity_id, grant)
            assert_error(response, 404, "not_found")
        assert len(await methods(server, theirs)) == 1
        assert len(await methods(server, mine)) == 2


async def test_methods_need_a_bearer_token(make_server: ServerFactory) -> None:
    async with make_server() as server:
        assert_error(await server.client.get("/auth/methods"), 401, "invalid_token")
        body = {"chain": "ethereum", "message": "x", "signature": "y"}
        assert_error(await server.post("/auth/methods/wallet", body), 401, "invalid_token")
        response = await server.client.delete(f"/auth/methods/{uuid.uuid4()}")
        assert_error(response, 401, "invalid_token")


async def test_a_new_passkey_account_lists_its_passkey(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        tokens = await registered(server)
        [identity] = await methods(server, tokens)
        assert (identity["chain"], identity["address"]) == ("passkey", CREDENTIAL_ID)
        assert identity["publicKey"] is not None


async def test_adding_a_passkey_needs_the_bearer_on_verify_too(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        tokens = await signed_in(server, node_clients)
        headers = account(tokens, await wallet_step_up(server, node_clients, tokens))
        response = await server.post("/auth/passkey/register/options", {}, headers=headers)
        assert response.status_code == 200, response.text
        assert (await server.post("/auth/logout", {}, headers=headers)).status_code < 300
        # The options outlive the session that asked for them; its challenge must not.
        await issue(server, REG_CHALLENGE, "register", user_id=tokens["user"]["id"])
        assert_error(await register_vector(server), 401, "invalid_challenge")
        assert await server.runtime.store.get_passkey(CREDENTIAL_ID) is None
        user = await server.runtime.store.get_user(tokens["user"]["id"])
        assert user is not None
        assert len(user.identities) == 1
