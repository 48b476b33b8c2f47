"""Issue 7, "account takeover with an app's token": the reproduction, then step-up itself.

The reproduction: a victim (an admin) signs in with a real viem signature; an attacker who got
hold of the victim's *app* access token replays it to link the attacker's wallet, then signs in
to ``/admin`` with that wallet. Before account tokens and step-up the link succeeded and the
attacker's wallet opened the admin panel as the victim; now it fails at the first step (and the
account token alone, without a step-up, fails too).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import jwt
import pytest

from keyfob.core.signin_message import parse_sign_in_message
from keyfob.core.step_up import STEP_UP_REQUEST_ID, issue_step_up_grant
from keyfob.core.tokens import hash_refresh_token
from keyfob.server.services.sso import PLAIN_COOKIE
from keyfob.server.services.step_up import PASSKEY_PURPOSE
from tests.node_clients import NodeClients
from tests.server.api.test_passkeys import (
    AUTH_CHALLENGE,
    CREDENTIAL_ID,
    assert_error,
    assertion_of,
    audit_rows,
    issue,
    registered,
    sign_in_vector,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import (
    ETH_KEY,
    account,
    bearer,
    eth_address,
    eth_signed,
    login,
    nonce,
    signed_in,
    wallet_step_up,
    wallet_step_up_body,
)

ATTACKER_KEY = "0x" + "a7" * 32
OTHER_KEY = "0x" + "5d" * 32


async def link(server: Server, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    """``POST /auth/methods/wallet``."""
    return await server.post("/auth/methods/wallet", body, headers=headers)


async def admin_page_with_wallet(server: Server, clients: NodeClients, key: str) -> int:
    """Sign in at ``/admin/login`` with the wallet of ``key`` (a fresh client, so a fresh
    cookie jar); the status ``/admin/users`` (an admin page) then answers."""
    body = await eth_signed(server, clients, key)
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(server.client.base_url)) as c:
        signed = await c.post("/admin/login/wallet", json=body)
        assert signed.status_code == 200, signed.text
        return (await c.get("/admin/users", follow_redirects=False)).status_code


async def make_admin(server: Server, user_id: str) -> None:
    assert await server.runtime.store.set_roles(user_id, ("admin",))


# --- the reproduction ----------------------------------------------------------------------


async def test_a_replayed_app_token_cannot_link_a_wallet_or_reach_the_admin_panel(
    server: Server, node_clients: NodeClients
) -> None:
    victim = await signed_in(server, node_clients)
    await make_admin(server, victim["user"]["id"])
    attacker_wallet = await eth_signed(server, node_clients, ATTACKER_KEY)
    # 1. The app's access token (what every app receives) is refused at the first step.
    replayed = await link(server, bearer(victim["accessToken"]), attacker_wallet)
    assert_error(replayed, 401, "invalid_token")
    assert "account token" in replayed.json()["message"]
    # 2. Even the account token, without a fresh proof from the victim's own wallet, is not enough.
    stolen_account = await link(server, account(victim), attacker_wallet)
    assert_error(stolen_account, 403, "step_up_required")
    for path in ("/auth/step-up/options", "/auth/step-up/verify"):
        response = await server.post(path, {}, headers=bearer(victim["accessToken"]))
        assert_error(response, 401, "invalid_token")
    user = await server.runtime.store.get_user(victim["user"]["id"])
    assert user is not None
    assert [i.address for i in user.identities] == [eth_address(node_clients)]
    # 3. The attacker's wallet signs in to an account of its own, which is no admin's.
    assert await admin_page_with_wallet(server, node_clients, ATTACKER_KEY) == 403
    # After the victim logs out, the replayed token is refused all the same.
    assert (await server.post("/auth/logout", headers=account(victim))).status_code == 204
    again = await link(server, bearer(victim["accessToken"]), attacker_wallet)
    assert_error(again, 401, "invalid_token")


async def test_with_a_step_up_the_admin_links_a_wallet_that_then_opens_the_panel(
    server: Server, node_clients: NodeClients
) -> None:
    """The same steps, made by the admin with a step-up: they work, so the refusals above are
    the step-up's and not a broken flow."""
    admin = await signed_in(server, node_clients)
    await make_admin(server, admin["user"]["id"])
    grant = await wallet_step_up(server, node_clients, admin)
    body = await eth_signed(server, node_clients, OTHER_KEY)
    linked = await link(server, account(admin, grant), body)
    assert linked.status_code == 200, linked.text
    assert await admin_page_with_wallet(server, node_clients, OTHER_KEY) == 200
    [row] = await audit_rows(server, "step_up")
    assert row["user_id"] == admin["user"]["id"]
    assert '"method":"ethereum"' in row["detail"]


