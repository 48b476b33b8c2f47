"""Where errors become HTTP responses: found once here, rendered by the surface they belong to.

A :class:`KeyfobError`, FastAPI's validation error, Starlette's HTTP error or anything unexpected
becomes a status, a stable ``code`` and a sentence here; :class:`ErrorRendering` hands them to
the renderer of the surface that claims the request (the hosted pages and the admin panel answer
HTML pages), else to the default (the JSON API's ``{"error": code, "message": sentence}``).
:mod:`keyfob.server.infra.app` wires the surfaces' renderers in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from keyfob.errors import KeyfobError

log = logging.getLogger("keyfob")

#: A surface's error renderer: ``(request, status, code, message)`` to a response.
Renderer = Callable[[Request, int, str, str], Response]
#: Whether a request belongs to a surface (its errors are that surface's to render).
Claim = Callable[[Request], bool]

_HTTP_ERRORS = {
    400: ("bad_request", "The request is malformed."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this path."),
    405: ("method_not_allowed", "This path does not accept this HTTP method."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    429: ("rate_limited", "Too many requests; slow down and try again shortly."),
}
UNEXPECTED = "keyfob hit an unexpected error; it was logged."


@dataclass(frozen=True)
class ErrorRendering:
    """The renderers of the surfaces: the first whose claim takes the request renders its
    errors, ``default`` every other request's."""

    default: Renderer
    surfaces: tuple[tuple[Claim, Renderer], ...] = ()

    def respond(self, request: Request, status: int, code: str, message: str) -> Response:
        """The error response for ``request``, rendered by the surface it belongs to."""
        for claims, render in self.surfaces:
            if claims(request):
                return render(request, status, code, message)
        return self.default(request, status, code, message)


def describe_validation(errors: Sequence[Any]) -> str:
    """One sentence naming the first few invalid fields of a pydantic/FastAPI validation error."""
    problems = []
    for error in errors[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "")
        )
    return "Invalid request: " + "; ".join(problems) + "."


def install_error_handlers(app: FastAPI, rendering: ErrorRendering) -> None:
    """Register the mapping above on ``app``, answering through ``rendering``."""
    respond = rendering.respond

    async def keyfob_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KeyfobError)
        if exc.status >= 500:
            log.error("%s: %s", exc.code, exc.message)
        return respond(request, exc.status, exc.code, exc.message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(request, 422, "invalid_request", describe_validation(exc.errors()))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code, sentence = _HTTP_ERRORS.get(exc.status_code, ("http_error", "The request failed."))
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in _HTTP_ERRORS else None
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else sentence
        return respond(request, exc.status_code, code, detail)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return respond(request, 500, "internal_error", UNEXPECTED)

    app.add_exception_handler(KeyfobError, keyfob_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
