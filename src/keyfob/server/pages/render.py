"""Server-rendered pages: one Jinja2 environment, strict security headers, the static files.

Pages load nothing from other hosts and carry no inline script or style, so the
Content-Security-Policy can forbid everything but our own origin; the only exception is
``form-action``, which names the client app's origin when a token is delivered by form post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyfob.errors import Forbidden, KeyfobError
from keyfob.server.infra.runtime import Runtime

STATIC_DIR = Path(__file__).parent / "static"

environment = Environment(
    loader=PackageLoader("keyfob.server.pages", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def content_security_policy(form_action: Iterable[str] = ()) -> str:
    """The pages' CSP: our origin only; ``form_action`` adds origins forms may post to."""
    targets = " ".join(["'self'", *form_action])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


def security_headers(form_action: Iterable[str] = ()) -> dict[str, str]:
    """Headers every page (and every redirect carrying a token) is sent with."""
    return {
        "Content-Security-Policy": content_security_policy(form_action),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    form_action: Iterable[str] = (),
) -> HTMLResponse:
    """Render ``template`` with ``context`` (plus ``request``) into a page with safe headers."""
    html = environment.get_template(template).render({"request": request, **(context or {})})
    return HTMLResponse(html, status_code=status, headers=security_headers(form_action))


class NoSniff:
    """Adds ``X-Content-Type-Options: nosniff`` to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with)


def check_same_origin(request: Request, origin: str, refusal: KeyfobError) -> None:
    """Raise ``refusal`` for a POST another site made the browser send (login CSRF, CSRF).

    Browsers send ``Origin`` with every POST. Our pages have ``Referrer-Policy: no-referrer``,
    under which a form post carries ``Origin: null``; then only ``Sec-Fetch-Site: same-origin``
    vouches for it. A ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` is refused."""
    sent = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise refusal
    if sent is None or sent == origin or (sent == "null" and site == "same-origin"):
        return
    raise refusal


def mount_static(app: Any) -> None:
    """Serve ``keyfob/server/pages/static`` at ``/static`` (stylesheet and page scripts)."""
    app.mount("/static", NoSniff(StaticFiles(directory=STATIC_DIR)), name="static")


def refuse_cross_site(request: Request, runtime: Runtime) -> None:
    """Refuse a cross-site post to a page endpoint (login CSRF)."""
    refusal = Forbidden("This request did not come from keyfob's own pages.")
    check_same_origin(request, runtime.settings.origin, refusal)
