"""The operator's branding of the pages: product name, logo, accent colour, extra CSS.

Unset, the pages look as they always have: ``keyfob`` in the header, no logo, keyfob.css
alone. ``KEYFOB_ACCENT_COLOR`` becomes ``/static/brand.css``, a stylesheet generated from it
(the CSP allows no inline style), which sets keyfob.css's ``--accent`` for the light and the
dark scheme, each darkened or lightened just enough to keep 4.5:1 contrast with the card,
and its ``--accent-ink`` (button text) to whichever of white or near-black reads better.
``KEYFOB_EXTRA_CSS`` is served as ``/static/extra.css``, linked after everything else.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from keyfob.core.image_urls import image_source
from keyfob.errors import NotFound
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.infra.settings import Settings

BRAND_CSS = "/static/brand.css"
EXTRA_CSS = "/static/extra.css"
_LIGHT_CARD, _DARK_CARD = "#ffffff", "#161b22"  # keyfob.css's --card of each scheme
_LIGHT_INK, _DARK_INK = "#ffffff", "#0d1117"  # the --accent-ink candidates
_MIN_CONTRAST = 4.5  # WCAG 2 AA for text


@dataclass(frozen=True)
class Branding:
    """What the pages show of the operator's branding."""

    product_name: str = "keyfob"
    logo_url: str | None = None
    stylesheets: tuple[str, ...] = ()  # linked after keyfob.css, in order
    img_sources: tuple[str, ...] = ()  # CSP img-src origins the logo needs
    brand_css: str | None = None


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    linear = []
    for channel in _rgb(color):
        value = channel / 255
        linear.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _mix(color: str, toward: str, share: float) -> str:
    mixed = (round(a + (b - a) * share) for a, b in zip(_rgb(color), _rgb(toward), strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def readable_accent(color: str, card: str) -> str:
    """``color``, mixed toward black (on a light card) or white (on a dark one) in steps of
    5% until it has :data:`_MIN_CONTRAST` with ``card``."""
    toward = "#000000" if _luminance(card) > 0.5 else "#ffffff"
    for step in range(21):
        candidate = _mix(color, toward, step / 20)
        if contrast(candidate, card) >= _MIN_CONTRAST:
            return candidate
    return toward


def accent_ink(accent: str) -> str:
    """The button text colour on ``accent``: white or near-black, whichever contrasts more."""
    return max((_LIGHT_INK, _DARK_INK), key=lambda ink: contrast(ink, accent))


def brand_stylesheet_text(accent: str) -> str:
    """``/static/brand.css`` for the accent colour ``accent`` (``#rrggbb``)."""
    light, dark = readable_accent(accent, _LIGHT_CARD), readable_accent(accent, _DARK_CARD)
    return (
        f"/* KEYFOB_ACCENT_COLOR={accent} */\n"
        f":root {{ --accent: {light}; --accent-ink: {accent_ink(light)}; }}\n"
        "@media (prefers-color-scheme: dark) {\n"
        f"  :root {{ --accent: {dark}; --accent-ink: {accent_ink(dark)}; }}\n"
        "}\n"
    )


@functools.lru_cache(maxsize=8)
def branding(settings: Settings) -> Branding:
    """The branding ``settings`` ask for."""
    stylesheets: list[str] = []
    css = None
    if settings.accent_color is not None:
        css = brand_stylesheet_text(settings.accent_color)
        version = hashlib.sha256(css.encode()).hexdigest()[:12]
        stylesheets.append(f"{BRAND_CSS}?v={version}")
    if settings.extra_css is not None:
        stylesheets.append(EXTRA_CSS)
    logo = settings.logo_url
    source = None if logo is None else image_source(logo)
    return Branding(
        product_name=settings.product_name,
        logo_url=logo,
        stylesheets=tuple(stylesheets),
        img_sources=() if source is None else (source,),
        brand_css=css,
    )


def branding_of(request: Request) -> Branding:
    """The branding of the server answering ``request`` (the defaults before it started)."""
    runtime = getattr(request.app.state, "runtime", None)
    return Branding() if runtime is None else branding(runtime.settings)


_CSS_HEADERS = {"X-Content-Type-Options": "nosniff"}


async def brand_css(runtime: RuntimeDep) -> Response:
    """``GET /static/brand.css``: the accent colour's stylesheet (404 without one); its links
    carry a hash of it, so it may be cached for a day."""
    css = branding(runtime.settings).brand_css
    if css is None:
        raise NotFound("No accent colour is set (KEYFOB_ACCENT_COLOR).")
    headers = {**_CSS_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(css, media_type="text/css", headers=headers)


async def extra_css(runtime: RuntimeDep) -> Response:
    """``GET /static/extra.css``: the operator's ``KEYFOB_EXTRA_CSS`` file (404 without one),
    revalidated on every use, so an edit shows at once."""
    path = runtime.settings.extra_css
    if path is None or not path.is_file():
        raise NotFound("No extra stylesheet is set (KEYFOB_EXTRA_CSS).")
    headers = {**_CSS_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(path, media_type="text/css", headers=headers)
