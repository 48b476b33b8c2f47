"""``/docs``: Swagger UI from keyfob's own origin, under the pages' strict CSP.

FastAPI's default ``/docs`` loads its script and stylesheet from cdn.jsdelivr.net and starts
with an inline script; these tests fail against it (other host, inline code, no CSP).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.server.conftest import Server
from tests.server.pages.test_hosted_pages import STRICT_CSP

_REFERENCE = re.compile(r'\b(?:src|href)="([^"]*)"')


async def test_docs_page_references_only_its_own_origin(server: Server) -> None:
    page = await server.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == STRICT_CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    references = _REFERENCE.findall(page.text)
    assert len(references) >= 3, page.text
    for reference in references:
        parts = urlsplit(reference)
        assert not parts.scheme, reference
        assert not parts.netloc, reference
        assert reference.startswith("/"), reference
    assert "//" not in page.text.replace("<!doctype html>", "")
    assert "<script>" not in page.text  # no inline script: every <script> has a src
    assert "<style" not in page.text
    assert "style=" not in page.text


async def test_docs_assets_are_served(server: Server) -> None:
    page = await server.client.get("/docs")
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for reference in _REFERENCE.findall(page.text):
        asset = await server.client.get(reference)
        assert asset.status_code == 200, reference
        kind = next(kind for suffix, kind in kinds.items() if reference.endswith(suffix))
        assert kind in asset.headers["content-type"], reference
        assert asset.headers["x-content-type-options"] == "nosniff"
    bundle = await server.client.get("/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    openapi = await server.client.get(re.findall(r'data-openapi-url="([^"]+)"', page.text)[0])
    assert openapi.json()["info"]["title"] == "keyfob"
    assert (await server.client.get("/docs/assets/nope.js")).status_code == 404
