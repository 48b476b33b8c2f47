"""What the account page's changes refuse, and that a refusal changes nothing: no fresh proof
(no grant, an expired one, another session's, another user's, the JSON API's), a forged
request (CSRF token, Origin), the last method, another user's method, bad names, bad
credentials. Forms answer the page again with the sentence beside the form; script calls a
JSON error. Never a 500."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest

from keyfob.core.step_up import issue_step_up_grant
from keyfob.core.tokens import hash_refresh_token
from keyfob.server.account.calls import CONFIRM_FIRST
from keyfob.server.account.step_up import audience, session_id
from keyfob.server.services.sso import SsoContext
from keyfob.store.records import PasskeyRecord
from tests.node_clients import NodeClients
from tests.server.account.confirming import confirm, grant_of, set_grant, wallet_holder
from tests.server.account.holder import Browser, open_browser
from tests.server.api.test_passkeys import (
    REG_CHALLENGE,
    REGISTRATION,
    assert_error,
    issue,
    vector_server,
)
from tests.server.conftest import Server, ServerFactory
from tests.server.signin import eth_signed, signed_in, wallet_step_up
from tests.store.test_passkey_names import register

OTHER_KEY = "0x" + "5d" * 32


@pytest.fixture
def routing() -> str:
    """FastAPI's routes only: the fast path serves none of the account page's (it answers
    the JSON API's sign-in calls the same either way, see tests/server/api)."""
    return "fastapi"


@dataclass
class Holder:
    """A signed-in browser whose account has a wallet and a passkey (a stored one)."""

    browser: Browser
    passkey: PasskeyRecord

    @property
    def server(self) -> Server:
        return self.browser.server

    async def methods(self) -> list[tuple[str, str, str | None]]:
        """The account's methods now: (kind, address, passkey name)."""
        store = self.server.runtime.store
        user = await store.get_user(self.browser.user.id)
        assert user is not None
        names = {p.identity.id: p.name for p in await store.passkeys_of_user(user.id)}
        return sorted((i.kind, i.address, names.get(i.id)) for i in user.identities)


async def holder(server: Server, clients: NodeClients) -> Holder:
    """A wallet user (the wallet of ETH_KEY) with a passkey named "Laptop", signed in."""
    browser = await wallet_holder(server, clients)
    passkey = await register(
        server.runtime.store, "cred-laptop", name="Laptop", user_id=browser.user.id
    )
    return Holder(browser, passkey)


class Change(Protocol):
    """A change sent as the page would send it (``kw``: the holder helpers' csrf and headers)."""

    def __call__(self, h: Holder, clients: NodeClients, **kw: Any) -> Awaitable[httpx.Response]:
        """Send the change."""
        ...


async def rename(h: Holder, clients: NodeClients, **kw: Any) -> httpx.Response:
    path = f"/account/passkeys/{h.passkey.identity.id}/rename"
    return await h.browser.post(path, {"name": "Stolen"}, **kw)


async def remove(h: Holder, clients: NodeClients, **kw: Any) -> httpx.Response:
    return await h.browser.post(f"/account/methods/{h.passkey.identity.id}/remove", **kw)


async def passkey_options(h: Holder, clients: NodeClients, **kw: Any) -> httpx.Response:
    return await h.browser.call("/account/passkeys/options", {}, **kw)


async def passkey_verify(h: Holder, clients: NodeClients, **kw: Any) -> httpx.Response:
    body = {"credential": REGISTRATION}
    return await h.browser.call("/account/passkeys/verify", body, **kw)


async def link(h: Holder, clients: NodeClients, **kw: Any) -> httpx.Response:
    body = await eth_signed(h.server, clients, OTHER_KEY)
    return await h.browser.call("/account/wallets", body, **kw)


CHANGES: dict[str, Change] = {
    "rename": rename,
    "remove": remove,
    "passkey options": passkey_options,
    "passkey verify": passkey_verify,
    "link wallet": link,
}
FORMS = {"rename", "remove"}


def error_beside(page: str, action: str) -> str | None:
    """The error shown beside the form posting to ``action``, if any."""
    found = re.search(rf'id="error-{re.escape(action.replace("/", "-"))}">([^<]*)</p>', page)
    return None if found is None else found.group(1)


async def assert_refused(
    h: Holder, name: str, response: httpx.Response, status: int, code: str
) -> None:
    """A form's refusal is the page again with the sentence beside it; a call's a JSON error."""
    before = sorted([("ethereum", h.browser.user.identities[0].address, None)])
    if name in FORMS:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "Your account" in response.text
    else:
        assert_error(response, status, code)
    methods = await h.methods()
    assert ("passkey", "cred-laptop", "Laptop") in methods
    assert [m for m in methods if m[0] != "passkey"] == before


# --- no fresh proof ---------------------------------------------------------------------


@pytest.mark.parametrize("name", CHANGES)
async def test_every_change_needs_a_step_up(
    server: Server, node_clients: NodeClients, name: str
) -> None:
    h = await holder(server, node_clients)
    response = await CHANGES[name](h, node_clients)
    await assert_refused(h, name, response, 403, "step_up_required")
    if name in FORMS:
        action = str(response.request.url.path)
        assert error_beside(response.text, action) == CONFIRM_FIRST
    else:
        assert response.json()["message"] == CONFIRM_FIRST


async def _grant_for(h: Holder, clients: NodeClients, case: str) -> str | None:
    server, browser = h.server, h.browser
    if case == "garbage":
        return "not-a-grant"
    if case == "expired":
        await confirm(browser, clients)
        server.clock.advance(server.runtime.settings.step_up_ttl + 1)
        return grant_of(browser)
    if case == "other session":  # the same user, another browser
        other = await open_browser(server, browser.user)
        await confirm(other, clients)
        return grant_of(other)
    if case == "other user":
        theirs = await wallet_holder(server, clients, OTHER_KEY)
        await confirm(theirs, clients, OTHER_KEY)
        return grant_of(theirs)
    if case == "json api grant":  # a real grant of the API, for an API session of this user
        return await wallet_step_up(server, clients, await signed_in(server, clients))
    assert case == "json api audience"  # this session and user, but the API's audience
    token_hash = hash_refresh_token(browser.token)
    record = await server.runtime.store.get_sso_session(token_hash, now=server.clock())
    assert record is not None
    sso = SsoContext(session=record, user=browser.user, token_hash=token_hash)
    runtime = server.runtime
    assert audience(runtime) != runtime.settings.account_audience
    return issue_step_up_grant(
        key=runtime.step_up_key,
        issuer=runtime.settings.issuer,
        audience=runtime.settings.account_audience,
        subject=browser.user.id,
        session_id=session_id(sso),
        method="ethereum",
        now=runtime.now(),
        ttl=runtime.settings.step_up_ttl,
    )


@pytest.mark.parametrize("name", ["remove", "link wallet"])
@pytest.mark.parametrize(
    "case",
    ["garbage", "expired", "other session", "other user", "json api grant", "json api audience"],
)
async def test_a_grant_not_this_sessions_is_refused(
    server: Server, node_clients: NodeClients, name: str, case: str
) -> None:
    h = await holder(server, node_clients)
    set_grant(h.browser, await _grant_for(h, node_clients, case))
    response = await CHANGES[name](h, node_clients)
    await assert_refused(h, name, response, 403, "step_up_required")


async def test_a_confirmed_session_passes_the_same_checks(
    server: Server, node_clients: NodeClients
) -> None:
    """The refusals above are the grant's: with this session's grant the same changes pass."""
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    assert (await rename(h, node_clients)).status_code == 303
    assert (await link(h, node_clients)).status_code == 200
    assert (await remove(h, node_clients)).status_code == 303
    assert ("passkey", "cred-laptop", "Stolen") not in await h.methods()
    assert len(await h.methods()) == 2  # the first wallet and the linked one


# --- forged requests ----------------------------------------------------------------------


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        (None, {}),
        ("0" * 64, {}),
        ("page", {"origin": "https://evil.example"}),
        ("page", {"sec-fetch-site": "cross-site"}),
    ],
    ids=["no-csrf", "wrong-csrf", "other-origin", "cross-site"],
)
async def test_forged_changes_are_refused(
    server: Server,
    node_clients: NodeClients,
    name: str,
    csrf: str | None,
    headers: dict[str, str],
) -> None:
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    response = await CHANGES[name](h, node_clients, csrf=csrf, headers=headers)
    await assert_refused(h, name, response, 403, "csrf_failed")


