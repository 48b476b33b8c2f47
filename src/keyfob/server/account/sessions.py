"""The account page's sessions and connected apps: end one session, sign out everywhere,
disconnect an app (``POST /account/sessions/end``, ``/account/sessions/end-all``,
``/account/apps/revoke``).

Ending sessions takes nothing away from the account, so it needs no fresh proof (no step-up),
only the CSRF token and Origin check of every form; every action is audited. Ending this
browser's own session, or every session, signs this browser out: it goes to the sign-in page.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.server.account.guard import LOGIN_PATH, holder_form
from keyfob.server.account.views import page_endpoint, see_other
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.account_sessions import end_session, sign_out_everywhere
from keyfob.server.services.connected_apps import disconnect_app
from keyfob.server.services.sso import end_sso_session


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _signed_out(request: Request, runtime: Runtime) -> RedirectResponse:
    """To the sign-in page, this browser's SSO cookie cleared (its session is already gone)."""
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    await end_sso_session(request, runtime, response)
    return response


@page_endpoint
async def end_one(request: Request) -> Response:
    """``POST /account/sessions/end`` (``session``: an id the page lists): end that session;
    404 for one the holder does not have. Audited as ``account.session_ended``."""
    holder, form = await holder_form(request)
    ended = await end_session(
        holder.runtime, holder.user, _field(form, "session"), current=holder.sso.token_hash
    )
    await holder.audit("account.session_ended", session=ended.id, kind=ended.kind)
    if ended.current:
        return await _signed_out(request, holder.runtime)
    return see_other("session_ended")


@page_endpoint
async def end_all(request: Request) -> Response:
    """``POST /account/sessions/end-all``: sign out everywhere, this browser included.
    Audited as ``account.signed_out_everywhere`` with what ended."""
    holder, _ = await holder_form(request)
    ended = await sign_out_everywhere(holder.runtime, holder.user)
    await holder.audit(
        "account.signed_out_everywhere",
        sessions=ended.sessions,
        browsers=ended.browsers,
        grants=ended.grants,
    )
    return await _signed_out(request, holder.runtime)


@page_endpoint
async def revoke_app(request: Request) -> Response:
    """``POST /account/apps/revoke`` (``client_id``): disconnect that app; 404 for one not
    connected. Audited as ``account.app_revoked``."""
    holder, form = await holder_form(request)
    client_id = _field(form, "client_id")
    done = await disconnect_app(holder.runtime, holder.user.id, client_id)
    await holder.audit(
        "account.app_revoked", client_id=client_id, consent=done.consent, grants=done.grants
    )
    return see_other("app_revoked")
