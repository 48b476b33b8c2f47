"""``/docs`` in Chromium: Swagger UI renders the API under the strict CSP, talking only to
keyfob (plain sync tests, see tests/browser_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.browser_fixtures import LiveKeyfob

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_docs_render_with_no_other_host_and_no_csp_violation(
    live_keyfob: Callable[..., LiveKeyfob], chromium: Browser
) -> None:
    live = live_keyfob()
    context = chromium.new_context()
    try:
        page = context.new_page()
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{live.url}/docs")
        page.locator(".opblock-summary-path", has_text="/auth/login").first.wait_for()
        assert page.locator(".opblock").count() >= 10
        assert problems == []
        assert len(requested) >= 4
        assert all(url.startswith(live.url + "/") for url in requested), requested
    finally:
        context.close()
