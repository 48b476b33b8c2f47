"""The benchmark's protected app: one Starlette route behind ``KeyfobAuthMiddleware``.

``GET /protected`` needs a keyfob access token (verified against keyfob's JWKS) and answers with
its subject; ``GET /public`` is allowlisted, so it measures the app without the guard.

    python bench/protected_app.py --port 8100 --keyfob-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyfob.integrations.asgi import KeyfobAuthMiddleware, claims_of
from keyfob.integrations.verifier import TokenVerifier


async def protected(request: Request) -> JSONResponse:
    """Who the token belongs to."""
    return JSONResponse({"sub": claims_of(request).subject})


async def public(request: Request) -> JSONResponse:
    """No token needed."""
    return JSONResponse({"sub": None})


def create_app(keyfob_url: str, *, cache_size: int | None = None) -> KeyfobAuthMiddleware:
    """The guarded app for tokens issued (and audienced) by ``keyfob_url``."""
    jwks_url = f"{keyfob_url}/.well-known/jwks.json"
    if cache_size is None:
        verifier = TokenVerifier(issuer=keyfob_url, audience=keyfob_url, jwks_url=jwks_url)
    else:
        verifier = TokenVerifier(
            issuer=keyfob_url, audience=keyfob_url, jwks_url=jwks_url, cache_size=cache_size
        )
    app = Starlette(routes=[Route("/protected", protected), Route("/public", public)])
    return KeyfobAuthMiddleware(app, verifier=verifier, allow=["/public", "/healthz"])


def main() -> None:
    """Serve the app with uvicorn, one worker."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--keyfob-url", default="http://127.0.0.1:8000")
    parser.add_argument("--cache-size", type=int, help="TokenVerifier cache_size (0: off)")
    args = parser.parse_args()
    app = create_app(args.keyfob_url, cache_size=args.cache_size)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
