"""The HTML error pages of the hosted pages and the admin panel, and which requests get one.

A browser loading a page (a GET, or an HTML form posting to one) under the pages' paths gets
its error as a readable page: :func:`wants_page` is this surface's claim and
:func:`render_error` its renderer in :class:`~keyfob.server.infra.errors.ErrorRendering`. The
pages' JSON endpoints, which their scripts call, keep JSON errors.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from keyfob.errors import KeyfobError, WrongHost
from keyfob.server.pages.i18n import N_, catalog, request_locale
from keyfob.server.pages.render import render

_TITLES = {
    400: N_("This link cannot be used"),
    401: N_("Sign-in failed"),
    403: N_("Access denied"),
    404: N_("Not found"),
    409: N_("Already taken"),
    413: N_("Too large"),
    421: N_("Open keyfob at its own address"),
    422: N_("This link is incomplete"),
    429: N_("Slow down"),
}
_SERVER_ERROR, _REFUSED = N_("Something went wrong"), N_("Request refused")


def error_page(request: Request, error: KeyfobError) -> HTMLResponse:
    """A readable page for ``error``: its sentence and status, never a traceback; the title in
    the page's language, the sentence as
    :meth:`~keyfob.server.pages.i18n.Catalog.error_sentence` finds it."""
    status = error.status if 400 <= error.status < 600 else 400
    title = _TITLES.get(status, _SERVER_ERROR if status >= 500 else _REFUSED)
    message = catalog(request_locale(request)).error_sentence(error.code, error.message)
    context = {"title": title, "message": message, "code": error.code}
    return render(request, "message.html", context, status=status)


def wrong_host_page(request: Request, error: WrongHost) -> HTMLResponse:
    """The page for a browser that opened keyfob under another name: the sentence, and a link
    to ``error.url``, the page under the public URL."""
    context = {
        "title": _TITLES[421],
        "message": error.message,
        "code": error.code,
        "open_url": error.url,
    }
    return render(request, "message.html", context, status=error.status)


ACCOUNT_LOGIN = "/account/login"  # the account page's sign-in; the rest of /account is its own
_PAGE_PREFIXES = ("/auth/login/", "/auth/registration/", "/auth/logout/", "/admin/", ACCOUNT_LOGIN)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def wants_page(request: Request) -> bool:
    """True for a browser loading a hosted page (a GET, or an HTML form posting to one):
    its errors are HTML pages. The pages' JSON endpoints keep JSON errors."""
    path = request.url.path
    if not (path == "/admin" or path.startswith(_PAGE_PREFIXES)):
        return False
    return is_browser_navigation(request)


def is_browser_navigation(request: Request) -> bool:
    """True for a GET or HEAD, or a POST of an HTML form: what a browser shows as a page."""
    if request.method in ("GET", "HEAD"):
        return True
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method == "POST" and content_type in _FORM_TYPES


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    """The pages' renderer: :func:`error_page` for an error of this status, code and sentence."""
    error = KeyfobError(message, code=code)
    error.status = status
    return error_page(request, error)
