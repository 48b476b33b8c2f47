"""The account page's sign-in: ``/account/login`` (a passkey, or a wallet of an account).

Like the admin sign-in it ends in an SSO session (the same one the client apps' hosted pages
and the OpenID Provider use) and sends the browser to ``/account``. It makes no accounts: a
wallet that signs in to none is refused (``registration_disabled``), since the account page is
for managing an account, and client apps decide whether they let new ones register.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from keyfob.core.amr import wallet_amr
from keyfob.errors import RegistrationDisabled
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.pages.render import refuse_cross_site, render
from keyfob.server.services.hosted_signin import (
    OptionsPageRequest,
    PasskeyPageRequest,
    WalletPageRequest,
    continue_to,
    passkey_sign_in,
    wallet_sign_in,
)
from keyfob.server.services.passkey_flow import begin_sign_in

ACCOUNT_HOME = "/account"
NO_ACCOUNT = (
    "No keyfob account signs in with this wallet. Sign up through an app first, or sign in "
    "with a passkey or wallet of your account and link this one there."
)


async def account_login_page(request: Request) -> Response:
    """The account sign-in page: a passkey or a wallet, no client app."""
    context = {
        "purpose": "account",
        "client_name": None,
        "options_url": "/account/login/passkey/options",
        "passkey_url": "/account/login/passkey",
        "wallet_url": "/account/login/wallet",
        "redirect_uri": None,
        "state": None,
        "recover_url": "/account/recover",
    }
    return render(request, "login.html", context)


async def account_login_options(
    request: Request, body: OptionsPageRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    """Passkey request options for the account sign-in page."""
    refuse_cross_site(request, runtime)
    return (await begin_sign_in(runtime, username=body.username)).options


async def account_login_passkey(
    request: Request, body: PasskeyPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a passkey, open the SSO session, continue to ``/account``."""
    refuse_cross_site(request, runtime)
    user, amr = await passkey_sign_in(request, runtime, body.credential, client_id=None)
    return await continue_to(request, runtime, user, amr, ACCOUNT_HOME)


async def account_login_wallet(
    request: Request, body: WalletPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a wallet of an existing account, open the SSO session, continue to
    ``/account``."""
    refuse_cross_site(request, runtime)
    try:
        user = await wallet_sign_in(request, runtime, body, client_id=None, may_register=False)
    except RegistrationDisabled as refused:
        raise RegistrationDisabled(NO_ACCOUNT) from refused
    return await continue_to(request, runtime, user, wallet_amr(), ACCOUNT_HOME)
