"""Every hosted page in German: nothing left in English, ``<html lang>``, the scripts' catalog.

Each page is fetched twice, with ``Accept-Language: en`` and ``de``; any text the German page
shows exactly as the English one (but names, usernames and codes) is a string that escaped
``{% trans %}`` (see page_text.py). The OpenID Connect pages follow ``ui_locales``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from keyfob.server.pages.render import ENVIRONMENTS
from keyfob.server.services.clients import create_client
from keyfob.store.records import ClientRecord
from tests.node_clients import NodeClients
from tests.server.conftest import Server, ServerFactory
from tests.server.oidc.flow import authorize_url, register, sign_in_on_page
from tests.server.pages.page_text import untranslated, visible_texts
from tests.server.signin import eth_address, nonce

APP = "https://app.example.com/callback"
NAME = "Demo <App>"
EN, DE = {"Accept-Language": "en"}, {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Translation never reaches the store: SQLite only (the app migrates it at start)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}"


@pytest.fixture
def routing() -> str:
    return "fastpath"


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[Server]:
    async with make_server() as started:
        yield started


async def new_client(server: Server, **options: Any) -> ClientRecord:
    values: dict[str, Any] = {
        "name": NAME,
        "redirect_uris": [APP],
        "open_to_all": True,
        "registration_enabled": True,
    }
    values.update(options)
    client, _ = await create_client(server.runtime, **values)
    return client


async def both(server: Server, path: str, status: int = 200) -> tuple[str, str]:
    """``path`` in English and in German (both with ``status``)."""
    pages = []
    for headers in (EN, DE):
        response = await server.client.get(path, headers=headers)
        assert response.status_code == status, response.text
        pages.append(response.text)
    english, german = pages
    assert '<html lang="en">' in english
    assert '<html lang="de">' in german
    return english, german


def assert_translated(english: str, german: str, *allowed: str) -> None:
    assert untranslated(english, german, allowed) == set()
    assert english != german


async def sign_in(server: Server, clients: NodeClients, client: ClientRecord) -> None:
    issued = await nonce(server, "ethereum", address=eth_address(clients))
    signature = clients.viem_sign("0x" + "4c" * 32, issued["message"]).signature
    body = {"chain": "ethereum", "message": issued["message"], "signature": signature}
    target = {"redirectUri": APP, "state": "s"}
    signed = await server.post(f"/auth/login/{client.id}/wallet", {**body, **target})
    assert signed.status_code == 200, signed.text


def script_strings(page: str) -> dict[str, str] | None:
    found = re.search(
        r'<script type="application/json" id="keyfob-strings">(.*?)</script>', page, re.S
    )
    return None if found is None else dict(json.loads(found.group(1)))


async def test_the_login_page_in_german(server: Server) -> None:
    client = await new_client(server)
    english, german = await both(server, f"/auth/login/{client.id}?redirectUri={APP}")
    assert "<title>Bei Demo &lt;App&gt; anmelden · keyfob</title>" in german
    assert '<h1>Bei <span class="client">Demo &lt;App&gt;</span> anmelden</h1>' in german
    for text in (
        "Verwenden Sie einen Passkey auf diesem Gerät oder eine Wallet.",
        "Benutzername",
        "Mit einem Passkey anmelden",
        "Oder mit einer Wallet anmelden",
        "Noch kein Konto?",
        "Erstellen Sie eines mit einem Passkey",
    ):
        assert text in visible_texts(german)
    assert_translated(english, german, NAME)
    strings = script_strings(german)
    assert strings is not None
    assert strings["Waiting for your passkey…"] == "Warten auf Ihren Passkey…"
    assert (
        strings["There is no app with this client id."] == "Es gibt keine App mit dieser Client-ID."
    )
    assert script_strings(english) is None  # English pages carry no catalog


def test_the_json_catalog_is_escaped_for_html() -> None:
    """The catalog is data in the page: a translation cannot close its element."""
    page = ENVIRONMENTS["de"].from_string(
        '{% extends "base.html" %}{% block scripts %}<script src="/s.js"></script>{% endblock %}'
    )
    html = page.render(
        locale="de",
        product="keyfob",
        brand={"stylesheets": ()},
        script_strings={"x": "</script><script>alert(1)</script>"},
    )
    assert "<script>alert(1)" not in html
    assert script_strings(html) == {"x": "</script><script>alert(1)</script>"}


async def test_error_pages_translate_by_sentence_else_by_code(server: Server) -> None:
    client = await new_client(server, require_state=True)
    english, german = await both(server, f"/auth/login/{client.id}?redirectUri={APP}", 400)
    # The sentence names the app, so no catalog has it: the code's general sentence instead.
    assert "Demo &lt;App&gt; requires a state" in english
    assert "Diese App verlangt in ihren Anmeldeanfragen einen state." in visible_texts(german)
    assert_translated(english, german)
    english, german = await both(
        server, f"/auth/login/{client.id}?redirectUri=https://x.example/", 400
    )
    assert (
        "Die Weiterleitungs-URI in diesem Link ist für diese App nicht registriert, daher "
        "schickt keyfob Ihre Anmeldung nicht dorthin."
    ) in visible_texts(german)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/login",
        "/account/login",
        "/admin/enroll?token=abc",
        "/auth/login/no-such-client",  # an error page: 404
    ],
)
async def test_the_sign_in_pages_without_a_client_in_german(server: Server, path: str) -> None:
    status = 404 if "no-such-client" in path else 200
    english, german = await both(server, path, status)
    assert_translated(english, german)


async def test_registration_and_its_refusal_in_german(server: Server) -> None:
    client = await new_client(server)
    english, german = await both(server, f"/auth/registration/{client.id}?username=ann")
    assert "Konto mit einem Passkey erstellen" in visible_texts(german)
    assert_translated(english, german, NAME)
    closed = await new_client(server, registration_enabled=False)
    english, german = await both(server, f"/auth/registration/{closed.id}", 403)
    assert (
        "Demo <App> lässt hier keine neuen Konten zu; fragen Sie den Administrator der App."
        in visible_texts(german)
    )
    assert_translated(english, german)
    refused = await server.post(
        f"/auth/registration/{closed.id}/options", {}, headers={"Accept-Language": "de"}
    )
    # JSON errors stay English; the page translates them (here by their code).
    assert refused.json()["error"] == "registration_disabled"
    assert refused.json()["message"].startswith("Demo <App> does not let new accounts")
    strings = script_strings(german_page := (await both(server, f"/auth/login/{client.id}"))[1])
    assert strings is not None
    assert strings["error:registration_disabled"] == (
        "Diese App erlaubt hier keine Registrierung neuer Konten."
    )
    assert german_page


async def test_signed_in_pages_in_german(server: Server, node_clients: NodeClients) -> None:
    """The form post back to the app, the no-access page, the hosted "signed out" page."""
    posted = await new_client(server, token_delivery="form_post", require_state=True)
    await sign_in(server, node_clients, posted)
    english, german = await both(server, f"/auth/login/{posted.id}?redirectUri={APP}&state=s")
    assert "Sie sind angemeldet. Falls nichts passiert, fahren Sie hier fort:" in german
    assert_translated(english, german, NAME)
    closed = await new_client(server, open_to_all=False)
    english, german = await both(server, f"/auth/login/{closed.id}?redirectUri={APP}", 403)
    assert "Kein Zugriff" in visible_texts(german)
    assert_translated(english, german)
    english = (await server.client.get(f"/auth/logout/{posted.id}", headers=EN)).text
    german = (await server.client.get(f"/auth/logout/{posted.id}", headers=DE)).text
    assert "Sie sind abgemeldet. Kehren Sie zu Demo <App> zurück" in unescape(german)
    assert_translated(english, german)


async def test_oidc_pages_follow_ui_locales(server: Server, node_clients: NodeClients) -> None:
    rp = await register(server, name=NAME, first_party=False)
    asked = await server.client.get(authorize_url(rp, ui_locales="fr de"), headers=EN)
    login_url = asked.headers["location"]
    german = (await server.client.get(login_url, headers=EN)).text
    assert '<html lang="de">' in german  # ui_locales beats the browser's English
    english = (await server.client.get(authorize_url(rp), headers=EN)).headers["location"]
    english = (await server.client.get(english, headers=EN)).text
    assert_translated(english, german, NAME)

    consent = await sign_in_on_page(server, node_clients, login_url)
    assert consent.headers["location"].startswith("/oidc/consent?")
    german = (await server.client.get(consent.headers["location"], headers=EN)).text
    assert '<html lang="de">' in german  # still the interaction's ui_locales
    assert "Wissen, wer Sie sind (eine Kennung Ihres Kontos)" in visible_texts(german)
    plain = await server.client.get(authorize_url(rp), headers=EN)
    assert plain.headers["location"].startswith("/oidc/consent?")
    english = (await server.client.get(plain.headers["location"], headers=EN)).text
    assert_translated(english, german, NAME)

    english, german = await both(server, f"/oidc/logout?client_id={rp.id}")
    assert_translated(english, german, NAME)
    assert script_strings(german) is None  # no script on this page, so no catalog
    chosen = await server.client.get(f"/oidc/logout?client_id={rp.id}&ui_locales=de", headers=EN)
    assert '<html lang="de">' in chosen.text


async def test_discovery_lists_the_languages(server: Server) -> None:
    document = (await server.client.get("/.well-known/openid-configuration")).json()
    assert document["ui_locales_supported"] == ["en", "de"]


def test_a_string_nobody_marked_is_caught() -> None:
    """The scan that guards the pages can fail: a bare sentence, a bare alt, a bare title."""
    source = (
        '{% extends "base.html" %}{% block title %}Plain title{% endblock %}'
        "{% block content %}<h1>{% trans %}Sign in{% endtrans %}</h1>"
        '<p>Forgot to mark this.</p><img alt="A bare alt"><code>a_code</code>'
        "<p>{{ name }}</p>{% endblock %}"
    )
    pages = []
    for locale in ("en", "de"):
        template = ENVIRONMENTS[locale].from_string(source)
        context = {"locale": locale, "product": "keyfob", "brand": {"stylesheets": ()}}
        pages.append(template.render(context, name="Ann"))
    english, german = pages
    assert "Anmelden" in visible_texts(german)
    assert untranslated(english, german, ["Ann"]) == {
        "Plain title · keyfob",
        "Forgot to mark this.",
        "A bare alt",
    }
