"""Rendering admin pages: the shared context (admin, CSRF token, flash) and redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from keyfob.server.admin.guard import Admin
from keyfob.server.pages.render import render

# A redirect names what was done by a code, never by free text, so that a crafted link can
# only show one of these sentences.
FLASHES = {
    "client_updated": "The client was saved.",
    "client_deleted": "The client was deleted.",
    "user_disabled": "The user is disabled; all of their sessions and tokens were revoked.",
    "user_enabled": "The user may sign in again.",
    "user_deleted": "The user was deleted.",
    "permission_granted": "Permission granted.",
    "permission_revoked": "Permission revoked.",
    "settings_saved": "The settings were saved.",
    "admin_role_granted": "The user is an admin now.",
    "admin_role_revoked": "The user is no longer an admin.",
    "sign_in_method_removed": "The sign-in method was removed; the sessions it opened ended.",
}


def page(
    request: Request,
    admin: Admin,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render ``admin/<template>`` for ``admin``, with the flash named by ``?done=``."""
    flash = FLASHES.get(request.query_params.get("done", ""))
    values = {"admin": admin.user, "csrf": admin.csrf, "flash": flash, **(context or {})}
    return render(request, f"admin/{template}", values, status=status)


def see_other(path: str, done: str | None = None) -> RedirectResponse:
    """Post/redirect/get: send the browser to ``path`` with a flash code."""
    if done is not None:
        assert done in FLASHES, done
        path = f"{path}?{urlencode({'done': done})}"
    return RedirectResponse(path, status_code=303)
