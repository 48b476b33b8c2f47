"""Who may use the admin panel, and the CSRF and Origin checks of its forms.

An admin page needs an SSO session (see :mod:`keyfob.server.services.sso`) of a user who has
the role ``admin``, is not disabled and signed in within :data:`MAX_SIGN_IN_AGE`. Every form
carries a ``csrf`` field: an HMAC of the SSO session's token hash, so it is worthless outside
that session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.core.amr import RECOVERY, USER_VERIFIED, is_passkey_amr
from keyfob.errors import CsrfFailed, Forbidden, KeyfobError
from keyfob.server.infra.inputs import check_form
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.pages.errors import error_page
from keyfob.server.pages.render import check_same_origin
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.sso import csrf_matches, csrf_token, current_sso
from keyfob.store.records import UserRecord

ADMIN_ROLE = "admin"
LOGIN_PATH = "/admin/login"
MAX_SIGN_IN_AGE = timedelta(hours=12)

Endpoint = Callable[[Request], Awaitable[Response]]


class SignInRequired(Exception):
    """No fresh SSO session: the browser is sent to :data:`LOGIN_PATH` (not an error page)."""


@dataclass(frozen=True)
class Admin:
    """The signed-in admin of a request: who, the server, and the CSRF token of their forms."""

    runtime: Runtime
    user: UserRecord
    csrf: str
    ip: str | None

    async def audit(
        self,
        action: str,
        *,
        user_id: str | None = None,
        client_id: str | None = None,
        **detail: object,
    ) -> None:
        """Record ``admin.<action>`` with this admin as the actor."""
        await record_event(
            self.runtime,
            f"admin.{action}",
            actor_id=self.user.id,
            user_id=user_id,
            client_id=client_id,
            ip=self.ip,
            **detail,
        )


async def current_admin(request: Request) -> Admin:
    """The admin signed in on this request; :class:`SignInRequired` or :class:`Forbidden`."""
    runtime = await get_runtime(request)
    sso = await current_sso(request, runtime)
    if sso is None or sso.user.disabled:
        raise SignInRequired()
    if sso.session.authenticated_at < runtime.now() - MAX_SIGN_IN_AGE:
        raise SignInRequired()
    amr = sso.session.amr
    if is_passkey_amr(amr) and USER_VERIFIED not in amr:  # e.g. a client page's sign-in, UV off
        raise SignInRequired()
    if RECOVERY in amr:  # a recovery code or link opens the account page, never the panel
        raise SignInRequired()
    if ADMIN_ROLE not in sso.user.roles:
        raise Forbidden("This page is for administrators; your account is not one.")
    csrf = csrf_token(runtime, sso, "csrf")
    return Admin(runtime=runtime, user=sso.user, csrf=csrf, ip=client_ip(request))


async def admin_form(request: Request) -> tuple[Admin, FormData]:
    """The admin and the form of a POST, once its Origin and CSRF token are checked."""
    admin = await current_admin(request)
    refusal = CsrfFailed("This form was sent from another site.")
    check_same_origin(request, admin.runtime.settings.origin, refusal)
    form = await request.form()
    if not csrf_matches(admin.csrf, form.get("csrf")):
        raise CsrfFailed()
    check_form(form)
    return admin, form


def admin_endpoint(endpoint: Endpoint) -> Endpoint:
    """Turn SignInRequired into a redirect to the sign-in page and errors into error pages."""

    @wraps(endpoint)
    async def run(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except SignInRequired:
            return RedirectResponse(LOGIN_PATH, status_code=303)
        except KeyfobError as error:
            response = error_page(request, error)
        response.headers["Cache-Control"] = "no-store"
        return response

    return run


def form_text(form: FormData, name: str, *, default: str = "") -> str:
    """A text field of a form ("" or ``default`` when missing; an upload counts as missing)."""
    value = form.get(name)
    return value if isinstance(value, str) else default
