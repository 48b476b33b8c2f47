"""The admin panel's route table: ``install(app)`` adds them (out of the OpenAPI schema).

Its sign-in and enrolment pages are hosted pages (:mod:`keyfob.server.pages.hosted_admin`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from keyfob.server.admin import audit_log, clients, users
from keyfob.server.admin.guard import LOGIN_PATH, admin_endpoint, admin_form, current_admin
from keyfob.server.admin.views import see_other
from keyfob.server.services.sso import current_sso, end_sso_session, sso_session_ended


@admin_endpoint
async def home(request: Request) -> Response:
    """``GET /admin``: after checking who is asking, the client list."""
    await current_admin(request)
    return see_other("/admin/clients")


@admin_endpoint
async def sign_out(request: Request) -> Response:
    """``POST /admin/sign-out`` (CSRF-checked): end the admin's SSO session, audited, and
    with it the OpenID Connect grants it started (their clients told by back-channel)."""
    admin, _ = await admin_form(request)
    response = see_other(LOGIN_PATH)
    sso = await current_sso(request, admin.runtime)
    await end_sso_session(request, admin.runtime, response)
    if sso is not None:  # the session admin_form found, unless it ended in between
        await sso_session_ended(admin.runtime, sso)
    await admin.audit("sign_out", user_id=admin.user.id)
    return response


#: The panel and its sign-in, every one a browser's page or its script's call: on the public
#: URL's host only (:mod:`keyfob.server.infra.public_host`).
BROWSER_PREFIXES = ("/admin",)
GET, POST = ["GET"], ["POST"]
ROUTES = (
    ("/admin", home, GET),
    ("/admin/sign-out", sign_out, POST),
    ("/admin/clients", clients.list_clients, GET),
    ("/admin/clients/new", clients.new_client, GET),
    ("/admin/clients/new", clients.add_client, POST),
    ("/admin/clients/{client_id}", clients.edit_client, GET),
    ("/admin/clients/{client_id}", clients.update_client, POST),
    ("/admin/clients/{client_id}/rotate", clients.rotate_secret, POST),
    ("/admin/clients/{client_id}/delete", clients.confirm_delete, GET),
    ("/admin/clients/{client_id}/delete", clients.delete_client, POST),
    ("/admin/users", users.search_users, GET),
    ("/admin/users/{user_id}", users.show_user, GET),
    ("/admin/users/{user_id}/disable", users.disable_user, POST),
    ("/admin/users/{user_id}/enable", users.enable_user, POST),
    ("/admin/users/{user_id}/delete", users.confirm_delete, GET),
    ("/admin/users/{user_id}/delete", users.delete_user, POST),
    ("/admin/users/{user_id}/grant", users.grant_permission, POST),
    ("/admin/users/{user_id}/revoke", users.revoke_permission, POST),
    ("/admin/users/{user_id}/make-admin", users.make_admin, POST),
    ("/admin/users/{user_id}/remove-admin", users.remove_admin, POST),
    ("/admin/users/{user_id}/methods/{identity_id}/remove", users.remove_method, POST),
    ("/admin/users/{user_id}/recovery-link", users.recovery_link, POST),
    ("/admin/settings", audit_log.show_settings, GET),
    ("/admin/settings", audit_log.save_settings, POST),
    ("/admin/audit", audit_log.audit_log, GET),
)


def install(app: Starlette) -> None:
    """Add the admin panel's pages of :data:`ROUTES` to ``app``."""
    for path, endpoint, methods in ROUTES:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)
