"""``GET /account`` and ``POST /account/sign-out``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.server.account.guard import LOGIN_PATH, current_holder, holder_form
from keyfob.server.account.views import account_page, page_endpoint
from keyfob.server.services.sso import end_sso_session, sso_session_ended


@page_endpoint
async def home(request: Request) -> Response:
    """``GET /account``: the holder's sign-in methods, sessions and connected apps."""
    return await account_page(request, await current_holder(request))


@page_endpoint
async def sign_out(request: Request) -> Response:
    """``POST /account/sign-out`` (CSRF-checked): end this browser's SSO session and the OpenID
    Connect grants it started (their clients told by back-channel); audited."""
    holder, _ = await holder_form(request)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    await end_sso_session(request, holder.runtime, response)
    await sso_session_ended(holder.runtime, holder.sso)
    await holder.audit("sso_logout")
    return response
