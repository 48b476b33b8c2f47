"""The account page's route table: ``install(app)`` adds them (out of the OpenAPI schema).

Its sign-in page is a hosted page (:mod:`keyfob.server.pages.hosted_account`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from keyfob.server.account import home

#: The account page and its sign-in: on the public URL's host only
#: (:mod:`keyfob.server.infra.public_host`).
BROWSER_PREFIXES = ("/account",)
GET, POST = "GET", "POST"
ROUTES: tuple[tuple[str, str, Callable[..., Awaitable[Any]]], ...] = (
    (GET, "/account", home.home),
    (POST, "/account/sign-out", home.sign_out),
)


def install(app: FastAPI) -> None:
    """Add the account page's routes of :data:`ROUTES` to ``app``."""
    router = APIRouter(include_in_schema=False)
    for method, path, endpoint in ROUTES:
        router.add_api_route(path, endpoint, methods=[method])
    app.include_router(router)
