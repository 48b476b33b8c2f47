"""The ASGI application: ``create_app(settings)``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from keyfob import __version__
from keyfob.server import (
    challenge,
    docs,
    hosted,
    login,
    me,
    methods,
    nonce,
    passkeys,
    refresh,
    session_keys,
    step_up,
)
from keyfob.server.admin import routes as admin_routes
from keyfob.server.fastpath import FastPath
from keyfob.server.infra.errors import install_error_handlers
from keyfob.server.infra.headers import SecurityHeadersMiddleware
from keyfob.server.infra.housekeeping import housekeeping
from keyfob.server.infra.inputs import UrlGuardMiddleware
from keyfob.server.infra.middleware import BodyLimitMiddleware, RateLimitMiddleware
from keyfob.server.infra.runtime import open_runtime, utc_now
from keyfob.server.infra.settings import Settings

log = logging.getLogger("keyfob")

DESCRIPTION = (
    "Sign in by proving you hold a key (an Ethereum, Nimiq or Solana wallet); get JWTs. "
    'Errors are always `{"error": code, "message": sentence}`.'
)


def create_app(
    settings: Settings | None = None,
    *,
    run_migrations: bool = True,
    clock: Callable[[], datetime] = utc_now,
    fast_path: bool = True,
) -> FastAPI:
    """Build the keyfob server; its lifespan migrates the database and loads the keys.

    ``fast_path`` serves the sign-in endpoints through :class:`~keyfob.server.fastpath.FastPath`
    (the default); without it FastAPI's own routes answer them, identically but slower.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, run_migrations=run_migrations, clock=clock) as runtime:
            await runtime.keyring.load(now=clock())
            app.state.runtime = runtime
            log.info("keyfob %s serving %s", __version__, settings.public_url)
            async with housekeeping(runtime):
                yield

    app = FastAPI(
        title="keyfob",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # keyfob.server.docs serves /docs without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    for module in (
        nonce,
        login,
        challenge,
        refresh,
        session_keys,
        me,
        passkeys,
        methods,
        step_up,
    ):
        app.include_router(module.router)
    # hosted pages
    hosted.install(app)
    # admin panel
    admin_routes.install(app)
    docs.install(app)
    if fast_path:
        app.add_middleware(FastPath, runtime=lambda: app.state.runtime)
    app.add_middleware(
        RateLimitMiddleware, per_minute=settings.rate_limit, proxies=settings.proxies
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(UrlGuardMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://"))
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory keyfob.server.infra.app:app_factory``."""
    return create_app()


def prepared_app_factory() -> FastAPI:
    """Entry point used by ``keyfob serve``, which has already migrated the database."""
    return create_app(run_migrations=False)
