"""The account page's step-up grant: a cookie bound to the browser's SSO session.

A change to the account's sign-in methods (or its recovery codes) needs a fresh proof from a
credential already on it (:mod:`keyfob.server.services.step_up`). On the account page the grant
lives in an HttpOnly cookie of :data:`COOKIE` for ``KEYFOB_STEP_UP_TTL`` seconds, made for the
page's own audience (so an account-API grant is worthless here and the other way round) and for
this SSO session only.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from keyfob.core.step_up import StepUpGrant
from keyfob.server.account.guard import Holder
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.sso import SsoContext
from keyfob.server.services.step_up import check_grant, grant_step_up

COOKIE = "keyfob_account_step_up"
PATH = "/account"


def audience(runtime: Runtime) -> str:
    """Where an account-page grant is good: the account page, not the account API."""
    return f"{runtime.settings.public_url}/account/page"


def session_id(sso: SsoContext) -> str:
    """The id a grant is bound to: the SSO session's public ``sid`` (its token hash for a
    session opened before migration 0004)."""
    return sso.session.sid or sso.token_hash


def require_step_up(connection: HTTPConnection, holder: Holder) -> StepUpGrant:
    """The request's step-up grant, fresh and made for this holder in this SSO session;
    :class:`~keyfob.errors.StepUpRequired` otherwise."""
    return check_grant(
        holder.runtime,
        connection.cookies.get(COOKIE),
        subject=holder.user.id,
        session_id=session_id(holder.sso),
        audience=audience(holder.runtime),
    )


async def grant_to_browser(holder: Holder, response: Response, *, method: str) -> None:
    """Issue a grant for ``holder`` (proved by ``method``), audited, and set its cookie."""
    runtime = holder.runtime
    grant = await grant_step_up(
        runtime,
        holder.user,
        session_id=session_id(holder.sso),
        method=method,
        audience=audience(runtime),
        ip=holder.ip,
    )
    response.set_cookie(
        COOKIE,
        grant,
        max_age=runtime.settings.step_up_ttl,
        path=PATH,
        secure=runtime.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