async def test_a_csrf_token_of_another_session_is_refused(
    server: Server, node_clients: NodeClients
) -> None:
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    other = await wallet_holder(server, node_clients, OTHER_KEY)
    response = await remove(h, node_clients, csrf=await other.csrf())
    await assert_refused(h, "remove", response, 403, "csrf_failed")


# --- what no grant makes possible ---------------------------------------------------------


async def test_the_last_method_stays(server: Server, node_clients: NodeClients) -> None:
    browser = await wallet_holder(server, node_clients)
    await confirm(browser, node_clients)
    [wallet] = browser.user.identities
    action = f"/account/methods/{wallet.id}/remove"
    response = await browser.post(action)
    assert response.status_code == 409, response.text
    assert "last way to sign in" in (error_beside(response.text, action) or "")
    user = await server.runtime.store.get_user(browser.user.id)
    assert user is not None
    assert user.identities == browser.user.identities


@pytest.mark.parametrize("whose", ["another user's", "unknown"])
async def test_another_users_method_is_not_found(
    server: Server, node_clients: NodeClients, whose: str
) -> None:
    h = await holder(server, node_clients)
    theirs = await wallet_holder(server, node_clients, OTHER_KEY)
    await confirm(h.browser, node_clients)
    target = theirs.user.identities[0].id if whose != "unknown" else str(uuid.uuid4())
    for action in (f"/account/methods/{target}/remove", f"/account/passkeys/{target}/rename"):
        response = await h.browser.post(action, {"name": "Mine now"})
        assert response.status_code == 404, response.text
        assert error_beside(response.text, action) is None  # no such form on the page
        assert "You have no" in (error_beside(response.text, "/account") or "")
    kept = await server.runtime.store.get_user(theirs.user.id)
    assert kept is not None
    assert kept.identities == theirs.user.identities


