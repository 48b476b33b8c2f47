"""``POST /account/recovery-codes`` and the account page's Recovery section: a new set shown
once, only with a step-up grant of this session, CSRF and Origin checked, audited."""

from __future__ import annotations

import json
import re

import pytest

from keyfob.server.account.recovery_codes import STEP_UP_FIRST
from keyfob.server.account.step_up import COOKIE
from tests.server.account.granted import give_step_up
from tests.server.account.holder import Browser, signed_in
from tests.server.conftest import Server

CODE = re.compile(r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>")
PATH = "/account/recovery-codes"


def codes_in(html: str) -> list[str]:
    return CODE.findall(html)


async def _status(browser: Browser) -> str:
    page = (await browser.page()).text
    found = re.search(r'<p id="recovery-status">(.*?)</p>', page, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1))


async def test_the_section_says_there_are_no_codes_yet(server: Server) -> None:
    browser = await signed_in(server)
    assert await _status(browser) == "No recovery codes yet."
    page = (await browser.page()).text
    assert f'action="{PATH}"' in page
    assert 'id="recovered"' not in page


async def test_with_a_step_up_a_new_set_is_shown_once(server: Server) -> None:
    browser = await signed_in(server)
    await give_step_up(browser)
    shown = await browser.post(PATH)
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    codes = codes_in(shown.text)
    assert len(codes) == len(set(codes)) == 10
    assert browser.user.id in shown.text  # the account id, to keep with the codes
    assert (await _status(browser)).startswith("10 of 10 recovery codes left, generated ")
    assert not codes_in((await browser.page()).text)  # the page never shows them again
    [event] = await server.runtime.store.audit_events(event="recovery_codes_generated")
    assert (event.user_id, json.loads(event.detail)) == (browser.user.id, {"count": 10})

    again = codes_in((await browser.post(PATH)).text)
    assert set(again).isdisjoint(codes)
    assert len(await server.runtime.store.audit_events(event="recovery_codes_generated")) == 2


@pytest.mark.parametrize(
    ("grant", "csrf", "headers", "status"),
    [
        (None, "page", {}, 403),
        ("other-session", "page", {}, 403),
        ("forged", "page", {}, 403),
        ("mine", None, {}, 403),
        ("mine", "0" * 64, {}, 403),
        ("mine", "page", {"origin": "https://evil.example"}, 403),
        ("mine", "page", {"sec-fetch-site": "cross-site"}, 403),
    ],
    ids=[
        "no-step-up",
        "grant-of-another-session",
        "forged-grant",
        "no-csrf",
        "wrong-csrf",
        "other-origin",
        "cross-site",
    ],
)
async def test_refusals_change_nothing(
    server: Server, grant: str | None, csrf: str | None, headers: dict[str, str], status: int
) -> None:
    browser = await signed_in(server)
    if grant == "mine":
        await give_step_up(browser)
    elif grant == "other-session":
        other = await signed_in(server, "0x" + "ab" * 20)
        browser.client.cookies.set(COOKIE, await give_step_up(other), path="/account")
    elif grant == "forged":
        browser.client.cookies.set(COOKIE, "e30.e30.AAAA", path="/account")
    refused = await browser.post(PATH, csrf=csrf, headers=headers)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert "Your account" in refused.text  # the account page again, the message on it
    assert not codes_in(refused.text)
    if grant != "mine":
        assert STEP_UP_FIRST in refused.text
        assert 'id="error--account-recovery-codes"' in refused.text
    assert await _status(browser) == "No recovery codes yet."
    assert await server.runtime.store.audit_events(event="recovery_codes_generated") == []


async def test_signed_out_the_form_goes_to_the_sign_in_page(server: Server) -> None:
    response = await server.client.post(PATH, data={"csrf": "x"})
    assert (response.status_code, response.headers["location"]) == (303, "/account/login")
