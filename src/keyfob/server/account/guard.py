"""Who is on the account page, and the CSRF and Origin checks of its forms and scripts.

The account page takes the browser's SSO session (see :mod:`keyfob.server.services.sso`),
however it was opened: the account sign-in, a client app's hosted page or the OpenID
Provider. Every form carries a ``csrf`` field, and every script call an ``X-CSRF-Token``
header: an HMAC of the SSO session's token hash under a key of the account page's own, so
it is worthless outside that session (and on the admin panel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.errors import CsrfFailed, InvalidToken, KeyfobError
from keyfob.server.infra.inputs import check_form
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.pages.render import check_same_origin
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.sso import SsoContext, csrf_matches, csrf_token, current_sso
from keyfob.store.records import UserRecord

HOME = "/account"
LOGIN_PATH = "/account/login"
CSRF_HEADER = "x-csrf-token"

Endpoint = Callable[[Request], Awaitable[Response]]


class SignInRequired(Exception):
    """No live SSO session: a page sends the browser to :data:`LOGIN_PATH`."""


@dataclass(frozen=True)
class Holder:
    """The signed-in account holder of a request: the server, their SSO session, the CSRF
    token of their forms, their address."""

    runtime: Runtime
    sso: SsoContext
    csrf: str
    ip: str | None

    @property
    def user(self) -> UserRecord:
        """The signed-in user."""
        return self.sso.user

    async def audit(self, event: str, *, client_id: str | None = None, **detail: object) -> None:
        """Record ``event`` for this user, from the account page."""
        await record_event(
            self.runtime,
            event,
            user_id=self.user.id,
            client_id=client_id,
            actor_id=None,
            ip=self.ip,
            **detail,
        )


def holder_of(runtime: Runtime, sso: SsoContext, ip: str | None) -> Holder:
    """The holder of the SSO session ``sso`` (one just opened, say), with its CSRF token."""
    csrf = csrf_token(runtime, sso, "account-csrf")
    return Holder(runtime=runtime, sso=sso, csrf=csrf, ip=ip)


async def current_holder(request: Request) -> Holder:
    """The account holder signed in on this request; :class:`SignInRequired` without one."""
    runtime = await get_runtime(request)
    sso = await current_sso(request, runtime)
    if sso is None:
        raise SignInRequired()
    return holder_of(runtime, sso, client_ip(request))


def _check_csrf(holder: Holder, sent: object) -> None:
    if not csrf_matches(holder.csrf, sent):
        raise CsrfFailed()


def _check_origin(request: Request, holder: Holder) -> None:
    refusal = CsrfFailed("This request was sent from another site.")
    check_same_origin(request, holder.runtime.settings.origin, refusal)


async def holder_form(request: Request) -> tuple[Holder, FormData]:
    """The holder and the form of a POST, once its Origin and CSRF token are checked."""
    holder = await current_holder(request)
    _check_origin(request, holder)
    form = await request.form()
    _check_csrf(holder, form.get("csrf"))
    check_form(form)
    return holder, form


async def holder_call(request: Request) -> Holder:
    """The holder of a script's JSON call, once its Origin and ``X-CSRF-Token`` are checked;
    without an SSO session :class:`~keyfob.errors.InvalidToken` (a JSON 401)."""
    try:
        holder = await current_holder(request)
    except SignInRequired:
        raise InvalidToken("Your keyfob session has ended; sign in again.") from None
    _check_origin(request, holder)
    _check_csrf(holder, request.headers.get(CSRF_HEADER))
    return holder


ErrorPage = Callable[[Request, Holder, KeyfobError], Awaitable[Response]]


def account_endpoint(on_error: ErrorPage) -> Callable[[Endpoint], Endpoint]:
    """Decorate a page or form endpoint: without a session the browser goes to the sign-in
    page; a :class:`KeyfobError` is answered by ``on_error`` (the account page again, the
    message beside the form that failed) once the holder is known, else re-raised for the
    surface's error page. Every answer is ``Cache-Control: no-store``."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def run(request: Request) -> Response:
            try:
                response = await endpoint(request)
            except SignInRequired:
                return RedirectResponse(LOGIN_PATH, status_code=303)
            except KeyfobError as error:
                try:
                    holder = await current_holder(request)
                except SignInRequired:
                    return RedirectResponse(LOGIN_PATH, status_code=303)
                response = await on_error(request, holder, error)
            response.headers["Cache-Control"] = "no-store"
            return response

        return run

    return decorate