# --- positive: passkey and wallet step-ups --------------------------------------------------


async def test_a_passkey_step_up_links_and_unlinks_a_wallet(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        tokens = await registered(server)
        user_id = tokens["user"]["id"]
        options = await server.post("/auth/step-up/options", {}, headers=account(tokens))
        assert options.status_code == 200, options.text
        assert options.json()["method"] == "passkey"
        allowed = options.json()["options"]["allowCredentials"]
        assert [c["id"] for c in allowed] == [CREDENTIAL_ID]
        # The capture answers its own challenge, stored as these options store theirs.
        await issue(server, AUTH_CHALLENGE, PASSKEY_PURPOSE, user_id=user_id)
        body = {"credential": assertion_of(user_id)}
        verified = await server.post("/auth/step-up/verify", body, headers=account(tokens))
        assert verified.status_code == 200, verified.text
        grant = verified.json()
        assert (grant["method"], grant["expiresIn"]) == ("passkey", 300)
        [passkey] = await server.runtime.store.passkeys_of_user(user_id)
        assert passkey.sign_count == 2  # moved on with the challenge spent
        headers = account(tokens, grant["stepUpToken"])
        wallet = await link(server, headers, await eth_signed(server, node_clients))
        assert wallet.status_code == 200, wallet.text
        added = next(i for i in wallet.json()["identities"] if i["chain"] == "ethereum")
        removed = await server.client.delete(f"/auth/methods/{added['id']}", headers=headers)
        assert removed.status_code == 204, removed.text


async def test_a_wallet_step_up_adds_a_passkey_options_and_removes_nothing_without_it(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    bare = await server.post("/auth/passkey/register/options", {}, headers=account(tokens))
    assert_error(bare, 403, "step_up_required")
    grant = await wallet_step_up(server, node_clients, tokens)
    headers = account(tokens, grant)
    options = await server.post("/auth/passkey/register/options", {}, headers=headers)
    assert options.status_code == 200, options.text
    [wallet] = tokens["user"]["identities"]
    gone = await server.client.delete(f"/auth/methods/{wallet['id']}", headers=account(tokens))
    assert_error(gone, 403, "step_up_required")


# --- negative: grants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "garbage",
        "expired",
        "other session",
        "other user",
        "other key",
        "account token as grant",
    ],
)
async def test_a_bad_grant_is_step_up_required(
    server: Server, node_clients: NodeClients, case: str
) -> None:
    tokens = await signed_in(server, node_clients)
    grant: str | None = await wallet_step_up(server, node_clients, tokens)
    if case == "missing":
        grant = None
    elif case == "garbage":
        grant = "not-a-grant"
    elif case == "expired":
        server.clock.advance(301)  # the account token (900 s) is still good
    elif case == "other session":
        second = await signed_in(server, node_clients)
        grant = await wallet_step_up(server, node_clients, second)
    elif case == "other user":
        other = await signed_in(server, node_clients, OTHER_KEY)
        grant = await wallet_step_up(server, node_clients, other, OTHER_KEY)
    elif case == "other key":
        runtime = server.runtime
        grant = issue_step_up_grant(
            key=runtime.account_token_key,  # a real keyfob key, but not the step-up one
            issuer=runtime.settings.issuer,
            audience=runtime.settings.account_audience,
            subject=tokens["user"]["id"],
            session_id=_sid(tokens),
            method="ethereum",
            now=runtime.now(),
            ttl=300,
        )
    elif case == "account token as grant":
        grant = tokens["accountToken"]
    body = await eth_signed(server, node_clients, ATTACKER_KEY)
    assert_error(await link(server, account(tokens, grant), body), 403, "step_up_required")
    user = await server.runtime.store.get_user(tokens["user"]["id"])
    assert user is not None
    assert len(user.identities) == 1


