"""How the OpenID Connect endpoints answer errors: RFC 6749 §5.2 JSON, RFC 6750 challenges.

Every JSON endpoint of this surface is wrapped by :func:`oauth_errors`, so a failure is
``{"error": code, "error_description": sentence}`` with ``Cache-Control: no-store``: 401 and a
``WWW-Authenticate`` challenge for client authentication (``Basic``) and bearer tokens
(``Bearer``), 400 for the rest. keyfob's own codes map onto the RFC's: a malformed request is
``invalid_request``, a storage outage ``temporarily_unavailable`` (503).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    KeyfobError,
    OAuthError,
    RateLimited,
)

log = logging.getLogger("keyfob")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Endpoint = Callable[[Request], Awaitable[Response]]


def oauth_error_code(error: KeyfobError) -> tuple[int, str]:
    """The HTTP status and RFC 6749 / RFC 6750 error code that stand for ``error``."""
    if isinstance(error, OAuthError | InvalidGrant):
        return error.status, error.code
    if isinstance(error, InvalidToken):
        return 401, "invalid_token"
    if isinstance(error, RateLimited):
        return 429, "slow_down"
    if isinstance(error, InvalidRequest) or 400 <= error.status < 500:
        return 400, "invalid_request"
    return 503, "temporarily_unavailable"


def oauth_error_response(error: KeyfobError, *, challenge: str | None = None) -> JSONResponse:
    """The JSON error answer of a token, revocation, introspection or userinfo request."""
    status, code = oauth_error_code(error)
    headers = dict(NO_STORE)
    if status == 401:
        scheme = challenge or ("Bearer" if code == "invalid_token" else "Basic")
        if scheme == "Bearer":
            headers["WWW-Authenticate"] = f'Bearer error="{code}"'
        else:
            headers["WWW-Authenticate"] = 'Basic realm="keyfob"'
    body = {"error": code, "error_description": error.message}
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_errors(endpoint: Endpoint) -> Endpoint:
    """Render any :class:`KeyfobError` ``endpoint`` raises as an RFC 6749 error; log and
    answer ``server_error`` for anything else (never a traceback)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except KeyfobError as exc:
            if exc.status >= 500:
                log.error("%s on %s: %s", exc.code, request.url.path, exc.message)
            return oauth_error_response(exc)
        except Exception:
            log.exception("unexpected error on %s", request.url.path)
            body = {
                "error": "server_error",
                "error_description": "keyfob hit an error; it was logged.",
            }
            return JSONResponse(body, status_code=500, headers=NO_STORE)

    return wrapped
