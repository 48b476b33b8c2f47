"""The hosted sign-in pages of client apps (seed 003): login, registration, logout.

``GET /auth/login/{clientId}`` either shows the sign-in page or, when the browser has a
fresh enough SSO session, sends the user straight back with a new client token. The page's
scripts post to the JSON endpoints below, which open the SSO session and answer where to
go next (the same login URL, which then finishes).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Query, Request
from starlette.responses import RedirectResponse, Response

from keyfob.core.amr import wallet_amr
from keyfob.core.redirects import match_redirect_uri, redirect_with
from keyfob.errors import ClientNotPermitted, RegistrationDisabled
from keyfob.server.infra.runtime import Runtime, RuntimeDep
from keyfob.server.pages.i18n import N_, page_gettext
from keyfob.server.pages.render import refuse_cross_site, render, security_headers
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.clients import check_state, get_client, may_use, mint_client_token
from keyfob.server.services.hosted_signin import (
    NO_STORE,
    OptionsPageRequest,
    PasskeyPageRequest,
    WalletPageRequest,
    continue_to,
    login_url,
    passkey_sign_in,
    wallet_sign_in,
)
from keyfob.server.services.passkey_flow import (
    begin_registration,
    begin_sign_in,
    finish_registration,
)
from keyfob.server.services.sso import current_sso, end_sso_session, sso_session_ended
from keyfob.store.records import ClientRecord, UserRecord

RedirectUri = Annotated[str | None, Query(alias="redirectUri", max_length=2048)]
State = Annotated[str | None, Query(max_length=1024)]


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


async def _send_back(
    request: Request,
    runtime: Runtime,
    client: ClientRecord,
    user: UserRecord,
    target: str,
    state: str | None,
) -> Response:
    """Issue a client token and deliver it to ``target`` (or a page saying access is denied)."""
    if not await may_use(runtime, client, user):
        _ = page_gettext(request)
        denied = ClientNotPermitted(
            _(
                "Your account has not been given access to %(name)s. Ask its administrator "
                "for access, or sign out and use another account."
            )
            % {"name": client.name}
        )
        context = {"title": N_("No access"), "message": denied.message, "code": denied.code}
        context["logout_url"] = f"/auth/logout/{quote(client.id, safe='')}"
        return render(request, "message.html", context, status=403)
    params = {"token": mint_client_token(runtime, client, user.id), "clientId": client.id}
    if state is not None:
        params["state"] = state
    await record_event(
        runtime,
        "sso_redirect",
        user_id=user.id,
        client_id=client.id,
        ip=client_ip(request),
        delivery=client.token_delivery,
        redirect_uri=target,
    )
    if client.token_delivery == "form_post":
        post: dict[str, Any] = {"action": target, "fields": params, "client_name": client.name}
        return render(request, "form_post.html", post, form_action=(_origin(target),))
    url = redirect_with(target, params, delivery=client.token_delivery)
    return RedirectResponse(url, status_code=303, headers=security_headers())


async def login_page(
    request: Request,
    client_id: str,
    runtime: RuntimeDep,
    redirect_uri: RedirectUri = None,
    state: State = None,
) -> Response:
    """The sign-in page of a client app, or straight back to it with a live SSO session."""
    client = await get_client(runtime, client_id)
    target = match_redirect_uri(redirect_uri, registered=client.redirect_uris)
    check_state(client, state)
    sso = await current_sso(request, runtime)
    if sso is not None and sso.is_fresh_for(client, now=runtime.now()):
        return await _send_back(request, runtime, client, sso.user, target, state)
    base = f"/auth/login/{quote(client.id, safe='')}"
    context: dict[str, Any] = {
        "client_name": client.name,
        "options_url": f"{base}/passkey/options",
        "passkey_url": f"{base}/passkey",
        "wallet_url": f"{base}/wallet",
        "redirect_uri": target,
        "state": state,
    }
    if client.registration_enabled:
        query = {"redirectUri": target, **({"state": state} if state is not None else {})}
        context["registration_url"] = (
            f"/auth/registration/{quote(client.id, safe='')}?{urlencode(query)}"
        )
    return render(request, "login.html", context, client_logo=client.logo_uri)


async def login_options(
    request: Request, client_id: str, body: OptionsPageRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    """Passkey request options for the sign-in page (usernameless unless a name is given)."""
    refuse_cross_site(request, runtime)
    await get_client(runtime, client_id)
    return (await begin_sign_in(runtime, username=body.username)).options


async def login_passkey(
    request: Request, client_id: str, body: PasskeyPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a passkey: open the SSO session and answer where the page goes next."""
    refuse_cross_site(request, runtime)
    client = await get_client(runtime, client_id)
    target = match_redirect_uri(body.redirect_uri, registered=client.redirect_uris)
    check_state(client, body.state)
    user, amr = await passkey_sign_in(request, runtime, body.credential, client_id=client.id)
    next_url = login_url(client.id, target, body.state)
    return await continue_to(request, runtime, user, amr, next_url)


