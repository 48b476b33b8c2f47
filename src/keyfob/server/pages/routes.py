"""The hosted pages' route table: every page and page endpoint declared once, here.

:func:`install` adds them to the app (out of the OpenAPI document: they are pages and the
endpoints their scripts call, not API), with the static files at ``/static`` (the operator's
generated stylesheets before them) and ``/docs``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from keyfob.server.pages import branding, docs, hosted, hosted_account, hosted_admin
from keyfob.server.pages.render import mount_static

#: The paths a browser opens here (pages, and the calls of their scripts): on the public URL's
#: host only (:mod:`keyfob.server.infra.public_host`).
BROWSER_PREFIXES = ("/auth/login/", "/auth/registration/", "/auth/logout/")

HOSTED, ADMIN_SIGN_IN, ACCOUNT = ("hosted pages",), ("admin sign-in",), ("account sign-in",)
BRANDING = ("branding",)

ROUTES: tuple[tuple[str, str, Callable[..., Awaitable[Any]], tuple[str, ...]], ...] = (
    # Client apps' pages (seed 003).
    ("GET", "/auth/login/{client_id}", hosted.login_page, HOSTED),
    ("POST", "/auth/login/{client_id}/passkey/options", hosted.login_options, HOSTED),
    ("POST", "/auth/login/{client_id}/passkey", hosted.login_passkey, HOSTED),
    ("POST", "/auth/login/{client_id}/wallet", hosted.login_wallet, HOSTED),
    ("GET", "/auth/registration/{client_id}", hosted.registration_page, HOSTED),
    ("POST", "/auth/registration/{client_id}/options", hosted.registration_options, HOSTED),
    ("POST", "/auth/registration/{client_id}/verify", hosted.registration_verify, HOSTED),
    ("GET", "/auth/logout/{client_id}", hosted.logout, HOSTED),
    # The admin panel's sign-in and enrolment pages.
    ("GET", "/admin/login", hosted_admin.admin_login_page, ADMIN_SIGN_IN),
    ("POST", "/admin/login/passkey/options", hosted_admin.admin_login_options, ADMIN_SIGN_IN),
    ("POST", "/admin/login/passkey", hosted_admin.admin_login_passkey, ADMIN_SIGN_IN),
    ("POST", "/admin/login/wallet", hosted_admin.admin_login_wallet, ADMIN_SIGN_IN),
    ("GET", "/admin/enroll", hosted_admin.enroll_page, ADMIN_SIGN_IN),
    ("POST", "/admin/enroll/options", hosted_admin.enroll_options, ADMIN_SIGN_IN),
    ("POST", "/admin/enroll/verify", hosted_admin.enroll_verify, ADMIN_SIGN_IN),
    # The account page's sign-in.
    ("GET", "/account/login", hosted_account.account_login_page, ACCOUNT),
    (
        "POST",
        "/account/login/passkey/options",
        hosted_account.account_login_options,
        ACCOUNT,
    ),
    ("POST", "/account/login/passkey", hosted_account.account_login_passkey, ACCOUNT),
    ("POST", "/account/login/wallet", hosted_account.account_login_wallet, ACCOUNT),
    # The operator's stylesheets (KEYFOB_ACCENT_COLOR, KEYFOB_EXTRA_CSS), ahead of /static.
    ("GET", branding.BRAND_CSS, branding.brand_css, BRANDING),
    ("GET", branding.EXTRA_CSS, branding.extra_css, BRANDING),
)


def install(app: FastAPI) -> None:
    """Add the hosted pages of :data:`ROUTES`, the static files and ``/docs`` to ``app``."""
    router = APIRouter(include_in_schema=False)
    for method, path, endpoint, tags in ROUTES:
        router.add_api_route(path, endpoint, methods=[method], tags=list(tags))
    app.include_router(router)
    mount_static(app)
    docs.install(app)
