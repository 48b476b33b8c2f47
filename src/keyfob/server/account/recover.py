"""Account recovery's sign-in: ``/account/recover`` (a recovery code) and
``/account/recover/link`` (an admin's one-time link).

Both open a fresh SSO session of ``amr`` ``recovery`` and a step-up grant of the account page
(method ``recovery_code`` or ``recovery_link``), so that the user can add a new passkey at once,
and go on to ``/account``. Their forms carry no CSRF token (there is no session yet); a post
another site made the browser send (login CSRF: the victim signed in to the attacker's
account) is refused by its ``Origin`` and ``Sec-Fetch-Site``.

A recovery link carries its token in the URL's fragment, which browsers never send: the page's
script takes it from there (and out of the address bar) and posts it with the form, so the
token reaches no access log, of keyfob or of a proxy in front, and no ``Referer``.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.core.amr import recovery_amr
from keyfob.errors import KeyfobError
from keyfob.server.account.guard import holder_of
from keyfob.server.account.step_up import grant_to_browser
from keyfob.server.account.views import see_other
from keyfob.server.infra.inputs import check_form
from keyfob.server.infra.runtime import Runtime, get_runtime
from keyfob.server.pages.i18n import N_, page_error_sentence
from keyfob.server.pages.render import refuse_cross_site, render
from keyfob.server.services.audit import caller_of, client_ip
from keyfob.server.services.devices import device_seen
from keyfob.server.services.recovery import (
    CODE_METHOD,
    LINK_METHOD,
    redeem_recovery_code,
    redeem_recovery_link,
)
from keyfob.server.services.sso import replace_sso_session
from keyfob.store.records import UserRecord

RECOVER_PATH = "/account/recover"
_MAX_FIELD = 512
TITLE = N_("Recover your account")


async def recover_page(request: Request) -> Response:
    """``GET /account/recover``: the account's name and one recovery code."""
    return _code_page(request)


async def recover(request: Request) -> Response:
    """``POST /account/recover``: sign in with a recovery code (spent), or the page again with
    the one error every failure gets (401 ``recovery_failed``)."""
    runtime = await get_runtime(request)
    identifier = ""
    try:
        form = await _form(request, runtime)
        identifier, code = _field(form, "identifier"), _field(form, "code")
        user = await redeem_recovery_code(runtime, identifier, code, ip=client_ip(request))
    except KeyfobError as error:
        return _code_page(request, identifier=identifier, error=error)
    return await _signed_in(request, runtime, user, CODE_METHOD)


async def link_page(request: Request) -> Response:
    """``GET /account/recover/link``: the page a recovery link opens; its script posts the
    token from the fragment when the user confirms."""
    return _link_page(request)


async def redeem_link(request: Request) -> Response:
    """``POST /account/recover/link``: sign in with a recovery link's token (spent), or the
    page again with 401 ``recovery_failed``."""
    runtime = await get_runtime(request)
    try:
        form = await _form(request, runtime)
        user = await redeem_recovery_link(runtime, _field(form, "token"), ip=client_ip(request))
    except KeyfobError as error:
        return _link_page(request, error=error)
    return await _signed_in(request, runtime, user, LINK_METHOD)


async def _form(request: Request, runtime: Runtime) -> FormData:
    refuse_cross_site(request, runtime)
    form = await request.form()
    check_form(form)
    return form


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:_MAX_FIELD] if isinstance(value, str) else ""


async def _signed_in(
    request: Request, runtime: Runtime, user: UserRecord, method: str
) -> RedirectResponse:
    response = see_other("recovered")
    device = await device_seen(caller_of(request))
    sso = await replace_sso_session(
        request, runtime, response, user=user, amr=recovery_amr(), device=device
    )
    await grant_to_browser(holder_of(runtime, sso, client_ip(request)), response, method=method)
    response.headers["Cache-Control"] = "no-store"
    return response


def _code_page(
    request: Request, *, identifier: str = "", error: KeyfobError | None = None
) -> Response:
    context = {
        "title": TITLE,
        "identifier": identifier,
        "error_message": error and page_error_sentence(request, error),
    }
    return render(request, "account/recover.html", context, status=_status(error))


def _link_page(request: Request, *, error: KeyfobError | None = None) -> Response:
    context = {"title": TITLE, "error_message": error and page_error_sentence(request, error)}
    return render(request, "account/recover_link.html", context, status=_status(error))


def _status(error: KeyfobError | None) -> int:
    if error is None:
        return 200
    return error.status if 400 <= error.status < 500 else 400
