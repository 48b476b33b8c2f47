"""The JSON API's errors: ``{"error": code, "message": sentence}``, from FastAPI or from ASGI.

:func:`render_error` is the API's renderer for :class:`~keyfob.server.infra.errors.ErrorRendering`
(which also answers this way for every path no other surface claims); :func:`send_error` is
the same answer for the fast path, which runs before FastAPI.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keyfob.server.infra.middleware import Send, send_json_error


def error_headers(status: int, code: str) -> dict[str, str]:
    """Extra headers of an error response: a 401 says which Bearer error it was (RFC 6750)."""
    return {"WWW-Authenticate": f'Bearer error="{code}"'} if status == 401 else {}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """Build the JSON error body every keyfob error uses."""
    headers = error_headers(status, code)
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    """The API's renderer: the JSON error body (the request does not change it)."""
    return error_response(status, code, message)


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer with the JSON error body straight from ASGI, headers included."""
    await send_json_error(send, status, code, message, error_headers(status, code))
