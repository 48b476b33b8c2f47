"""The admin sign-in pages: ``/admin/login`` (passkey or wallet) and ``/admin/enroll``.

Both end in an SSO session and send the browser to ``/admin``, whose panel decides what
the signed-in user may see. An enrolment link's token is spent when the page asks for the
passkey options, so a link registers one passkey at most.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from keyfob.core.amr import wallet_amr
from keyfob.errors import InvalidChallenge, InvalidRequest
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.pages.render import refuse_cross_site, render
from keyfob.server.services.audit import client_ip
from keyfob.server.services.enrollment import consume_enrollment
from keyfob.server.services.hosted_signin import (
    OptionsPageRequest,
    PasskeyPageRequest,
    WalletPageRequest,
    continue_to,
    passkey_sign_in,
    wallet_sign_in,
)
from keyfob.server.services.passkey_flow import (
    begin_registration,
    begin_sign_in,
    finish_registration,
)

ADMIN_HOME = "/admin"


async def admin_login_page(request: Request) -> Response:
    """The admin sign-in page: a passkey or a wallet, no client app."""
    context = {
        "purpose": "admin",
        "client_name": None,
        "options_url": "/admin/login/passkey/options",
        "passkey_url": "/admin/login/passkey",
        "wallet_url": "/admin/login/wallet",
        "redirect_uri": None,
        "state": None,
    }
    return render(request, "login.html", context)


async def admin_login_options(
    request: Request, body: OptionsPageRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    """Passkey request options for the admin sign-in page."""
    refuse_cross_site(request, runtime)
    return (
        await begin_sign_in(runtime, username=body.username, user_verification="required")
    ).options


async def admin_login_passkey(
    request: Request, body: PasskeyPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a passkey that verified its user (whatever
    ``KEYFOB_WEBAUTHN_USER_VERIFICATION`` says), open the SSO session, continue to ``/admin``."""
    refuse_cross_site(request, runtime)
    user, amr = await passkey_sign_in(
        request, runtime, body.credential, client_id=None, require_user_verification=True
    )
    return await continue_to(request, runtime, user, amr, ADMIN_HOME)


async def admin_login_wallet(
    request: Request, body: WalletPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a wallet, open the SSO session, continue to ``/admin``."""
    refuse_cross_site(request, runtime)
    user = await wallet_sign_in(request, runtime, body, client_id=None)
    return await continue_to(request, runtime, user, wallet_amr(), ADMIN_HOME)


async def enroll_page(
    request: Request,
    token: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The page an enrolment link opens: choose a username, register a passkey as admin."""
    if not token:
        raise InvalidRequest("This enrolment link has no token; copy the whole link.")
    context = {
        "token": token,
        "options_url": "/admin/enroll/options",
        "verify_url": "/admin/enroll/verify",
    }
    return render(request, "enroll.html", context)


async def enroll_options(
    request: Request, body: OptionsPageRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    """Spend the link's token; creation options for a new account with the link's roles."""
    refuse_cross_site(request, runtime)
    if body.token is None:
        raise InvalidRequest("This enrolment link has no token; copy the whole link.")
    roles = await consume_enrollment(runtime.store, body.token, now=runtime.now())
    if roles is None:
        raise InvalidChallenge(
            "This enrolment link is unknown, already used or expired; "
            "ask for a new one (keyfob admin create)."
        )
    return (
        await begin_registration(
            runtime, username=body.username, roles=roles, user_verification="required"
        )
    ).options


async def enroll_verify(
    request: Request, body: PasskeyPageRequest, runtime: RuntimeDep
) -> Response:
    """Store the admin's passkey, open the SSO session, continue to ``/admin``."""
    refuse_cross_site(request, runtime)
    done = await finish_registration(
        runtime,
        body.credential,
        open_session=False,
        ip=client_ip(request),
        require_user_verification=True,
    )
    return await continue_to(request, runtime, done.outcome.user, done.amr, ADMIN_HOME)
