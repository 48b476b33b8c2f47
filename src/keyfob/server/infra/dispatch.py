"""Serving a surface with its own router, ahead of FastAPI's.

FastAPI finds a route by walking its route table in order, and the OpenID Connect endpoints
sit after the JSON API's ~60 routes (measured at about a fifth of a token request's CPU time).
:class:`SurfaceDispatch` hands every request under a surface's path prefixes straight to that
surface's Starlette router, with the app's own exception handlers, so its errors render exactly
as before; every other request goes on to FastAPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Router

from keyfob.server.infra.middleware import ASGIApp, Receive, Scope, Send


def surface_app(routes: Sequence[BaseRoute], handlers: Mapping[Any, Any]) -> ASGIApp:
    """A router over ``routes`` whose errors go to ``handlers`` (the app's exception handlers;
    the catch-all ``Exception`` one stays with the app's outermost middleware, as in Starlette)."""
    kept = {key: handler for key, handler in handlers.items() if key not in (500, Exception)}
    return ExceptionMiddleware(Router(routes=list(routes)), handlers=kept)


class SurfaceDispatch:
    """Send HTTP requests whose path starts with one of ``prefixes`` to ``surface``; pass every
    other request on to ``app``."""

    def __init__(self, app: ASGIApp, *, surface: ASGIApp, prefixes: Sequence[str]) -> None:
        self.app = app
        self.surface = surface
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.surface(scope, receive, send)
        else:
            await self.app(scope, receive, send)
