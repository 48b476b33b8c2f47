"""CORS for the browser apps ``KEYFOB_CORS_ORIGINS`` lists, over ASGI, through the fast path and
through FastAPI's routes: preflights and requests from a listed origin get
``Access-Control-Allow-Origin``; other origins, the hosted pages, the admin panel and the
OpenID Provider's pages get no CORS header at all; without the setting nothing changes.

Before it, a browser app on another origin got 405 for every preflight (no CORS at all)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from keyfob.server.infra.cli import cli
from keyfob.server.infra.cors import ALLOW_HEADERS, is_cors_path
from keyfob.server.infra.settings import Settings
from tests.server.conftest import PUBLIC_URL, SECRET, ServerFactory
from tests.server.infra.test_rate_limit_routes import app_routes, concrete

APP = "http://127.0.0.1:5173"
OTHER_APP = "https://app.example.com"
STRANGER = "https://evil.example"
CLIENT = "0b7e5f8a-7f3e-4a53-9a3c-2f1e4d5c6b7a"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """CORS never reaches the store: SQLite only (the app migrates it at start)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'keyfob.db'}"


# Every route a listed origin may call; every other route stays closed to other origins.
OPEN = {
    ("POST", "/auth/nonce"),
    ("GET", "/auth/nonce"),
    ("POST", "/auth/login"),
    ("POST", "/auth/challenge"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/session-key/token"),
    ("GET", "/auth/session-keys"),
    ("DELETE", "/auth/session-keys/{thumbprint}"),
    ("GET", "/auth/me"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/auth/denylist"),
    ("POST", "/auth/passkey/register/options"),
    ("POST", "/auth/passkey/register/verify"),
    ("POST", "/auth/passkey/login/options"),
    ("POST", "/auth/passkey/login/verify"),
    ("GET", "/auth/methods"),
    ("POST", "/auth/methods/wallet"),
    ("DELETE", "/auth/methods/{identity_id}"),
    ("POST", "/auth/step-up/options"),
    ("POST", "/auth/step-up/verify"),
    ("GET", "/auth/consents"),
    ("DELETE", "/auth/consents/{client_id}"),
    # A public OpenID Connect client in the browser (code + PKCE): metadata, token, userinfo,
    # revocation. Introspection is for resource servers; the rest are pages and redirects.
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("POST", "/oidc/token"),
    ("GET", "/oidc/userinfo"),
    ("POST", "/oidc/userinfo"),
    ("POST", "/oidc/revoke"),
}


def test_every_route_has_a_cors_decision() -> None:
    """A new route fails here until it is listed as open, or stays closed by the rules."""
    routes = set(app_routes())
    assert routes >= OPEN
    for method, path in sorted(routes):
        opened = is_cors_path(concrete(path))
        assert opened == ((method, path) in OPEN), f"{method} {path}: open it or keep it closed"
        assert not (opened and path.startswith(("/admin", "/auth/login/", "/auth/registration")))


def preflight(method: str, origin: str = APP, headers: str | None = None) -> dict[str, str]:
    asked = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        asked["access-control-request-headers"] = headers
    return asked


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


# (method, path, requested method, requested headers)
ALLOWED_PREFLIGHTS = [
    ("POST", "/auth/nonce", "content-type"),  # the fast path's endpoints
    ("POST", "/auth/login", "content-type"),
    ("POST", "/auth/refresh", "content-type"),
    ("POST", "/auth/passkey/login/options", "content-type"),
    ("POST", "/auth/passkey/login/verify", "content-type"),
    ("POST", "/auth/session-key/token", "content-type"),
    ("POST", "/auth/logout", "authorization,content-type"),  # FastAPI's routes
    ("GET", "/auth/me", "authorization"),
    ("POST", "/auth/passkey/register/options", "authorization,content-type,x-keyfob-step-up"),
    ("DELETE", f"/auth/methods/{CLIENT}", "authorization,x-keyfob-step-up"),
    ("DELETE", f"/auth/consents/{CLIENT}", "authorization"),
    ("GET", "/.well-known/jwks.json", None),
    ("POST", "/oidc/token", "authorization,content-type"),  # the OIDC surface's router
    ("GET", "/oidc/userinfo", "authorization"),
]

# Never open, even to a listed origin: the hosted pages, the admin panel, the provider's pages.
CLOSED_PREFLIGHTS = [
    ("GET", f"/auth/login/{CLIENT}"),
    ("POST", f"/auth/login/{CLIENT}/wallet"),
    ("POST", f"/auth/login/{CLIENT}/passkey/options"),
    ("POST", f"/auth/registration/{CLIENT}/verify"),
    ("GET", f"/auth/logout/{CLIENT}"),
    ("POST", "/admin/login/wallet"),
    ("POST", "/admin/enroll/options"),
    ("POST", "/admin/sign-out"),
    ("GET", "/admin/clients"),
    ("GET", "/oidc/authorize"),
    ("POST", "/oidc/login/wallet"),
    ("POST", "/oidc/consent"),
    ("POST", "/oidc/logout"),
    ("POST", "/oidc/introspect"),
    ("GET", "/healthz"),
    ("GET", "/static/login.js"),
]


async def test_preflights_from_a_listed_origin(make_server: ServerFactory) -> None:
    async with make_server(cors_origins=f"{APP}, {OTHER_APP}") as server:
        for method, path, headers in ALLOWED_PREFLIGHTS:
            for origin in (APP, OTHER_APP):
                answer = await server.client.options(
                    path, headers=preflight(method, origin, headers)
                )
                assert answer.status_code == 200, (path, answer.text)
                got = cors_headers(answer)
                assert got["access-control-allow-origin"] == origin, path
                assert method in got["access-control-allow-methods"]
                assert "access-control-allow-credentials" not in got
                assert set(ALLOW_HEADERS) <= set(got["access-control-allow-headers"].split(", "))
                assert "Origin" in answer.headers["vary"]


async def test_preflights_that_are_refused(make_server: ServerFactory) -> None:
    async with make_server(cors_origins=APP) as server:
        for method, path in CLOSED_PREFLIGHTS:
            answer = await server.client.options(path, headers=preflight(method))
            assert answer.status_code in (404, 405), path
            assert cors_headers(answer) == {}, path
        # An origin not listed: the app's own answer, nothing a browser would accept.
        for origin in (STRANGER, "null", APP + ":8080", APP.replace("http:", "https:")):
            answer = await server.client.options("/auth/nonce", headers=preflight("POST", origin))
            assert answer.status_code == 405
            assert answer.json()["error"] == "method_not_allowed"
            assert cors_headers(answer) == {}
        # A listed origin asking for a method or a header keyfob does not take: Starlette's 400.
        for asked, headers in (("PUT", None), ("POST", "content-type,x-custom")):
            answer = await server.client.options(
                "/auth/login", headers=preflight(asked, APP, headers)
            )
            assert answer.status_code == 400
            assert answer.text.startswith("Disallowed CORS")


async def test_requests_from_a_listed_origin_and_from_others(make_server: ServerFactory) -> None:
    async with make_server(cors_origins=APP) as server:
        body = {"chain": "ethereum"}
        listed = await server.post("/auth/nonce", body, headers={"origin": APP})
        assert listed.status_code == 200
        got = cors_headers(listed)
        assert got["access-control-allow-origin"] == APP
        assert got["access-control-expose-headers"] == "Retry-After, WWW-Authenticate"
        assert "access-control-allow-credentials" not in got
        assert "Origin" in listed.headers["vary"]
        # Errors too: an app reads keyfob's error body.
        refused = await server.client.get("/auth/me", headers={"origin": APP})
        assert refused.status_code == 401
        assert cors_headers(refused)["access-control-allow-origin"] == APP
        # Another origin: answered (a browser refuses to show it), no CORS header, Vary: Origin.
        stranger = await server.post("/auth/nonce", body, headers={"origin": STRANGER})
        assert stranger.status_code == 200
        assert cors_headers(stranger) == {}
        assert "Origin" in stranger.headers["vary"]
        # Cacheable answers vary by Origin even when a request has none.
        for path in ("/.well-known/jwks.json", "/.well-known/openid-configuration"):
            plain = await server.client.get(path)
            assert plain.status_code == 200
            assert cors_headers(plain) == {}
            assert "Origin" in plain.headers["vary"]
        # The browser client may be imported from keyfob; the pages' scripts may not.
        script = await server.client.get("/static/keyfob.js", headers={"origin": APP})
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert cors_headers(script)["access-control-allow-origin"] == APP
        page_script = await server.client.get("/static/login.js", headers={"origin": APP})
        assert page_script.status_code == 200
        assert cors_headers(page_script) == {}
        assert "vary" not in page_script.headers
        page = await server.client.get(f"/auth/login/{CLIENT}", headers={"origin": APP})
        assert cors_headers(page) == {}


async def test_without_the_setting_there_is_no_cors(make_server: ServerFactory) -> None:
    async with make_server() as server:
        answer = await server.client.options("/auth/nonce", headers=preflight("POST"))
        assert answer.status_code == 405
        assert cors_headers(answer) == {}
        listed = await server.post("/auth/nonce", {"chain": "ethereum"}, headers={"origin": APP})
        assert cors_headers(listed) == {}
        jwks = await server.client.get("/.well-known/jwks.json", headers={"origin": APP})
        assert cors_headers(jwks) == {}
        assert "vary" not in jwks.headers


async def test_preflights_are_not_rate_limited_and_429s_are_readable(
    make_server: ServerFactory,
) -> None:
    async with make_server(cors_origins=APP, rate_limit=1) as server:
        for _ in range(5):
            asked = await server.client.options("/auth/nonce", headers=preflight("POST"))
            assert asked.status_code == 200
        body = {"chain": "ethereum"}
        assert (await server.post("/auth/nonce", body, headers={"origin": APP})).status_code == 200
        limited = await server.post("/auth/nonce", body, headers={"origin": APP})
        assert limited.status_code == 429
        assert cors_headers(limited)["access-control-allow-origin"] == APP
        assert "Retry-After" in cors_headers(limited)["access-control-expose-headers"]


async def test_a_413_is_readable_by_a_listed_origin(make_server: ServerFactory) -> None:
    async with make_server(cors_origins=APP) as listed:
        big = b"{" + b" " * (64 * 1024) + b"}"
        headers = {"origin": APP, "content-type": "application/json"}
        answer = await listed.client.post("/auth/login", content=big, headers=headers)
    assert answer.status_code == 413
    assert cors_headers(answer)["access-control-allow-origin"] == APP


def settings_of(**values: object) -> Settings:
    return Settings(public_url=PUBLIC_URL, secret_key=SECRET, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", ()),
        ("http://localhost:5173", ("http://localhost:5173",)),
        (
            " HTTPS://App.Example.COM:443/ , http://127.0.0.1:80",
            ("https://app.example.com", "http://127.0.0.1"),
        ),
        ("http://[::1]:3000,http://[::1]:3000", ("http://[::1]:3000",)),
        (
            "https://a.example,https://b.example:8443",
            ("https://a.example", "https://b.example:8443"),
        ),
    ],
)
def test_cors_origins_are_parsed_as_browsers_write_them(
    value: str, origins: tuple[str, ...]
) -> None:
    assert settings_of(cors_origins=value).cors_origins == origins


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("*", "'*' is refused"),
        ("https://app.example.com,*", "'*' is refused"),
        ("null", "'null' is not an origin"),
        ("app.example.com", "'app.example.com' is not an origin"),
        ("https://app.example.com/callback", "is not an origin"),
        ("https://app.example.com?x=1", "is not an origin"),
        ("https://app.example.com#top", "is not an origin"),
        ("https://user@app.example.com", "is not an origin"),
        ("https://app.example.com:99999", "is not an origin"),
        ("https://app.example.com:port", "is not an origin"),
        ("ftp://app.example.com", "is not an origin"),
        ("https://*.example.com", "is not an origin"),
    ],
)
def test_bad_cors_origins_are_refused(value: str, says: str) -> None:
    with pytest.raises(ValidationError, match="KEYFOB_CORS_ORIGINS") as raised:
        settings_of(cors_origins=value)
    assert says in str(raised.value)


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFOB_CORS_ORIGINS", "http://localhost:5173,https://app.example.com")
    assert settings_of().cors_origins == ("http://localhost:5173", "https://app.example.com")


def test_a_bad_cors_origin_stops_the_cli_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEYFOB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KEYFOB_CORS_ORIGINS", "https://app.example.com/callback")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("keyfob: invalid setting KEYFOB_CORS_ORIGINS:")
    assert "'https://app.example.com/callback' is not an origin" in line