async def test_a_wallet_is_no_passkey_to_rename(server: Server, node_clients: NodeClients) -> None:
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    wallet = h.browser.user.identities[0]
    response = await h.browser.post(f"/account/passkeys/{wallet.id}/rename", {"name": "W"})
    await assert_refused(h, "rename", response, 404, "not_found")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "Give the passkey a name."),
        ("", "Give the passkey a name."),
        ("   ", "Give the passkey a name."),
        ("x" * 65, "at most 64 characters"),
        ("bad\x00name", "control characters"),
        ("bad\u0085name", "control characters"),
    ],
    ids=["missing", "empty", "blank", "too-long", "nul", "c1-control"],
)
async def test_bad_names_are_refused_beside_the_form(
    server: Server, node_clients: NodeClients, name: str | None, message: str
) -> None:
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    action = f"/account/passkeys/{h.passkey.identity.id}/rename"
    response = await h.browser.post(action, {} if name is None else {"name": name})
    await assert_refused(h, "rename", response, 422, "invalid_request")
    assert message in (error_beside(response.text, action) or "")
    # The name field is tied to the error beside it and takes the focus.
    error_id = "error-" + action.replace("/", "-")
    field = f'id="name-{h.passkey.identity.id}" name="name" maxlength="64" required'
    marked = f' aria-invalid="true" aria-describedby="{error_id}" autofocus'
    assert field + marked in response.text


async def test_a_name_of_64_characters_is_kept(server: Server, node_clients: NodeClients) -> None:
    h = await holder(server, node_clients)
    await confirm(h.browser, node_clients)
    action = f"/account/passkeys/{h.passkey.identity.id}/rename"
    assert (await h.browser.post(action, {"name": "ü" * 64})).status_code == 303
    assert ("passkey", "cred-laptop", "ü" * 64) in await h.methods()


# --- bad credentials ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("empty credential", 401, "invalid_credential"),
        ("not an object", 422, "invalid_request"),
        ("no challenge issued", 401, "invalid_challenge"),
        ("challenge of another account", 401, "invalid_challenge"),
        ("login challenge", 401, "invalid_challenge"),
        ("name too long", 422, "invalid_request"),
        ("unknown field", 422, "invalid_request"),
    ],
)
async def test_a_bad_passkey_is_not_added(
    make_server: ServerFactory, node_clients: NodeClients, case: str, status: int, code: str
) -> None:
    async with vector_server(make_server) as server:
        browser = await wallet_holder(server, node_clients)
        await confirm(browser, node_clients)
        body: Any = {"credential": REGISTRATION}
        if case == "empty credential":
            body = {"credential": {}}
        elif case == "not an object":
            body = {"credential": "passkey"}
        elif case == "challenge of another account":
            await issue(server, REG_CHALLENGE, "register", user_id=str(uuid.uuid4()))
        elif case == "login challenge":
            await issue(server, REG_CHALLENGE, "login", user_id=browser.user.id)
        elif case == "name too long":
            await issue(server, REG_CHALLENGE, "register", user_id=browser.user.id)
            body["name"] = "x" * 65
        elif case == "unknown field":
            body["userId"] = browser.user.id
        response = await browser.call("/account/passkeys/verify", body)
        assert_error(response, status, code)
        assert await server.runtime.store.passkeys_of_user(browser.user.id) == []


@pytest.mark.parametrize(
    "case", ["forged signature", "step-up message", "spent nonce", "malformed", "not json"]
)
async def test_a_bad_wallet_is_not_linked(
    server: Server, node_clients: NodeClients, case: str
) -> None:
    browser = await wallet_holder(server, node_clients)
    await confirm(browser, node_clients)
    body: Any = await eth_signed(server, node_clients, OTHER_KEY)
    kw: dict[str, Any] = {}
    expected = (401, "invalid_signature")
    if case == "forged signature":
        body["signature"] = (await eth_signed(server, node_clients))["signature"]
        expected = (401, "invalid_signature")
    elif case == "step-up message":
        options = await browser.call(
            "/account/step-up/options",
            {"chain": "ethereum", "address": browser.user.identities[0].address},
        )
        message = options.json()["message"]
        body = {"chain": "ethereum", "message": message}
        body["signature"] = node_clients.viem_sign("0x" + "4c" * 32, message).signature
        expected = (401, "invalid_nonce")
    elif case == "spent nonce":
        assert (await server.post("/auth/login", body)).status_code == 200
        expected = (401, "invalid_nonce")
    elif case == "malformed":
        body = {"chain": "bitcoin", "message": "x", "signature": "y"}
        expected = (422, "invalid_request")
    else:
        kw = {"content": b"chain=ethereum", "headers": {"content-type": "application/json"}}
        expected = (422, "invalid_request")
    response = await browser.call("/account/wallets", None if kw else body, **kw)
    assert_error(response, *expected)
    user = await server.runtime.store.get_user(browser.user.id)
    assert user is not None
    assert len(user.identities) == 1
