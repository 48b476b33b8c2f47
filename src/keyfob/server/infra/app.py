"""The ASGI application: ``create_app(settings)``."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from keyfob import __version__
from keyfob.errors import WrongHost
from keyfob.server.account import errors as account_errors
from keyfob.server.account import routes as account_routes
from keyfob.server.admin import routes as admin_routes
from keyfob.server.api import errors as api_errors
from keyfob.server.api import routes as api_routes
from keyfob.server.api.fastpath import FastPath
from keyfob.server.infra.cors import CrossOriginMiddleware
from keyfob.server.infra.dispatch import SurfaceDispatch, surface_app
from keyfob.server.infra.errors import ErrorRendering, install_error_handlers
from keyfob.server.infra.headers import SecurityHeadersMiddleware
from keyfob.server.infra.housekeeping import housekeeping
from keyfob.server.infra.inputs import UrlGuardMiddleware
from keyfob.server.infra.middleware import BodyLimitMiddleware, RateLimitMiddleware
from keyfob.server.infra.public_host import PublicHostGuard
from keyfob.server.infra.runtime import open_runtime, utc_now
from keyfob.server.infra.settings import Settings
from keyfob.server.oidc import routes as oidc_routes
from keyfob.server.oidc.logout import end_grants_of
from keyfob.server.oidc.provider import open_provider
from keyfob.server.pages import errors as page_errors
from keyfob.server.pages import routes as page_routes

log = logging.getLogger("keyfob")

#: Every surface's browser pages: opened anywhere but on the public URL's host, they answer
#: which URL to open instead (:mod:`keyfob.server.infra.public_host`).
BROWSER_PREFIXES = (
    *page_routes.BROWSER_PREFIXES,
    *admin_routes.BROWSER_PREFIXES,
    *account_routes.BROWSER_PREFIXES,
    *oidc_routes.BROWSER_PREFIXES,
)

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

    ``fast_path`` serves the sign-in endpoints through
    :class:`~keyfob.server.api.fastpath.FastPath` (the default); without it FastAPI's own routes
    answer them, identically but slower.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, run_migrations=run_migrations, clock=clock) as runtime:
            await runtime.keyring.load(now=clock())
            app.state.runtime = runtime
            async with open_provider(runtime) as provider:
                app.state.oidc = provider
                runtime.session_end_hooks.append(functools.partial(end_grants_of, provider))
                runtime.publish_keys = provider.keys.published
                log.info("keyfob %s serving %s", __version__, settings.public_url)
                async with housekeeping(runtime, also_reload=provider.keys.refresh_if_stale):
                    yield

    app = FastAPI(
        title="keyfob",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # keyfob.server.pages.docs serves /docs without a CDN
        redoc_url=None,
    )
    # Each surface renders its own errors: HTML pages for the hosted pages, the admin panel and
    # the account page, the JSON body for the API and every other path.
    errors = ErrorRendering(
        default=api_errors.render_error,
        surfaces=(
            (page_errors.wants_page, page_errors.render_error),
            (account_errors.wants_page, account_errors.render_error),
        ),
    )
    install_error_handlers(app, errors)
    api_routes.install(app)
    page_routes.install(app)
    admin_routes.install(app)
    account_routes.install(app)
    # OpenID Connect: Starlette routes (documented by discovery, not by OpenAPI), reached by
    # their prefixes without walking FastAPI's route table.
    oidc_app = surface_app(oidc_routes.ROUTES, app.exception_handlers)
    app.add_middleware(SurfaceDispatch, surface=oidc_app, prefixes=oidc_routes.PREFIXES)
    if fast_path:
        routes = api_routes.FAST_ROUTES
        app.add_middleware(FastPath, runtime=lambda: app.state.runtime, routes=routes)
    app.add_middleware(
        RateLimitMiddleware, per_minute=settings.rate_limit, proxies=settings.proxies
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        PublicHostGuard,
        public_url=settings.public_url,
        proxies=settings.proxies,
        prefixes=BROWSER_PREFIXES,
        respond=wrong_host_response,
    )
    app.add_middleware(UrlGuardMiddleware, errors=errors)
    # Outside every other answer (413, 429, 400 invalid_url, the fast path's), so a listed
    # browser app can read those too, and preflights never reach the rate limiter.
    if settings.cors_origins:
        app.add_middleware(CrossOriginMiddleware, origins=settings.cors_origins)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://"))
    return app


def wrong_host_response(request: Request, error: WrongHost) -> Response:
    """A page naming the URL to open for a browser loading a page, JSON for a script's call."""
    if page_errors.is_browser_navigation(request):
        return page_errors.wrong_host_page(request, error)
    return api_errors.render_error(request, error.status, error.code, error.message)


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory keyfob.server.infra.app:app_factory``."""
    return create_app()


def prepared_app_factory() -> FastAPI:
    """Entry point used by ``keyfob serve``, which has already migrated the database."""
    return create_app(run_migrations=False)
