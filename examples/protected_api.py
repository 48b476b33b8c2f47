"""An API that accepts keyfob's access tokens, guarded both ways keyfob offers.

Run keyfob on port 8000, then::

    uvicorn examples.protected_api:app --port 8001

- every route needs a token (``KeyfobAuthMiddleware``) except ``/``, ``/health``, the docs and
  ``/public/*``;
- ``/public/profile`` is open to the middleware but guards itself with ``Depends(bearer)``.

Settings (environment): ``KEYFOB_URL`` (default http://localhost:8000, keyfob's default public
URL) is where keyfob answers;
``KEYFOB_ISSUER`` and ``KEYFOB_AUDIENCE`` must equal keyfob's ``iss`` and ``aud`` (its
KEYFOB_PUBLIC_URL and KEYFOB_TOKEN_AUDIENCE; both default to ``KEYFOB_URL``). If keyfob signs with
HS256, set ``KEYFOB_TOKEN_SECRET`` to the secret ``keyfob keys rotate`` printed (several,
comma-separated, while a rotation is under way) and the JWKS is not used. Never give an app
keyfob's ``KEYFOB_SECRET_KEY``: it is not a token key, and it unseals keyfob's database.
``KEYFOB_URL`` must be https unless keyfob runs on this machine (localhost, 127.0.0.0/8, ::1).
``CORS_ORIGINS`` (comma-separated, none by default) lists the origins of browser apps that may
call this API from their pages (``examples/spa``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.middleware.cors import CORSMiddleware

from keyfob.core.tokens import AccessTokenClaims
from keyfob.integrations import KeyfobAuthMiddleware, RemoteDenylist, TokenVerifier, claims_of
from keyfob.integrations.fastapi import KeyfobBearer, install_error_handler

KEYFOB_URL = os.environ.get("KEYFOB_URL", "http://localhost:8000").rstrip("/")
ISSUER = os.environ.get("KEYFOB_ISSUER", KEYFOB_URL)
AUDIENCE = os.environ.get("KEYFOB_AUDIENCE", ISSUER)
SECRETS = [s for s in os.environ.get("KEYFOB_TOKEN_SECRET", "").split(",") if s]
CORS_ORIGINS = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]

# Refuses tokens of ended sessions (logout, refresh-token reuse, a disabled user) by their sid.
# If keyfob's denylist is unreachable for longer than a token lives (the feed says how long),
# every token is refused until it answers; pass fail_open=True to accept them instead.
denylist = RemoteDenylist(f"{KEYFOB_URL}/auth/denylist", refresh_interval=5.0)
verifier = TokenVerifier(
    issuer=ISSUER,
    audience=AUDIENCE,
    jwks_url=None if SECRETS else f"{KEYFOB_URL}/.well-known/jwks.json",
    secret=SECRETS or None,
    denylist=denylist,
    leeway=5,
)
bearer = KeyfobBearer(verifier)
Claims = Annotated[AccessTokenClaims, Depends(bearer)]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await denylist.aclose()


api = FastAPI(title="keyfob-protected example API", lifespan=lifespan)
install_error_handler(api)


@api.get("/")
async def index() -> dict[str, str]:
    """Open: how to call the rest."""
    return {
        "keyfob": KEYFOB_URL,
        "try": "GET /items with 'Authorization: Bearer <access token from keyfob>'",
    }


@api.get("/health")
async def health() -> dict[str, str]:
    """Open: liveness."""
    return {"status": "ok"}


@api.get("/items")
async def items(request: Request) -> dict[str, Any]:
    """Guarded by the middleware: the claims are on ``request.state.keyfob``."""
    claims = claims_of(request)
    return {"owner": claims.subject, "address": claims.address, "items": ["a", "b"]}


@api.get("/public/profile")
async def profile(claims: Claims) -> dict[str, Any]:
    """Allowlisted in the middleware, guarded by the FastAPI dependency instead."""
    return {
        "sub": claims.subject,
        "chain": claims.chain,
        "address": claims.address,
        "amr": list(claims.amr),
        "expires_at": claims.expires_at,
    }


guarded = KeyfobAuthMiddleware(
    api,
    verifier=verifier,
    allow=["/", "/health", "/docs", "/docs/*", "/openapi.json", "/public/*"],
)
# CORS outside the guard: a preflight carries no token, so it is answered before the guard
# asks for one, and the guard's 401s reach the app's script (which refreshes and tries again).
app = CORSMiddleware(guarded, allow_origins=CORS_ORIGINS, allow_headers=["Authorization"])
