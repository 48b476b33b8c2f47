"""The account page's changes, each after a step-up: add a passkey (the Chromium capture),
name it, link a wallet (viem), remove a method and with it the sessions it opened."""

from __future__ import annotations

import json
import re
import uuid

from keyfob.core.encoding import b64url_encode
from tests.node_clients import NodeClients
from tests.server.account.confirming import confirm, wallet_holder
from tests.server.api.test_passkeys import (
    CREDENTIAL_ID,
    REG_CHALLENGE,
    REGISTRATION,
    audit_rows,
    issue,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import eth_address, eth_signed, signed_in

OTHER_KEY = "0x" + "5d" * 32
THIRD_KEY = "0x" + "6e" * 32


def detail(row: object) -> dict[str, object]:
    """An audit row's detail, parsed."""
    found: dict[str, object] = json.loads(row["detail"])  # type: ignore[index]
    return found


async def test_add_a_passkey_name_it_and_remove_the_wallet(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        store = server.runtime.store
        browser = await wallet_holder(server, node_clients)
        user_id = browser.user.id
        [wallet] = browser.user.identities
        api = await signed_in(server, node_clients)  # an API session the wallet opened
        assert api["user"]["id"] == user_id
        await confirm(browser, node_clients)

        options = await browser.call("/account/passkeys/options", {})
        assert options.status_code == 200, options.text
        assert options.headers["cache-control"] == "no-store"
        assert options.json()["user"]["id"] == b64url_encode(uuid.UUID(user_id).bytes)
        assert options.json()["excludeCredentials"] == []
        # The browser would answer that challenge; the capture answers its own, issued alike.
        await issue(server, REG_CHALLENGE, "register", user_id=user_id)
        body = {"credential": REGISTRATION, "name": "  Work laptop "}
        added = await browser.call("/account/passkeys/verify", body)
        assert added.status_code == 200, added.text
        assert added.json() == {"next": "/account?done=passkey_added"}
        [passkey] = await store.passkeys_of_user(user_id)
        assert (passkey.identity.address, passkey.name) == (CREDENTIAL_ID, "Work laptop")
        [row] = await audit_rows(server, "passkey_added")
        assert row["user_id"] == user_id
        page = await browser.client.get(added.json()["next"])
        assert "Your new passkey is ready" in page.text
        assert "Work laptop" in page.text

        rename = f"/account/passkeys/{passkey.identity.id}/rename"
        renamed = await browser.post(rename, {"name": "Phone"})
        assert (renamed.status_code, renamed.headers["location"]) == (
            303,
            "/account?done=passkey_renamed",
        )
        after = await store.get_passkey(CREDENTIAL_ID)
        assert after is not None
        assert after.name == "Phone"
        [row] = await audit_rows(server, "passkey_renamed")
        assert detail(row) == {"identity": passkey.identity.id, "name": "Phone"}

        removed = await browser.post(f"/account/methods/{wallet.id}/remove")
        assert (removed.status_code, removed.headers["location"]) == (
            303,
            "/account?done=method_removed",
        )
        user = await store.get_user(user_id)
        assert user is not None
        assert [i.kind for i in user.identities] == ["passkey"]
        [row] = await audit_rows(server, "sign_in_method_removed")
        assert row["user_id"] == user_id
        assert detail(row) == {
            "identity": wallet.id,
            "kind": "ethereum",
            "address": wallet.address,
        }
        # The session the wallet opened ended with it.
        refresh = await server.post("/auth/refresh", {"refreshToken": api["refreshToken"]})
        assert refresh.status_code == 401, refresh.text
        page = await browser.client.get("/account?done=method_removed")
        assert "the sessions it opened have ended" in page.text
        assert "Your only way to sign in" in page.text
        assert "/remove" not in page.text  # no remove form for the last method
        assert "No wallet on this account." in page.text


async def test_a_passkey_added_without_a_name_is_called_passkey(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        browser = await wallet_holder(server, node_clients)
        await confirm(browser, node_clients)
        await issue(server, REG_CHALLENGE, "register", user_id=browser.user.id)
        body = {"credential": REGISTRATION, "name": "   "}
        assert (await browser.call("/account/passkeys/verify", body)).status_code == 200
        [passkey] = await server.runtime.store.passkeys_of_user(browser.user.id)
        assert passkey.name is None
        page = await browser.page()
        assert re.search(r'<p class="method-name">Passkey</p>', page.text)
        # A second registration options call excludes the passkey the account has.
        options = await browser.call("/account/passkeys/options", {})
        assert [c["id"] for c in options.json()["excludeCredentials"]] == [CREDENTIAL_ID]


async def test_link_a_wallet(server: Server, node_clients: NodeClients) -> None:
    browser = await wallet_holder(server, node_clients)
    await confirm(browser, node_clients)
    linked = await browser.call(
        "/account/wallets", await eth_signed(server, node_clients, OTHER_KEY)
    )
    assert linked.status_code == 200, linked.text
    assert linked.json() == {"next": "/account?done=wallet_linked"}
    user = await server.runtime.store.get_user(browser.user.id)
    assert user is not None
    addresses = {i.address for i in user.identities}
    assert addresses == {eth_address(node_clients), eth_address(node_clients, OTHER_KEY)}
    [row] = await audit_rows(server, "wallet_added")
    assert detail(row)["address"] == eth_address(node_clients, OTHER_KEY)
    page = await browser.client.get(linked.json()["next"])
    assert "The wallet was linked" in page.text
    assert eth_address(node_clients, OTHER_KEY) in page.text
    # The linked wallet signs in to this account now.
    assert (await signed_in(server, node_clients, OTHER_KEY))["user"]["id"] == user.id


async def test_a_wallet_of_another_account_is_a_conflict(
    server: Server, node_clients: NodeClients
) -> None:
    browser = await wallet_holder(server, node_clients)
    theirs = await wallet_holder(server, node_clients, THIRD_KEY)
    await confirm(browser, node_clients)
    body = await eth_signed(server, node_clients, THIRD_KEY)
    refused = await browser.call("/account/wallets", body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "conflict"
    user = await server.runtime.store.get_user(theirs.user.id)
    assert user is not None
    assert len(user.identities) == 1


async def test_the_page_offers_the_changes(server: Server, node_clients: NodeClients) -> None:
    """The forms and buttons the page script works with, without inline script."""
    browser = await wallet_holder(server, node_clients)
    page = (await browser.page()).text
    for needle in (
        'id="add-passkey"',
        'id="link-ethereum"',
        'id="step-up"',
        'data-step-up-chain="ethereum"',
        '<script src="/static/account.js" defer></script>',
        '<script src="/static/wallet.js" defer></script>',
    ):
        assert needle in page
    assert "<script>" not in page
    assert 'id="step-up-passkey"' not in page  # no passkey to confirm with
    script = await browser.client.get("/static/account.js")
    assert script.status_code == 200
    assert "X-CSRF-Token" in script.text
