"""Server-rendered pages: one Jinja2 environment, strict security headers, the static files.

Pages load nothing from other hosts and carry no inline script or style, so the
Content-Security-Policy can forbid everything but our own origin; the exceptions are
``form-action``, which names the client app's origin when a token is delivered by form post,
and ``img-src``, which names the origin of the operator's logo (``KEYFOB_LOGO_URL``) and, on a
client's sign-in and consent pages, of that client's logo. Each page is rendered in the
language of :mod:`keyfob.server.pages.i18n`; its scripts' strings travel in a
``<script type="application/json">`` block, data the CSP does not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyfob.core.image_urls import image_source
from keyfob.errors import Forbidden, KeyfobError
from keyfob.server.infra.runtime import Runtime
from keyfob.server.pages.branding import branding_of
from keyfob.server.pages.i18n import DEFAULT_LOCALE, LOCALES, catalog, request_locale

STATIC_DIR = Path(__file__).parent / "static"

#: Templates not translated: rendered in English whatever the browser asks (the admin panel,
#: see docs/translations.md).
UNTRANSLATED = ("admin/",)


def _environment(locale: str) -> Environment:
    """The templates with ``locale``'s catalog: ``{% trans %}`` and ``_()`` for the strings
    written in them, the ``translated`` filter for a sentence handed in (looked up as it is,
    never %-formatted)."""
    environment = Environment(
        loader=PackageLoader("keyfob.server.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.policies["ext.i18n.trimmed"] = True
    translations = catalog(locale).translations
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]

    def translated(text: object) -> object:
        return translations.gettext(text) if isinstance(text, str) and text else text

    environment.filters["translated"] = translated
    return environment


ENVIRONMENTS = {locale: _environment(locale) for locale in LOCALES}
environment = ENVIRONMENTS[DEFAULT_LOCALE]


def content_security_policy(form_action: Iterable[str] = (), img_src: Iterable[str] = ()) -> str:
    """The pages' CSP: our origin only; ``form_action`` adds origins forms may post to,
    ``img_src`` origins images may come from (the operator's and a client's logo)."""
    targets = " ".join(["'self'", *form_action])
    images = " ".join(["'self'", "data:", *dict.fromkeys(img_src)])
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
        f"connect-src 'self'; form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


def security_headers(
    form_action: Iterable[str] = (), img_src: Iterable[str] = ()
) -> dict[str, str]:
    """Headers every page (and every redirect carrying a token) is sent with."""
    return {
        "Content-Security-Policy": content_security_policy(form_action, img_src),
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
    ui_locales: Sequence[str] = (),
    client_logo: str | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``context`` into a page with safe headers, in the language
    :func:`~keyfob.server.pages.i18n.request_locale` picks (``ui_locales`` first), with the
    operator's branding; ``client_logo`` (a client's checked ``logo_uri``) is shown above the
    heading of pages that have one, its origin added to the page's ``img-src``."""
    translated = not template.startswith(UNTRANSLATED)
    locale = request_locale(request, ui_locales) if translated else DEFAULT_LOCALE
    brand = branding_of(request)
    page = {
        "request": request,
        "locale": locale,
        "brand": brand,
        "product": brand.product_name,
        "script_strings": catalog(locale).script_strings,
        "client_logo": client_logo,
        **(context or {}),
    }
    html = ENVIRONMENTS[locale].get_template(template).render(page)
    logo_source = None if client_logo is None else image_source(client_logo)
    images = (*brand.img_sources, *([logo_source] if logo_source else []))
    headers = security_headers(form_action, images)
    return HTMLResponse(html, status_code=status, headers=headers)


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
