"""The OpenID Connect surface is reached by its prefixes, ahead of FastAPI's route table, and
its errors render as the app's exception handlers say (as they did through FastAPI)."""

from __future__ import annotations

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from keyfob.errors import InvalidRequest
from keyfob.server.infra.dispatch import SurfaceDispatch, surface_app
from keyfob.server.infra.middleware import Receive, Scope, Send
from tests.server.conftest import Server


async def _fallback(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("fallback")(scope, receive, send)


async def _surface_ok(request: object) -> PlainTextResponse:
    return PlainTextResponse("surface")


async def _surface_fails(request: object) -> PlainTextResponse:
    raise InvalidRequest("nope")


async def _render(request: object, exc: Exception) -> PlainTextResponse:
    return PlainTextResponse(f"rendered {type(exc).__name__}", status_code=418)


def _dispatching() -> httpx.AsyncClient:
    routes = [Route("/s/ok", _surface_ok), Route("/s/fails", _surface_fails)]
    surface = surface_app(routes, {InvalidRequest: _render, Exception: _render})
    app = SurfaceDispatch(_fallback, surface=surface, prefixes=("/s/", "/exact"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/s/ok", 200, "surface"),
        ("/s/fails", 418, "rendered InvalidRequest"),  # the handler given, not a 500
        ("/other", 200, "fallback"),
        ("/s", 200, "fallback"),  # the prefix is "/s/", not "/s"
        ("/exact", 404, "Not Found"),  # the surface's router: no route there
    ],
)
async def test_requests_go_to_the_surface_of_their_prefix(
    path: str, status: int, body: str
) -> None:
    async with _dispatching() as client:
        response = await client.get(path)
    assert (response.status_code, response.text) == (status, body)


async def _surface_breaks(request: object) -> PlainTextResponse:
    raise RuntimeError("a bug")


async def test_the_catch_all_handler_stays_with_the_outer_app() -> None:
    """An unexpected error passes out of the surface to the app's outermost middleware (which
    logs it and answers 500), as Starlette does with the ``Exception`` handler."""
    surface = surface_app([Route("/s/x", _surface_breaks)], {Exception: _render, 500: _render})
    transport = httpx.ASGITransport(app=surface)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with pytest.raises(RuntimeError, match="a bug"):
            await client.get("/s/x")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/oidc/no-such-endpoint", 404, "not_found"),
        ("GET", "/oidc/token", 405, "method_not_allowed"),
        ("DELETE", "/.well-known/openid-configuration", 405, "method_not_allowed"),
    ],
)
async def test_oidc_errors_outside_the_endpoints_render_as_the_app_renders_them(
    server: Server, method: str, path: str, status: int, code: str
) -> None:
    response = await server.client.request(method, path)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


async def test_discovery_is_served_through_the_surface(server: Server) -> None:
    response = await server.client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.json()["token_endpoint"].endswith("/oidc/token")
