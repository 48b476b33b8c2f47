"""The rate limiter through the app: every route that writes without authentication is limited,
behind a trusted proxy per client, and the audit log records the address the limiter counts.

Before issue 7 only POSTs under /auth/ were limited (not ``GET /auth/nonce`` nor the admin
sign-in), by the socket peer, and the audit log recorded the proxy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from keyfob.server.infra.app import create_app
from keyfob.server.infra.rate_limit import LIMITED_ROUTES
from keyfob.server.infra.settings import Settings
from keyfob.server.oidc import routes as oidc_routes
from tests.server.conftest import PUBLIC_URL, SECRET, Server, ServerFactory

# Every route anyone may call that writes a row (docs/security.md lists the same).
UNAUTHENTICATED_WRITES = [
    ("POST", "/auth/nonce"),  # a nonce row (stored nonce mode)
    ("GET", "/auth/nonce"),
    ("POST", "/auth/challenge"),  # a challenge a sign-in then spends
    ("POST", "/auth/login"),  # account, session, refresh token, audit rows
    ("POST", "/auth/refresh"),  # rotates the refresh token (the token is the credential)
    ("POST", "/auth/session-key/token"),  # advances the key's last timestamp
    ("POST", "/auth/passkey/register/options"),  # a WebAuthn challenge
    ("POST", "/auth/passkey/register/verify"),  # account, passkey, session, audit
    ("POST", "/auth/passkey/login/options"),  # a WebAuthn challenge
    ("POST", "/auth/passkey/login/verify"),  # session, audit
    ("POST", "/auth/login/{client_id}/passkey/options"),
    ("POST", "/auth/login/{client_id}/passkey"),  # SSO session, audit
    ("POST", "/auth/login/{client_id}/wallet"),  # account, SSO session, audit
    ("POST", "/auth/registration/{client_id}/options"),
    ("POST", "/auth/registration/{client_id}/verify"),  # account, passkey, SSO session
    ("POST", "/admin/login/passkey/options"),
    ("POST", "/admin/login/passkey"),
    ("POST", "/admin/login/wallet"),
    ("POST", "/admin/enroll/options"),  # spends the link, stores a challenge
    ("POST", "/admin/enroll/verify"),
    ("POST", "/account/login/passkey/options"),  # a WebAuthn challenge
    ("POST", "/account/login/passkey"),  # SSO session, audit
    ("POST", "/account/login/wallet"),  # SSO session, audit (an unknown wallet: audit)
    ("POST", "/account/recover"),  # spends a recovery code: SSO session, audit
    ("POST", "/account/recover/link"),  # spends a recovery link: SSO session, audit
    ("GET", "/oidc/authorize"),  # with an SSO session: a code, audit rows
    ("POST", "/oidc/authorize"),
    ("GET", "/oidc/authorize/continue"),
    ("POST", "/oidc/login/passkey/options"),  # a WebAuthn challenge
    ("POST", "/oidc/login/passkey"),  # SSO session, audit
    ("POST", "/oidc/login/wallet"),  # account, SSO session, audit
    ("POST", "/oidc/consent"),  # a consent row, a code
    ("GET", "/oidc/logout"),  # ends the SSO session, revokes grants, back-channel posts
    ("POST", "/oidc/logout"),
    ("POST", "/oidc/logout/confirm"),
]

# Routes left unlimited, and why: they read, or write only for a caller already authenticated.
NOT_LIMITED = {
    ("GET", "/openapi.json"): "reads",
    ("GET", "/docs"): "reads",
    ("GET", "/docs/oauth2-redirect"): "reads",
    ("GET", "/static/brand.css"): "reads (a stylesheet made once from the settings)",
    ("GET", "/static/extra.css"): "reads (the operator's stylesheet file)",
    ("GET", "/.well-known/jwks.json"): "reads",
    ("GET", "/auth/denylist"): "reads",
    ("GET", "/healthz"): "reads",
    ("GET", "/auth/me"): "Bearer; reads",
    ("GET", "/auth/methods"): "Bearer; reads",
    ("DELETE", "/auth/methods/{identity_id}"): "Bearer",
    ("GET", "/auth/session-keys"): "Bearer; reads",
    ("DELETE", "/auth/session-keys/{thumbprint}"): "Bearer",
    ("GET", "/auth/login/{client_id}"): "a page; writes only with a live SSO session",
    ("GET", "/auth/registration/{client_id}"): "a page; reads",
    ("GET", "/auth/logout/{client_id}"): "ends the SSO session its cookie names",
    ("GET", "/admin/login"): "a page",
    ("GET", "/admin/enroll"): "a page; the link is spent by /admin/enroll/options",
    ("POST", "/admin/sign-out"): "an admin's session and CSRF token; ends that session",
    ("GET", "/account/login"): "a page",
    ("GET", "/account"): "a page; reads (the account holder's SSO session)",
    ("GET", "/account/recover"): "a page",
    ("GET", "/account/recover/link"): "a page; its script posts the link's token",
    ("GET", "/.well-known/openid-configuration"): "reads",
    ("GET", "/.well-known/oauth-authorization-server"): "reads",
    ("GET", "/oidc/login"): "a page; reads",
    ("GET", "/auth/consents"): "Bearer; reads",
    ("DELETE", "/auth/consents/{client_id}"): "Bearer",
    ("GET", "/oidc/consent"): "a page; reads",
    # Client-authenticated: one relying party's backend sends every user's exchange from one
    # address, which a per-address limit would throttle; secrets and codes are 256 random bits.
    ("POST", "/oidc/token"): "client authentication (or a PKCE-bound code)",
    ("POST", "/oidc/revoke"): "client authentication",
    ("POST", "/oidc/introspect"): "client authentication; reads",
    ("GET", "/oidc/userinfo"): "Bearer; reads",
    ("POST", "/oidc/userinfo"): "Bearer; reads",
}
ADMIN_PANEL = re.compile(r"/admin(/(clients|users|settings|audit)(/.*)?)?")  # admin session + CSRF


def app_routes() -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every route the app serves (HEAD is GET's)."""
    app = create_app(Settings(public_url=PUBLIC_URL, secret_key=SECRET))

    def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes)
            elif getattr(route, "methods", None):
                for method in route.methods - {"HEAD"}:
                    yield method, route.path

    yield from walk([*app.routes, *oidc_routes.ROUTES])  # the OIDC surface has its own router


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_has_a_decision() -> None:
    """A new route fails here until it is limited or listed as needing no limit."""
    routes = set(app_routes())
    assert ("POST", "/auth/login") in routes
    assert ("POST", "/admin/login/wallet") in routes
    for method, path in sorted(routes):
        limited = LIMITED_ROUTES.matches(method, concrete(path))
        if (method, path) in UNAUTHENTICATED_WRITES:
            assert limited, f"{method} {path} writes without authentication but is not limited"
        elif not limited:
            reason = NOT_LIMITED.get((method, path))
            assert reason or ADMIN_PANEL.fullmatch(path), f"{method} {path}: limit it or say why"
    assert set(UNAUTHENTICATED_WRITES) <= routes


