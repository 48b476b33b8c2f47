"""The pages an authorization request waits on: sign-in and consent.

The sign-in page is the hosted login page (passkey with autofill, Ethereum, Solana, Nimiq);
its scripts post here, each post carrying the sealed interaction in its URL, and are sent on
to ``/oidc/authorize/continue``. The consent form carries a token binding it to the browser's
SSO session and this interaction (an HMAC, compared in constant time), on top of the
same-origin check every page post has.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from keyfob.core.amr import wallet_amr
from keyfob.errors import AccessDenied, CsrfFailed, KeyfobError
from keyfob.server.infra.errors import describe_validation
from keyfob.server.oidc.authorize import _client, answer, issue_code, opened, proceed
from keyfob.server.oidc.errors import Endpoint
from keyfob.server.oidc.interaction import Interaction
from keyfob.server.oidc.params import form_params, query_params, single
from keyfob.server.oidc.provider import Provider, get_provider
from keyfob.server.pages.errors import error_page
from keyfob.server.pages.i18n import N_
from keyfob.server.pages.render import refuse_cross_site, render, security_headers
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.clients import may_use
from keyfob.server.services.hosted_signin import (
    OptionsPageRequest,
    PasskeyPageRequest,
    WalletPageRequest,
    continue_to,
    passkey_sign_in,
    wallet_sign_in,
)
from keyfob.server.services.passkey_flow import begin_sign_in
from keyfob.server.services.sso import SsoContext, current_sso
from keyfob.store.records import ClientRecord

#: What each scope lets the app do, in the consent page's language (the template translates).
SCOPE_TEXT = {
    "openid": N_("Know who you are (an identifier for your account)"),
    "profile": N_("See your username, or a shortened wallet address"),
    "wallet": N_("See the wallet addresses of your account and their chains"),
    "email": N_("See an email-like identifier (not a real mailbox)"),
    "offline_access": N_("Stay signed in when you are away (a refresh token)"),
}


def _page_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def page_json(endpoint: Endpoint) -> Endpoint:
    """The sign-in page's JSON endpoints answer errors as the page scripts expect them:
    ``{"error", "message"}`` (a malformed body is a 422 ``invalid_request``)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ValidationError as exc:
            return _page_error(422, "invalid_request", describe_validation(exc.errors()))
        except KeyfobError as exc:
            return _page_error(exc.status, exc.code, exc.message)

    return wrapped


def _token(request: Request) -> str:
    return single(query_params(request), "interaction") or ""


def _continue_url(token: str) -> str:
    return f"/oidc/authorize/continue?interaction={quote(token, safe='')}"


async def login_page(request: Request) -> Response:
    """``GET /oidc/login?interaction=``: the sign-in page for a waiting authorization."""
    provider = get_provider(request)
    try:
        token = _token(request)
        interaction = opened(request, provider, token)
        client = await _client(provider, interaction.request.client_id)
    except KeyfobError as exc:
        return error_page(request, exc)
    query = f"?interaction={quote(token, safe='')}"
    context: dict[str, Any] = {
        "client_name": client.name,
        "options_url": f"/oidc/login/passkey/options{query}",
        "passkey_url": f"/oidc/login/passkey{query}",
        "wallet_url": f"/oidc/login/wallet{query}",
        "redirect_uri": None,
        "state": None,
        "login_hint": interaction.request.login_hint,
    }
    return render(
        request,
        "login.html",
        context,
        ui_locales=interaction.request.ui_locales,
        client_logo=client.logo_uri,
    )


async def _posted(request: Request) -> tuple[Provider, str, Interaction, ClientRecord]:
    provider = get_provider(request)
    refuse_cross_site(request, provider.runtime)
    token = _token(request)
    interaction = opened(request, provider, token)
    return provider, token, interaction, await _client(provider, interaction.request.client_id)


@page_json
async def login_options(request: Request) -> Response:
    """Passkey request options for the sign-in page (usernameless unless a name is given)."""
    provider, _, _, _ = await _posted(request)
    body = OptionsPageRequest.model_validate_json(await request.body())
    options = (await begin_sign_in(provider.runtime, username=body.username)).options
    return JSONResponse(options, headers={"Cache-Control": "no-store"})