def _sid(tokens: dict[str, Any]) -> str:
    sid = jwt.decode(tokens["accountToken"], options={"verify_signature": False})["sid"]
    assert isinstance(sid, str)
    return sid


# --- negative: proofs ----------------------------------------------------------------------


async def verify(server: Server, tokens: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
    return await server.post("/auth/step-up/verify", body, headers=account(tokens))


async def test_a_wallet_of_another_account_proves_nothing(
    server: Server, node_clients: NodeClients
) -> None:
    mine = await signed_in(server, node_clients)
    theirs = await signed_in(server, node_clients, OTHER_KEY)
    options = await server.post(
        "/auth/step-up/options",
        {"chain": "ethereum", "address": eth_address(node_clients, OTHER_KEY)},
        headers=account(mine),
    )
    assert_error(options, 401, "invalid_credential")
    # Their own step-up message, signed by their wallet, posted with my account token.
    body = await wallet_step_up_body(server, node_clients, theirs, OTHER_KEY)
    assert_error(await verify(server, mine, body), 401, "invalid_credential")
    # It was not spent by the refusal: it still confirms for its owner.
    assert (await verify(server, theirs, body)).status_code == 200
    [row] = await audit_rows(server, "step_up_failed")
    assert row["user_id"] == mine["user"]["id"]


async def test_a_step_up_proof_is_spent_once(server: Server, node_clients: NodeClients) -> None:
    tokens = await signed_in(server, node_clients)
    body = await wallet_step_up_body(server, node_clients, tokens)
    assert (await verify(server, tokens, body)).status_code == 200
    assert_error(await verify(server, tokens, body), 401, "invalid_challenge")


async def test_a_login_message_is_no_step_up_and_a_step_up_message_no_login(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    # A sign-in message (from /auth/nonce), signed by the account's own wallet.
    login_body = await eth_signed(server, node_clients)
    assert_error(await verify(server, tokens, login_body), 401, "invalid_challenge")
    # The same, its Request ID rewritten to the step-up one: its nonce is a login nonce.
    issued = await nonce(server, "ethereum", address=eth_address(node_clients))
    parsed = parse_sign_in_message(issued["message"], chain="ethereum")
    text = dataclasses.replace(parsed, request_id=STEP_UP_REQUEST_ID).to_text()
    forged = {"chain": "ethereum", "message": text}
    forged["signature"] = node_clients.viem_sign(ETH_KEY, text).signature
    assert_error(await verify(server, tokens, forged), 401, "invalid_challenge")
    # And a step-up message signs no one in, anywhere.
    step_up = await wallet_step_up_body(server, node_clients, tokens)
    assert_error(await login(server, step_up), 401, "invalid_nonce")
    assert_error(await server.post("/admin/login/wallet", step_up), 401, "invalid_nonce")
    grant = await wallet_step_up(server, node_clients, tokens)
    assert_error(await link(server, account(tokens, grant), step_up), 401, "invalid_nonce")
    # ...and is still good for what it was made for.
    assert (await verify(server, tokens, step_up)).status_code == 200


async def test_passkey_proofs_must_be_this_accounts_and_made_for_a_step_up(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        owner = await registered(server)
        owner_id = owner["user"]["id"]
        wallet_user = await signed_in(server, node_clients)
        wallet_id = wallet_user["user"]["id"]
        credential = {"credential": assertion_of(owner_id)}
        # Another account's passkey, over a step-up challenge issued to the wallet user.
        await issue(server, AUTH_CHALLENGE, PASSKEY_PURPOSE, user_id=wallet_id)
        assert_error(await verify(server, wallet_user, credential), 401, "invalid_credential")
        await server.runtime.store.consume_passkey_challenge(AUTH_CHALLENGE, now=server.clock())
        # The owner's passkey over a login challenge, or a step-up challenge of someone else.
        for purpose, user_id in (("login", owner_id), (PASSKEY_PURPOSE, wallet_id)):
            await issue(server, AUTH_CHALLENGE, purpose, user_id=user_id)
            assert_error(await verify(server, owner, credential), 401, "invalid_challenge")
            await server.runtime.store.consume_passkey_challenge(AUTH_CHALLENGE, now=server.clock())
        # A step-up challenge does not sign in.
        await issue(server, AUTH_CHALLENGE, PASSKEY_PURPOSE, user_id=owner_id)
        signed = await sign_in_vector(server, assertion_of(owner_id))
        assert_error(signed, 401, "invalid_challenge")
        [passkey] = await server.runtime.store.passkeys_of_user(owner_id)
        assert passkey.sign_count == 1  # nothing above moved it
        # The right one passes, once.
        assert (await verify(server, owner, credential)).status_code == 200
        assert_error(await verify(server, owner, credential), 401, "invalid_challenge")


async def test_step_up_options_name_a_method_of_the_account(
    server: Server, node_clients: NodeClients
) -> None:
    tokens = await signed_in(server, node_clients)
    no_passkey = await server.post("/auth/step-up/options", {}, headers=account(tokens))
    assert_error(no_passkey, 422, "invalid_request")
    no_address = await server.post(
        "/auth/step-up/options", {"chain": "ethereum"}, headers=account(tokens)
    )
    assert_error(no_address, 422, "invalid_request")
    options = await server.post(
        "/auth/step-up/options",
        {"chain": "ethereum", "address": eth_address(node_clients).lower()},
        headers=account(tokens),
    )
    assert options.status_code == 200, options.text
    message = parse_sign_in_message(options.json()["message"], chain="ethereum")
    assert (message.request_id, message.address) == (STEP_UP_REQUEST_ID, eth_address(node_clients))


# --- amr of the hosted pages' SSO sessions ---------------------------------------------------


async def _sso_amr(server: Server, response: httpx.Response) -> tuple[str, ...]:
    assert response.status_code == 200, response.text
    cookie = response.cookies[PLAIN_COOKIE]
    record = await server.runtime.store.get_sso_session(
        hash_refresh_token(cookie), now=server.runtime.now()
    )
    assert record is not None
    return record.amr


async def test_sso_sessions_carry_rfc_8176_amr(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    """Wallets ``swk``; the captured passkey (not backup eligible, user verified) ``hwk user``.
    Before, the pages wrote ``("ethereum",)`` and ``("passkey",)``."""
    async with vector_server(make_server) as server:
        wallet = await server.post("/admin/login/wallet", await eth_signed(server, node_clients))
        assert await _sso_amr(server, wallet) == ("pop",)
        user_id = (await registered(server))["user"]["id"]
        await issue(server, AUTH_CHALLENGE, "login")
        body = {"credential": assertion_of(user_id)}
        passkey = await server.post("/admin/login/passkey", body)
        assert await _sso_amr(server, passkey) == ("hwk", "user")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/step-up/options", {"chain": "ethereum", "address": "0x\x00"}),
        ("/auth/step-up/verify", {"chain": "ethereum", "message": "a\x00b", "signature": "0x00"}),
        ("/auth/step-up/verify", {"chain": "ethereum", "message": "hi", "signature": "0x\x00"}),
        (
            "/auth/step-up/verify",
            {"chain": "nimiq", "message": "hi", "signature": "00", "publicKey": "\x1b[31m"},
        ),
    ],
)
async def test_step_up_bodies_refuse_control_characters(
    server: Server, node_clients: NodeClients, path: str, body: dict[str, Any]
) -> None:
    """Step-up bodies are typed like the sign-in bodies: control characters are 422 at the
    edge (before, they went on to the parsers and the store)."""
    tokens = await signed_in(server, node_clients)
    assert_error(await server.post(path, body, headers=account(tokens)), 422, "invalid_request")