@pytest.mark.parametrize(("method", "path"), UNAUTHENTICATED_WRITES)
async def test_each_unauthenticated_writing_route_is_limited(
    make_server: ServerFactory, method: str, path: str
) -> None:
    url = concrete(path) + ("?chain=ethereum" if method == "GET" else "")
    async with make_server(rate_limit=1) as server:
        first = await server.client.request(method, url, json={})
        second = await server.client.request(method, url, json={})
    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json()["error"] == "rate_limited"
    assert int(second.headers["retry-after"]) >= 1


async def test_get_nonce_is_limited_in_stored_mode_too(make_server: ServerFactory) -> None:
    async with make_server(rate_limit=2, nonce_mode="stored") as server:
        statuses = [
            (await server.client.get("/auth/nonce?chain=ethereum")).status_code for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


def _behind_proxy(
    make_server: ServerFactory, **overrides: Any
) -> AbstractAsyncContextManager[Server]:
    # httpx's ASGI transport connects from 127.0.0.1: that is the proxy here.
    started: AbstractAsyncContextManager[Server] = make_server(
        trusted_proxies="127.0.0.1", **overrides
    )
    return started


async def _last_failure_ip(server: Server) -> str | None:
    events = await server.runtime.store.audit_events(event="sign_in_failed", limit=1)
    return events[0].ip


BAD_LOGIN = {"chain": "ethereum", "message": "not a sign-in message", "signature": "0x00"}


async def test_behind_a_proxy_clients_are_limited_apart(make_server: ServerFactory) -> None:
    async with _behind_proxy(make_server, rate_limit=2) as server:

        async def status(client: str) -> int:
            headers = {"x-forwarded-for": f"198.51.100.99, {client}"}
            response = await server.post("/auth/login", BAD_LOGIN, headers=headers)
            return response.status_code

        first = [await status("203.0.113.7") for _ in range(3)]
        second = [await status("203.0.113.8") for _ in range(3)]
    assert first == [400, 400, 429]
    assert second == [400, 400, 429]


async def test_from_an_untrusted_peer_forwarding_headers_are_ignored(
    make_server: ServerFactory,
) -> None:
    async with make_server(rate_limit=2) as server:
        statuses = []
        for n in range(3):
            headers = {"x-forwarded-for": f"203.0.113.{n}", "forwarded": f"for=203.0.113.{n}"}
            response = await server.post("/auth/login", BAD_LOGIN, headers=headers)
            statuses.append(response.status_code)
        assert await _last_failure_ip(server) == "127.0.0.1"
    assert statuses == [400, 400, 429]


async def test_the_audit_log_records_the_address_the_limiter_counts(
    make_server: ServerFactory,
) -> None:
    async with _behind_proxy(make_server, rate_limit=2) as server:
        client = {"x-forwarded-for": "203.0.113.7"}
        assert (await server.post("/auth/login", BAD_LOGIN, headers=client)).status_code == 400
        assert await _last_failure_ip(server) == "203.0.113.7"
        # A page endpoint (FastAPI's route, not the fast path), from an IPv6 client: the log
        # keeps the whole address, the limiter counts its /64.
        page = {"origin": PUBLIC_URL, "x-forwarded-for": "2001:db8:5:6::7"}
        response = await server.post("/admin/login/wallet", BAD_LOGIN, headers=page)
        assert response.status_code == 400
        assert await _last_failure_ip(server) == "2001:db8:5:6::7"
        neighbour = {**page, "x-forwarded-for": "2001:db8:5:6::8"}
        second = await server.post("/admin/login/wallet", BAD_LOGIN, headers=neighbour)
        third = await server.post("/admin/login/wallet", BAD_LOGIN, headers=neighbour)
        assert (second.status_code, third.status_code) == (400, 429)
        assert (await server.post("/auth/login", BAD_LOGIN, headers=client)).status_code == 400
        assert (await server.post("/auth/login", BAD_LOGIN, headers=client)).status_code == 429