@page_json
async def login_passkey(request: Request) -> Response:
    """Sign in with a passkey, open the SSO session, answer ``{"next": continue URL}``."""
    provider, token, _, client = await _posted(request)
    body = PasskeyPageRequest.model_validate_json(await request.body())
    user, amr = await passkey_sign_in(
        request, provider.runtime, body.credential, client_id=client.id
    )
    return await continue_to(request, provider.runtime, user, amr, _continue_url(token))


@page_json
async def login_wallet(request: Request) -> Response:
    """Sign in with a wallet's signed message, open the SSO session, answer ``next``."""
    provider, token, _, client = await _posted(request)
    body = WalletPageRequest.model_validate_json(await request.body())
    user = await wallet_sign_in(
        request,
        provider.runtime,
        body,
        client_id=client.id,
        may_register=client.registration_enabled,
    )
    return await continue_to(request, provider.runtime, user, wallet_amr(), _continue_url(token))


def form_token(provider: Provider, sso: SsoContext, interaction: Interaction) -> str:
    """The consent form's anti-forgery token: HMAC of the SSO session and the interaction."""
    data = f"{sso.token_hash}\x00{interaction.id}".encode()
    return hmac.new(provider.form_key, data, hashlib.sha256).hexdigest()


async def consent_page(request: Request) -> Response:
    """``GET /oidc/consent?interaction=``: what the app asks for; allow or deny."""
    provider = get_provider(request)
    try:
        token = _token(request)
        interaction = opened(request, provider, token)
        client = await _client(provider, interaction.request.client_id)
    except KeyfobError as exc:
        return error_page(request, exc)
    sso = await current_sso(request, provider.runtime)
    if sso is None:
        return RedirectResponse(
            f"/oidc/login?interaction={quote(token, safe='')}", 303, headers=security_headers()
        )
    scopes = [(scope, SCOPE_TEXT.get(scope, scope)) for scope in interaction.request.scope]
    context = {
        "client_name": client.name,
        "scopes": scopes,
        "interaction": token,
        "form_token": form_token(provider, sso, interaction),
        "username": sso.user.username,
    }
    # The form's answer is a 303 to the client, and browsers hold redirects after a form
    # submission to form-action too (Chromium blocked the consent under 'self' alone).
    parts = urlsplit(interaction.request.redirect_uri)
    return render(
        request,
        "consent.html",
        context,
        form_action=(f"{parts.scheme}://{parts.netloc}",),
        ui_locales=interaction.request.ui_locales,
        client_logo=client.logo_uri,
    )


async def consent_decision(request: Request) -> Response:
    """``POST /oidc/consent``: remember the user's yes and send the code, or answer
    ``access_denied``."""
    provider = get_provider(request)
    runtime = provider.runtime
    try:
        refuse_cross_site(request, runtime)
        params = await form_params(request)
        token = single(params, "interaction") or ""
        interaction = opened(request, provider, token)
        client = await _client(provider, interaction.request.client_id)
        sso = await current_sso(request, runtime)
        sent = single(params, "form_token") or ""
        if sso is None or not hmac.compare_digest(sent, form_token(provider, sso, interaction)):
            raise CsrfFailed(
                "This consent form is not valid any more; go back to the app and start again."
            )
    except KeyfobError as exc:
        return error_page(request, exc)
    authorization = interaction.request
    ip = client_ip(request)
    if single(params, "decision") != "allow":
        await record_event(
            runtime, "oidc.consent_denied", user_id=sso.user.id, client_id=client.id, ip=ip
        )
        denied = AccessDenied("The user did not allow the access.")
        return answer(
            request,
            provider,
            client,
            authorization.redirect_uri,
            authorization.response_mode,
            authorization.state,
            error=denied,
        )
    await runtime.store.grant_consent(
        sso.user.id, client.id, authorization.scope, now=runtime.now()
    )
    await record_event(
        runtime,
        "oidc.consent_granted",
        user_id=sso.user.id,
        client_id=client.id,
        ip=ip,
        scope=" ".join(authorization.scope),
    )
    if not await may_use(provider.runtime, client, sso.user):
        return await proceed(request, provider, client, interaction)
    return await issue_code(request, provider, client, sso, interaction)
