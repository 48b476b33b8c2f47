"""The account page in German: signed in with a passkey, a wallet, sessions, a connected app
and recovery codes; the recovery pages with an error; the recovery codes page. Any text the
German page shows exactly as the English one (names, addresses, dates and codes aside) is a
string nobody marked (see page_text.py)."""

from __future__ import annotations

import re

import httpx

from tests.node_clients import NodeClients
from tests.server.account.confirming import confirm, wallet_holder
from tests.server.account.test_connected_apps import _signed_in_at
from tests.server.api.test_passkeys import REG_CHALLENGE, REGISTRATION, issue, vector_server
from tests.server.conftest import Server, ServerFactory
from tests.server.oidc.flow import register
from tests.server.pages.page_text import untranslated, visible_texts
from tests.server.pages.test_translated_pages import DE, EN, script_strings

# Dates (ISO 8601, read alike in German), network areas (an address, its last part "x"), the
# test client's device name.
_SAME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC|[0-9a-f.:]+[.:]x|python-httpx [\d.]+")
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
#: The same in both languages: chain names, "Passkey" (German says Passkey), a path, the
#: recovery code field's placeholder.
NAMES = (
    "Passkeys",
    "Wallets",
    "Ethereum",
    "Work laptop",
    "Passkey",
    "/account/recover",
    "XXXX-XXXX-XXXX-XXXX",
)


def assert_german(english: str, german: str, *allowed: str) -> None:
    assert '<html lang="en">' in english
    assert '<html lang="de">' in german
    left = untranslated(english, german, (*NAMES, *allowed))
    assert {text for text in left if not _SAME.fullmatch(text)} == set()


async def both(client: httpx.AsyncClient, path: str, status: int = 200) -> tuple[str, str]:
    pages = []
    for headers in (EN, DE):
        response = await client.get(path, headers=headers)
        assert response.status_code == status, response.text
        pages.append(response.text)
    return pages[0], pages[1]


async def test_the_account_page_with_every_section_in_german(
    make_server: ServerFactory, node_clients: NodeClients
) -> None:
    async with vector_server(make_server) as server:
        browser = await wallet_holder(server, node_clients)
        await confirm(browser, node_clients)
        await issue(server, REG_CHALLENGE, "register", user_id=browser.user.id)
        body = {"credential": REGISTRATION, "name": "Work laptop"}
        added = await browser.call("/account/passkeys/verify", body)
        assert added.status_code == 200, added.text

        codes = await browser.post("/account/recovery-codes", headers=DE)
        assert codes.status_code == 200, codes.text
        assert "Ihre Wiederherstellungscodes" in visible_texts(codes.text)
        in_english = await browser.post("/account/recovery-codes", headers=EN)
        assert_german(in_english.text, codes.text)

        english, german = await both(browser.client, "/account?done=passkey_added")
        texts = visible_texts(german)
        assert "Ihr neuer Passkey ist bereit: Sie können sich jetzt damit anmelden." in texts
        assert "Anmeldemethoden" in texts
        assert "Sitzungen" in texts
        assert "Keine App ist mit diesem Konto verbunden." in texts
        assert any(text.startswith("von 10 Wiederherstellungscodes übrig") for text in texts), texts
        assert_german(english, german, browser.user.identities[0].address)
        strings = script_strings(german)
        assert strings is not None
        assert strings["Confirm it is you to make this change."] == (
            "Bestätigen Sie, dass Sie es sind, um diese Änderung vorzunehmen."
        )
        assert script_strings(english) is None

        # A refusal, in German, at the top of the page: another user's (here no) method.
        refused = await browser.post("/account/methods/no-such-id/remove", headers=DE)
        assert "Sie haben keine Anmeldemethode mit dieser ID." in visible_texts(refused.text)


async def test_a_connected_app_in_german(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, name="Demo App")
    browser, _ = await _signed_in_at(server, node_clients, rp)
    english, german = await both(browser.client, "/account")
    assert "Verbundene Apps" in visible_texts(german)
    assert "Noch keine Wiederherstellungscodes." in visible_texts(german)
    wallet = browser.user.identities[0].address
    scopes = "offline_access, openid, profile"
    assert_german(english, german, "Demo App", wallet, scopes)


async def test_the_recovery_pages_in_german(server: Server) -> None:
    english, german = await both(server.client, "/account/recover")
    assert "Ihr Konto wiederherstellen" in visible_texts(german)
    assert_german(english, german)
    form = {"identifier": "nobody", "code": "AAAA-BBBB-CCCC-DDDD"}
    pages = []
    for headers in (EN, DE):
        refused = await server.client.post(
            "/account/recover", data=form, headers={**headers, **SAME_ORIGIN}
        )
        assert refused.status_code == 401, refused.text
        pages.append(refused.text)
    assert "Dieser Wiederherstellungscode öffnet dieses Konto nicht" in pages[1]
    assert_german(pages[0], pages[1])

    english, german = await both(server.client, "/account/recover/link")
    assert_german(english, german)
    strings = script_strings(german)
    assert strings is not None
    assert "This link has no secret part (after #): open the whole link you were given." in strings