async def login_wallet(
    request: Request, client_id: str, body: WalletPageRequest, runtime: RuntimeDep
) -> Response:
    """Sign in with a wallet's signed message: open the SSO session, answer ``next``."""
    refuse_cross_site(request, runtime)
    client = await get_client(runtime, client_id)
    target = match_redirect_uri(body.redirect_uri, registered=client.redirect_uris)
    check_state(client, body.state)
    user = await wallet_sign_in(
        request, runtime, body, client_id=client.id, may_register=client.registration_enabled
    )
    next_url = login_url(client.id, target, body.state)
    return await continue_to(request, runtime, user, wallet_amr(), next_url)


_NO_REGISTRATION = N_("%(name)s does not let new accounts register here; ask its administrator.")


async def _registration_client(runtime: Runtime, client_id: str) -> ClientRecord:
    client = await get_client(runtime, client_id)
    if not client.registration_enabled:
        raise RegistrationDisabled(_NO_REGISTRATION % {"name": client.name})
    return client


async def registration_page(
    request: Request,
    client_id: str,
    runtime: RuntimeDep,
    username: Annotated[str | None, Query(max_length=64)] = None,
    redirect_uri: RedirectUri = None,
    state: State = None,
) -> Response:
    """The page that creates an account with a passkey for a client app (a 403 page saying so,
    in the page's language, when the client lets no one register)."""
    client = await get_client(runtime, client_id)
    if not client.registration_enabled:
        _ = page_gettext(request)
        refused = RegistrationDisabled(_(_NO_REGISTRATION) % {"name": client.name})
        shown = {"title": N_("Access denied"), "message": refused.message, "code": refused.code}
        return render(request, "message.html", shown, status=refused.status)
    if redirect_uri is not None:
        match_redirect_uri(redirect_uri, registered=client.redirect_uris)
    check_state(client, state)
    base = f"/auth/registration/{quote(client.id, safe='')}"
    context = {
        "client_name": client.name,
        "username": username or "",
        "options_url": f"{base}/options",
        "verify_url": f"{base}/verify",
        "redirect_uri": redirect_uri,
        "state": state,
        "login_url": login_url(client.id, redirect_uri, state),
    }
    return render(request, "registration.html", context, client_logo=client.logo_uri)


async def registration_options(
    request: Request, client_id: str, body: OptionsPageRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    """Creation options for a new account with the chosen username (optional)."""
    refuse_cross_site(request, runtime)
    await _registration_client(runtime, client_id)
    return (await begin_registration(runtime, username=body.username)).options


async def registration_verify(
    request: Request, client_id: str, body: PasskeyPageRequest, runtime: RuntimeDep
) -> Response:
    """Store the new account's passkey, open the SSO session, continue to the login URL."""
    refuse_cross_site(request, runtime)
    client = await _registration_client(runtime, client_id)
    target = body.redirect_uri
    if target is not None:
        match_redirect_uri(target, registered=client.redirect_uris)
    check_state(client, body.state)
    done = await finish_registration(
        runtime, body.credential, open_session=False, ip=client_ip(request)
    )
    next_url = login_url(client.id, target, body.state)
    return await continue_to(request, runtime, done.outcome.user, done.amr, next_url)


async def logout(
    request: Request,
    client_id: str,
    runtime: RuntimeDep,
    redirect: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """End the SSO session; go to ``redirect`` if the client registered it exactly, else to
    the client's login page (a "signed out" page for a client that requires a state, whose
    login page without one is an error)."""
    client = await get_client(runtime, client_id)
    response: Response
    if redirect in client.redirect_uris:
        response = RedirectResponse(redirect, status_code=303, headers=NO_STORE)
    elif client.require_state:
        _ = page_gettext(request)
        message = _("You are signed out. Go back to %(name)s to sign in again.") % {
            "name": client.name
        }
        context = {"title": N_("Signed out"), "message": message}
        response = render(request, "message.html", context)
    else:
        target = login_url(client.id, None, None)
        response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    sso = await current_sso(request, runtime)
    await end_sso_session(request, runtime, response)
    if sso is not None:
        await sso_session_ended(runtime, sso)  # its OpenID Connect apps too
        await record_event(
            runtime, "sso_logout", user_id=sso.user.id, client_id=client.id, ip=client_ip(request)
        )
    return response
