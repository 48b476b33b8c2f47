"""Browser pages opened under another name than the public URL answer which URL to open.

Opened as ``http://127.0.0.1:8000`` while the public URL is ``http://localhost:8000``, keyfob's
pages used to load and then fail mid-sign-in (passkeys and cookies belong to ``localhost``),
or refuse a post with "This request did not come from keyfob's own pages". Now every browser
page (and its scripts' calls) answers 421 ``wrong_host`` naming the URL to use; the JSON API,
discovery, the JWKS and the endpoints servers call answer under any name.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyfob.server.infra.app import BROWSER_PREFIXES
from keyfob.server.infra.client_address import TrustedProxies
from keyfob.server.infra.public_host import on_browser_page, wrong_host
from tests.server.conftest import PUBLIC_URL, Server, ServerFactory

WRONG = {"host": "127.0.0.1:8000"}
SAID = (
    "Open keyfob at http://localhost:8000 — this page was opened as http://127.0.0.1:8000, "
    "which passkeys and cookies do not accept."
)
FORM = {"content-type": "application/x-www-form-urlencoded"}
CLIENT = "0b7e5f8a-7f3e-4a53-9a3c-2f1e4d5c6b7a"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The check runs before any route reaches the store: SQLite only."""
    return f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}"


def assert_wrong_host_page(response: httpx.Response, link: str) -> None:
    assert response.status_code == 421, response.text
    assert response.headers["content-type"].startswith("text/html")
    text = html.unescape(response.text)
    assert SAID in text
    assert f'href="{link}"' in text
    assert "wrong_host" in text


def assert_wrong_host_json(response: httpx.Response) -> None:
    assert response.status_code == 421, response.text
    assert response.json()["error"] == "wrong_host"
    assert response.json()["message"].startswith(SAID)


@pytest.mark.parametrize(
    ("path", "link"),
    [
        ("/admin/login", f"{PUBLIC_URL}/admin/login"),
        ("/admin", f"{PUBLIC_URL}/admin"),
        ("/admin/clients", f"{PUBLIC_URL}/admin/clients"),
        ("/admin/enroll?token=abc", f"{PUBLIC_URL}/admin/enroll?token=abc"),
        (f"/auth/login/{CLIENT}?state=s", f"{PUBLIC_URL}/auth/login/{CLIENT}?state=s"),
        (f"/auth/registration/{CLIENT}", f"{PUBLIC_URL}/auth/registration/{CLIENT}"),
        (f"/auth/logout/{CLIENT}", f"{PUBLIC_URL}/auth/logout/{CLIENT}"),
        ("/account", f"{PUBLIC_URL}/account"),
        ("/account/login", f"{PUBLIC_URL}/account/login"),
        ("/oidc/authorize?client_id=x", f"{PUBLIC_URL}/oidc/authorize?client_id=x"),
        ("/oidc/login?i=x", f"{PUBLIC_URL}/oidc/login?i=x"),
        ("/oidc/logout", f"{PUBLIC_URL}/oidc/logout"),
    ],
)
async def test_a_page_opened_under_another_name_names_the_url_to_use(
    server: Server, path: str, link: str
) -> None:
    assert_wrong_host_page(await server.client.get(path, headers=WRONG), link)


async def test_a_form_posted_under_another_name_gets_the_page_without_a_repost(
    server: Server,
) -> None:
    response = await server.client.post("/admin/sign-out", content="csrf=x", headers=WRONG | FORM)
    assert_wrong_host_page(response, PUBLIC_URL)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/login/passkey/options",
        f"/auth/login/{CLIENT}/passkey/options",
        "/account/login/wallet",
        "/oidc/login/passkey/options",
    ],
)
async def test_a_pages_script_calling_under_another_name_gets_json(
    server: Server, path: str
) -> None:
    assert_wrong_host_json(await server.post(path, {}, headers=WRONG))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/auth/nonce", {"chain": "ethereum"}),  # the fast path's route
        ("GET", "/auth/me", None),
        ("GET", "/.well-known/jwks.json", None),
        ("GET", "/.well-known/openid-configuration", None),
        ("POST", "/oidc/token", None),
        ("GET", "/oidc/userinfo", None),
        ("GET", "/healthz", None),
        ("GET", "/static/keyfob.css", None),
        ("GET", "/docs", None),
        ("GET", "/authorize", None),  # not a page: a 404 like any other
        ("GET", "/administrator", None),
    ],
)
async def test_the_api_and_what_servers_call_answer_under_any_name(
    server: Server, method: str, path: str, body: Any
) -> None:
    response = await server.client.request(method, path, json=body, headers=WRONG)
    assert response.status_code != 421, response.text


