"""What keyfob accepts in the strings that reach its queries, checked at the edge.

PostgreSQL refuses a NUL byte in text with a server error and SQLite stores it; an over-long
value fails an insert on PostgreSQL only. So no string reaches the store unchecked:

- :class:`UrlGuardMiddleware` refuses, before routing, any URL whose path holds a character
  outside RFC 3986's unreserved set (letters, digits, ``- . _ ~``) and ``/``, whose query holds
  a control character (C0, DEL, C1) or bytes that are not UTF-8, or that is over-long: 400
  ``invalid_url``, as a JSON error or, for a browser loading a page, an HTML error page. Every
  path parameter keyfob has is an id (uuid4) or a base64url thumbprint, so this is the charset
  check of every path parameter and the control-character check of every query parameter, on
  every surface (JSON API, hosted pages, admin panel), including routes added later.
- The body types below (usernames, thumbprints, tokens, free text) give 422
  ``invalid_request`` through the request models, every one a :class:`Body`.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import unquote_to_bytes

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from keyfob.errors import InvalidRequest, InvalidUrl, KeyfobError
from keyfob.server.infra.errors import ErrorRendering

#: C0 controls, DEL and C1 controls: no keyfob value holds one.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Longest path and query string keyfob answers (its own URLs are far shorter).
MAX_PATH, MAX_QUERY = 2048, 8192
#: 1 to 64 letters, digits or ``. _ @ + -``, starting with a letter or digit.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
#: Every keyfob path, percent-decoded: segments of unreserved characters.
_PATH = re.compile(r"[A-Za-z0-9._~/-]*")


def no_control(text: str) -> str:
    """``text`` if it holds no control character and no lone surrogate, else ValueError."""
    if CONTROL.search(text):
        raise ValueError("must not contain control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


def no_control_but_newlines(text: str) -> str:
    """As :func:`no_control`, but line feeds are allowed (sign-in messages are multi-line)."""
    no_control(text.replace("\n", " "))
    return text


def url_safe(text: str) -> str:
    """``text`` if it is base64url / ``token_urlsafe`` text (letters, digits, ``-``, ``_``)."""
    if not _URL_SAFE.fullmatch(text):
        raise ValueError("must be letters, digits, - and _ only")
    return text


def username(text: str) -> str:
    """``text`` if it is a valid username (the whole string: ``"alice\\n"`` is not)."""
    if not USERNAME.fullmatch(text):
        raise ValueError(
            "a username is 1 to 64 letters, digits or . _ @ + - and starts with a letter or digit"
        )
    return text


Text = Annotated[str, AfterValidator(no_control)]
MessageText = Annotated[str, AfterValidator(no_control_but_newlines)]
Username = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(username)]
UrlSafe = Annotated[str, AfterValidator(url_safe)]
#: An RFC 7638 thumbprint as keyfob writes it (base64url SHA-256), bounded by its column.
Thumbprint = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(url_safe)]


def check_form(form: FormData) -> None:
    """Raise :class:`InvalidRequest` if a text field of ``form`` holds a control character
    other than the line breaks of a multi-line field (the admin panel's forms)."""
    for _, value in form.multi_items():
        if isinstance(value, str) and CONTROL.search(value.replace("\r\n", "").replace("\n", "")):
            raise InvalidRequest("A field of this form holds control characters; remove them.")


def url_problem(scope: Scope) -> str | None:
    """Why the request's URL is refused, or None if it is acceptable."""
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if len(path) > MAX_PATH or len(query) > MAX_QUERY:
        return "The URL is too long."
    try:
        decoded_query = unquote_to_bytes(query).decode("utf-8")
    except UnicodeDecodeError:
        return "The URL's query is not UTF-8 text."
    if not _PATH.fullmatch(path):
        return "The URL's path holds characters no keyfob URL has."
    if CONTROL.search(decoded_query):
        return "The URL's query holds control characters."
    return None


class UrlGuardMiddleware:
    """Refuse URLs :func:`url_problem` finds fault with, in the answering surface's format."""

    def __init__(self, app: ASGIApp, *, errors: ErrorRendering) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = url_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        error: KeyfobError = InvalidUrl(problem)
        request = Request(scope, receive)
        response = self.errors.respond(request, error.status, error.code, error.message)
        await response(scope, receive, send)


class Body(BaseModel):
    """Base: camelCase aliases, unknown fields refused, strings bounded."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_max_length=16384
    )
