"""``POST /account/step-up/options`` and ``/verify``: the account page's step-up ceremony, a
passkey's (the Chromium capture) or a wallet's (viem), its grant an HttpOnly cookie."""

from __future__ import annotations

from typing import Any

import pytest

from keyfob.server.account.step_up import COOKIE
from keyfob.server.services.step_up import PASSKEY_PURPOSE
from tests.node_clients import NodeClients
from tests.server.account.confirming import confirm, grant_of, step_up_body, wallet_holder
from tests.server.account.holder import open_browser
from tests.server.api.test_passkeys import (
    AUTH_CHALLENGE,
    assert_error,
    assertion_of,
    audit_rows,
    issue,
    registered,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import eth_address, eth_signed

OTHER_KEY = "0x" + "5d" * 32


async def test_a_wallet_confirms_and_the_grant_is_an_httponly_cookie(
    server: Server, node_clients: NodeClients
) -> None:
    browser = await wallet_holder(server, node_clients)
    page = await browser.page()
    assert 'data-step-up-left="0"' in page.text
    verified = await confirm(browser, node_clients)
    assert verified.json() == {"method": "ethereum", "expiresIn": 300}
    assert verified.headers["cache-control"] == "no-store"
    cookie = verified.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/account", "SameSite=strict", "Max-Age=300"):
        assert attribute in cookie
    grant = grant_of(browser)
    assert grant is not None
    assert grant not in verified.text  # the script never sees the grant
    page = await browser.page()
    assert 'data-step-up-left="0"' not in page.text
    [row] = await audit_rows(server, "step_up")
    assert row["user_id"] == browser.user.id
    assert '"method":"ethereum"' in row["detail"]


async def test_a_passkey_confirms(make_server: ServerFactory) -> None:
    async with vector_server(make_server) as server:
        user_id = (await registered(server))["user"]["id"]
        user = await server.runtime.store.get_user(user_id)
        assert user is not None
        browser = await open_browser(server, user, amr=("hwk", "user"))
        options = await browser.call("/account/step-up/options", {})
        assert options.status_code == 200, options.text
        assert options.json()["method"] == "passkey"
        await issue(server, AUTH_CHALLENGE, PASSKEY_PURPOSE, user_id=user_id)
        body = {"credential": assertion_of(user_id)}
        verified = await browser.call("/account/step-up/verify", body)
        assert verified.status_code == 200, verified.text
        assert verified.json()["method"] == "passkey"
        assert grant_of(browser) is not None
        again = await browser.call("/account/step-up/verify", body)
        assert_error(again, 401, "invalid_challenge")


@pytest.mark.parametrize(
    ("csrf", "headers", "status", "code"),
    [
        (None, {}, 403, "csrf_failed"),
        ("0" * 64, {}, 403, "csrf_failed"),
        ("page", {"origin": "https://evil.example"}, 403, "csrf_failed"),
        ("page", {"sec-fetch-site": "cross-site"}, 403, "csrf_failed"),
    ],
    ids=["no-csrf", "wrong-csrf", "other-origin", "cross-site"],
)
async def test_forged_calls_are_refused(
    server: Server,
    node_clients: NodeClients,
    csrf: str | None,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    browser = await wallet_holder(server, node_clients)
    body = await step_up_body(browser, node_clients)
    for path, sent in (("/account/step-up/options", {}), ("/account/step-up/verify", body)):
        response = await browser.call(path, sent, csrf=csrf, headers=headers)
        assert_error(response, status, code)
    assert grant_of(browser) is None
    assert (await browser.call("/account/step-up/verify", body)).status_code == 200  # unspent


async def test_without_a_session_the_calls_are_401(server: Server) -> None:
    for path in ("/account/step-up/options", "/account/step-up/verify"):
        response = await server.post(path, {}, headers={"origin": server.runtime.settings.origin})
        assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/account/step-up/options", [], 422, "invalid_request"),
        ("/account/step-up/options", {"chain": "bitcoin", "address": "x"}, 422, "invalid_request"),
        ("/account/step-up/options", {"chain": "ethereum"}, 422, "invalid_request"),
        (
            "/account/step-up/options",
            {"chain": "ethereum", "address": "0x\x00"},
            422,
            "invalid_request",
        ),
        ("/account/step-up/options", {}, 422, "invalid_request"),  # no passkey on the account
        ("/account/step-up/verify", {}, 422, "invalid_request"),
        ("/account/step-up/verify", {"credential": {}}, 401, "invalid_credential"),
        ("/account/step-up/verify", {"extra": 1}, 422, "invalid_request"),
    ],
)
async def test_bad_bodies_are_4xx(
    server: Server,
    node_clients: NodeClients,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    browser = await wallet_holder(server, node_clients)
    assert_error(await browser.call(path, body), status, code)


async def test_malformed_json_is_422(server: Server, node_clients: NodeClients) -> None:
    browser = await wallet_holder(server, node_clients)
    headers = {"content-type": "application/json"}
    response = await browser.call("/account/step-up/verify", None, headers=headers, content=b"{")
    assert_error(response, 422, "invalid_request")


async def test_proofs_must_be_this_accounts_and_for_a_step_up(
    server: Server, node_clients: NodeClients
) -> None:
    mine = await wallet_holder(server, node_clients)
    theirs = await wallet_holder(server, node_clients, OTHER_KEY)
    other_address = eth_address(node_clients, OTHER_KEY)
    options = await mine.call(
        "/account/step-up/options", {"chain": "ethereum", "address": other_address}
    )
    assert_error(options, 401, "invalid_credential")
    # Their step-up message, signed by their wallet, sent from my session.
    their_body = await step_up_body(theirs, node_clients, OTHER_KEY)
    assert_error(await mine.call("/account/step-up/verify", their_body), 401, "invalid_credential")
    # A sign-in message of my own wallet is no step-up proof.
    login = await eth_signed(server, node_clients)
    assert_error(await mine.call("/account/step-up/verify", login), 401, "invalid_challenge")
    assert grant_of(mine) is None
    failures = await audit_rows(server, "step_up_failed")
    assert {row["user_id"] for row in failures} == {mine.user.id}
