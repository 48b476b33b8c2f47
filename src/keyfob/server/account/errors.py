"""The account page's error pages, and which requests get one.

Its forms' errors are rendered by their endpoints (the page again, the message beside the
form, see :mod:`keyfob.server.account.views`); what fails before an endpoint runs (an unknown
path, a refused URL, a wrong method) is a readable page from here. Its scripts' JSON endpoints
keep JSON errors. ``/account/login`` is a hosted page, the pages' own.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.server.account.guard import HOME, LOGIN_PATH
from keyfob.server.pages.errors import is_browser_navigation
from keyfob.server.pages.errors import render_error as page_error


def wants_page(request: Request) -> bool:
    """True for a browser loading an account page or posting one of its forms."""
    path = request.url.path
    if not (path == HOME or path.startswith(HOME + "/")) or path.startswith(LOGIN_PATH):
        return False
    return is_browser_navigation(request)


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    """The account page's renderer: a readable page with the status, code and sentence."""
    return page_error(request, status, code, message)