async def test_on_the_public_host_the_pages_answer(server: Server) -> None:
    assert (await server.client.get("/admin/login")).status_code == 200
    explicit = await server.client.get("/admin/login", headers={"host": "LOCALHOST:8000"})
    assert explicit.status_code == 200


async def test_the_default_port_may_be_spelled_out(make_server: ServerFactory) -> None:
    async with make_server(public_url="https://auth.example.test") as server:
        for host in ("auth.example.test", "auth.example.test:443"):
            response = await server.client.get("/admin/login", headers={"host": host})
            assert response.status_code == 200, host
        moved = await server.client.get("/admin/login", headers={"host": "auth.example.test:80"})
        assert moved.status_code == 421


async def test_a_same_origin_post_from_another_name_names_the_url(server: Server) -> None:
    headers = {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"}
    assert_wrong_host_json(await server.post("/admin/login/passkey/options", {}, headers=headers))


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        {"origin": "https://evil.example"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
    ],
)
async def test_a_cross_site_post_is_still_the_csrf_checks_to_refuse(
    server: Server, headers: dict[str, str]
) -> None:
    refused = await server.post("/admin/login/passkey/options", {}, headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == "This request did not come from keyfob's own pages."


@pytest.mark.parametrize(
    ("proxies", "headers", "status"),
    [
        # A trusted proxy that rewrites Host forwards the browser's in X-Forwarded-Host.
        ({"trusted_proxies": "127.0.0.1"}, {"x-forwarded-host": "localhost:8000"}, 200),
        ({"trusted_proxies": "127.0.0.1"}, {"x-forwarded-host": "localhost:8000, a:1"}, 200),
        ({"trusted_proxies": "127.0.0.1"}, {"x-forwarded-host": "127.0.0.1:8000"}, 421),
        ({"trusted_proxies": "127.0.0.1"}, {}, 421),  # no forwarded host: Host decides
        # From a peer that is no trusted proxy, X-Forwarded-Host is anyone's: never read.
        ({}, {"x-forwarded-host": "localhost:8000"}, 421),
        ({"trusted_proxies": "10.0.0.0/8"}, {"x-forwarded-host": "localhost:8000"}, 421),
        # RFC 7239: host= of the first element, when that is the header in use.
        (
            {"trusted_proxies": "127.0.0.1", "forwarded_header": "forwarded"},
            {"forwarded": 'for=192.0.2.1;host="localhost:8000";proto=http'},
            200,
        ),
        (
            {"trusted_proxies": "127.0.0.1", "forwarded_header": "forwarded"},
            {"x-forwarded-host": "localhost:8000"},
            421,
        ),
    ],
)
async def test_behind_a_trusted_proxy_the_forwarded_host_counts(
    make_server: ServerFactory, proxies: dict[str, str], headers: dict[str, str], status: int
) -> None:
    async with make_server(**proxies) as server:
        asked = {"host": "10.1.2.3:8000", **headers}  # the proxy's upstream address
        response = await server.client.get("/admin/login", headers=asked)
        assert response.status_code == status, response.text


def scope(headers: list[tuple[bytes, bytes]], method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/admin/login",
        "query_string": b"",
        "scheme": "http",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
    }


def test_a_request_without_host_is_let_through() -> None:
    assert wrong_host(scope([]), PUBLIC_URL, TrustedProxies()) is None


def test_a_long_host_is_cut_in_the_sentence() -> None:
    refusal = wrong_host(scope([(b"host", b"a" * 5000)]), PUBLIC_URL, TrustedProxies())
    assert refusal is not None
    assert len(refusal.message) < 400
    assert refusal.url == f"{PUBLIC_URL}/admin/login"


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("/admin", True),
        ("/admin/", True),
        ("/admin/clients/x", True),
        ("/administrator", False),
        ("/auth/login/x", True),
        ("/auth/login", False),  # the JSON API's wallet login
        ("/auth/logout", False),  # the JSON API's logout
        ("/auth/logout/x", True),
        ("/account", True),
        ("/accounts", False),
        ("/oidc/authorize/continue", True),
        ("/oidc/token", False),
    ],
)
def test_which_paths_are_browser_pages(path: str, inside: bool) -> None:
    assert on_browser_page(path, BROWSER_PREFIXES) is inside
