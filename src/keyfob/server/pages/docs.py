"""``GET /docs``: Swagger UI served by keyfob itself, nothing loaded from a CDN.

FastAPI's own ``/docs`` loads Swagger UI's script and stylesheet from a CDN and starts it with
an inline script; a compromised CDN would run its code on keyfob's origin. Here the files come
from the ``fastapi-offline`` package (Swagger UI's dist files, pinned by the package version)
under ``/docs/assets``, the page is started by ``/static/docs.js``, and the page carries the
same strict Content-Security-Policy as every keyfob page (``'self'`` only, no inline code).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from keyfob.server.pages.render import NoSniff, render

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` and its files at ``/docs/assets`` (FastAPI's own ``/docs``
    must be off: ``docs_url=None``)."""
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs_page(request: Request) -> HTMLResponse:
        context = {"title": title, "assets": ASSETS_PATH, "openapi_url": openapi_url}
        return render(request, "docs.html", context)

    app.add_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, NoSniff(StaticFiles(directory=ASSETS_DIR)), name="docs-assets")
