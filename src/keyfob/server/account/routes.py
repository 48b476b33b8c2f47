"""The account page's route table: ``install(app)`` adds them (out of the OpenAPI schema).

Its sign-in page is a hosted page (:mod:`keyfob.server.pages.hosted_account`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from keyfob.server.account import (
    adding,
    changes,
    confirm,
    home,
    recover,
    recovery_codes,
    sessions,
)

#: The account page and its sign-in: on the public URL's host only
#: (:mod:`keyfob.server.infra.public_host`).
BROWSER_PREFIXES = ("/account",)
GET, POST = "GET", "POST"
ROUTES: tuple[tuple[str, str, Callable[..., Awaitable[Any]]], ...] = (
    (GET, "/account", home.home),
    (POST, "/account/sign-out", home.sign_out),
    # The page script's calls (X-CSRF-Token): the step-up ceremony, then adding a method.
    (POST, "/account/step-up/options", confirm.step_up_options),
    (POST, "/account/step-up/verify", confirm.step_up_verify),
    (POST, "/account/passkeys/options", adding.passkey_options),
    (POST, "/account/passkeys/verify", adding.passkey_verify),
    (POST, "/account/wallets", adding.wallet_link),
    # Forms (csrf field), each behind the step-up grant.
    (POST, "/account/passkeys/{identity_id}/rename", changes.rename),
    (POST, "/account/methods/{identity_id}/remove", changes.remove),
    (POST, "/account/recovery-codes", recovery_codes.generate_codes),
    # Account recovery's sign-in (no session yet: same-origin checked, rate limited).
    (GET, "/account/recover", recover.recover_page),
    (POST, "/account/recover", recover.recover),
    (GET, "/account/recover/link", recover.link_page),
    (POST, "/account/recover/link", recover.redeem_link),
    (POST, "/account/sessions/end", sessions.end_one),
    (POST, "/account/sessions/end-all", sessions.end_all),
    (POST, "/account/apps/revoke", sessions.revoke_app),
)


def install(app: FastAPI) -> None:
    """Add the account page's routes of :data:`ROUTES` to ``app``."""
    router = APIRouter(include_in_schema=False)
    for method, path, endpoint in ROUTES:
        router.add_api_route(path, endpoint, methods=[method])
    app.include_router(router)
