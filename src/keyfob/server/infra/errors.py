"""The one place where errors become HTTP responses: ``{"error": code, "message": sentence}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from keyfob.errors import KeyfobError
from keyfob.server.pages import error_page

log = logging.getLogger("keyfob")

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


def error_headers(status: int, code: str) -> dict[str, str]:
    """Extra headers of an error response: a 401 says which Bearer error it was (RFC 6750)."""
    return {"WWW-Authenticate": f'Bearer error="{code}"'} if status == 401 else {}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """Build the JSON error body every keyfob error uses."""
    headers = error_headers(status, code)
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def describe_validation(errors: Sequence[Any]) -> str:
    """One sentence naming the first few invalid fields of a pydantic/FastAPI validation error."""
    problems = []
    for error in errors[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "")
        )
    return "Invalid request: " + "; ".join(problems) + "."


_PAGE_PREFIXES = ("/auth/login/", "/auth/registration/", "/auth/logout/", "/admin/")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def wants_page(request: Request) -> bool:
    """True for a browser loading a hosted page (a GET, or an HTML form posting to one):
    its errors are HTML pages. The pages' JSON endpoints keep JSON errors."""
    path = request.url.path
    if not (path == "/admin" or path.startswith(_PAGE_PREFIXES)):
        return False
    if request.method in ("GET", "HEAD"):
        return True
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method == "POST" and content_type in _FORM_TYPES


def _respond(request: Request, status: int, code: str, message: str) -> Response:
    if wants_page(request):
        error = KeyfobError(message, code=code)
        error.status = status
        return error_page(request, error)
    return error_response(status, code, message)


async def _keyfob_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KeyfobError)
    if exc.status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return _respond(request, exc.status, exc.code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _respond(request, 422, "invalid_request", describe_validation(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, sentence = _HTTP_ERRORS.get(exc.status_code, ("http_error", "The request failed."))
    phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in _HTTP_ERRORS else None
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else sentence
    return _respond(request, exc.status_code, code, detail)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    message = "keyfob hit an unexpected error; it was logged."
    return _respond(request, 500, "internal_error", message)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    app.add_exception_handler(KeyfobError, _keyfob_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
