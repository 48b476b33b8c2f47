"""The operator's branding and a client's logo on the pages; the defaults change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from keyfob.server.pages.branding import (
    accent_ink,
    brand_stylesheet_text,
    contrast,
    readable_accent,
)
from keyfob.server.services.clients import create_client
from keyfob.store.records import ClientRecord
from tests.node_clients import NodeClients
from tests.server.conftest import Server, ServerFactory
from tests.server.oidc.flow import authorize_url, register, sign_in_on_page

APP = "https://app.example.com/callback"
LOGO = "https://cdn.example.com/acme.svg"
CLIENT_LOGO = "https://static.demo.example:8443/img/demo.png"
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Branding is settings and one client column: SQLite here (the store has its tests)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}"


@pytest.fixture
def routing() -> str:
    return "fastpath"


@pytest.fixture
def extra_css(tmp_path: Path) -> Path:
    path = tmp_path / "extra.css"
    path.write_text(".card { border-radius: 0; }\n")
    return path


@pytest.fixture
async def branded(make_server: ServerFactory, extra_css: Path) -> AsyncIterator[Server]:
    settings = {
        "product_name": "Acme ID",
        "logo_url": LOGO,
        "accent_color": "#8A1538",
        "extra_css": str(extra_css),
    }
    async with make_server(**settings) as started:
        yield started


@pytest.fixture
async def plain(make_server: ServerFactory) -> AsyncIterator[Server]:
    async with make_server() as started:
        yield started


async def new_client(server: Server, **options: Any) -> ClientRecord:
    values: dict[str, Any] = {"name": "Demo", "redirect_uris": [APP], "open_to_all": True}
    values.update(options)
    client, _ = await create_client(server.runtime, **values)
    return client


def stylesheets(page: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)


async def test_the_defaults_keep_the_look(plain: Server) -> None:
    response = await plain.client.get("/admin/login")
    assert response.headers["content-security-policy"] == STRICT_CSP
    page = response.text
    assert '<header class="brand">keyfob</header>' in page
    assert "<title>Sign in to keyfob's administration · keyfob</title>" in page
    assert stylesheets(page) == ["/static/keyfob.css"]
    assert "<img" not in page
    for path in ("/static/brand.css", "/static/extra.css"):
        assert (await plain.client.get(path)).status_code == 404


async def test_product_name_logo_and_stylesheets(branded: Server, extra_css: Path) -> None:
    response = await branded.client.get("/admin/login", headers={"Accept-Language": "de"})
    page = response.text
    assert (
        '<header class="brand"><img class="brand-logo" src="https://cdn.example.com/acme.svg" '
        'alt="Acme ID" referrerpolicy="no-referrer"></header>'
    ) in page
    assert "<title>Bei der Verwaltung von Acme ID anmelden · Acme ID</title>" in page
    assert "keyfob" not in page.split("<main")[1].split("<script")[0]
    csp = response.headers["content-security-policy"]
    assert "img-src 'self' data: https://cdn.example.com; " in csp
    assert csp == STRICT_CSP.replace("data:", "data: https://cdn.example.com")
    links = stylesheets(page)
    assert links[0] == "/static/keyfob.css"
    assert re.fullmatch(r"/static/brand\.css\?v=[0-9a-f]{12}", links[1])
    assert links[2] == "/static/extra.css"

    brand = await branded.client.get(links[1])
    assert brand.status_code == 200
    assert brand.headers["content-type"].startswith("text/css")
    assert brand.headers["x-content-type-options"] == "nosniff"
    assert brand.headers["cache-control"] == "public, max-age=86400"
    assert brand.text == brand_stylesheet_text("#8a1538")
    assert "--accent: #8a1538; --accent-ink: #ffffff;" in brand.text

    extra = await branded.client.get("/static/extra.css")
    assert extra.status_code == 200
    assert extra.text == ".card { border-radius: 0; }\n"
    assert extra.headers["content-type"].startswith("text/css")
    assert extra.headers["cache-control"] == "no-cache"
    await anyio.Path(extra_css).write_text(".card { border: 0; }\n")  # an edit shows at once
    assert (await branded.client.get("/static/extra.css")).text == ".card { border: 0; }\n"
    await anyio.Path(extra_css).unlink()
    assert (await branded.client.get("/static/extra.css")).status_code == 404


async def test_the_product_name_is_in_the_translated_sentences(branded: Server) -> None:
    english = (await branded.client.get("/account/login")).text
    assert "<title>Sign in to your Acme ID account · Acme ID</title>" in english
    assert 'data-app-name="Acme ID"' in english
    german = await branded.client.get("/admin/enroll?token=t", headers={"Accept-Language": "de"})
    assert "zum Administrator von Acme ID" in german.text


async def test_a_client_logo_on_its_pages(plain: Server) -> None:
    client = await new_client(plain, logo_uri=CLIENT_LOGO, registration_enabled=True)
    for path in (f"/auth/login/{client.id}", f"/auth/registration/{client.id}"):
        response = await plain.client.get(path, headers={"Accept-Language": "de"})
        assert response.status_code == 200, response.text
        assert (
            f'<img class="client-logo" src="{CLIENT_LOGO}" alt="Logo von Demo" '
            'referrerpolicy="no-referrer">'
        ) in response.text
        csp = response.headers["content-security-policy"]
        assert "img-src 'self' data: https://static.demo.example:8443; " in csp
    other = await new_client(plain)
    response = await plain.client.get(f"/auth/login/{other.id}")
    assert "client-logo" not in response.text
    assert response.headers["content-security-policy"] == STRICT_CSP


async def test_client_and_operator_logos_together(branded: Server) -> None:
    client = await new_client(branded, logo_uri=CLIENT_LOGO)
    response = await branded.client.get(f"/auth/login/{client.id}")
    images = "img-src 'self' data: https://cdn.example.com https://static.demo.example:8443; "
    assert images in response.headers["content-security-policy"]
    assert 'alt="Demo logo"' in response.text


async def test_a_client_logo_on_its_oidc_pages(plain: Server, node_clients: NodeClients) -> None:
    rp = await register(plain, first_party=False)
    await plain.runtime.store.update_client(rp.id, now=plain.runtime.now(), logo_uri=CLIENT_LOGO)
    asked = await plain.client.get(authorize_url(rp))
    login = await plain.client.get(asked.headers["location"])
    assert f'src="{CLIENT_LOGO}"' in login.text
    assert "https://static.demo.example:8443" in login.headers["content-security-policy"]
    consent = await sign_in_on_page(plain, node_clients, asked.headers["location"])
    shown = await plain.client.get(consent.headers["location"])
    assert f'src="{CLIENT_LOGO}"' in shown.text
    assert 'alt="Demo RP logo"' in shown.text
    assert "https://static.demo.example:8443" in shown.headers["content-security-policy"]


def test_the_accent_is_made_readable_on_both_schemes() -> None:
    # keyfob's own light accent already reads on white: kept as it is.
    assert readable_accent("#0b5cad", "#ffffff") == "#0b5cad"
    for accent in ("#ffff00", "#8a1538", "#00ff88", "#777777", "#000000", "#ffffff"):
        light, dark = readable_accent(accent, "#ffffff"), readable_accent(accent, "#161b22")
        assert contrast(light, "#ffffff") >= 4.5
        assert contrast(dark, "#161b22") >= 4.5
        best = max(contrast("#ffffff", light), contrast("#0d1117", light))
        assert contrast(accent_ink(light), light) == best
    assert readable_accent("#ffff00", "#161b22") == "#ffff00"  # yellow reads on dark
    assert accent_ink("#ffff00") == "#0d1117"
    assert accent_ink("#8a1538") == "#ffffff"
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert contrast("#123456", "#123456") == 1.0
