"""RP-Initiated Logout 1.0 (``end_session_endpoint``) and the Back-Channel Logout it starts.

With a valid ``id_token_hint`` naming the browser's session the user is signed out at once;
without one keyfob asks first (a page whose form is bound to the SSO session), so no other
site can sign a user out by a link. ``post_logout_redirect_uri`` must be registered exactly by
the client the hint (or ``client_id``) names. Ending the session revokes the grants it
started and sends each of their clients with a back-channel URI a logout token.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.core.oidc_authorize import build_redirect, parse_ui_locales
from keyfob.core.oidc_backchannel import issue_logout_token
from keyfob.core.oidc_id_token import verify_id_token_hint
from keyfob.core.oidc_rp_logout import check_post_logout_redirect_uri
from keyfob.errors import CsrfFailed, InvalidRequest, KeyfobError
from keyfob.server.oidc.authorize import _client
from keyfob.server.oidc.backchannel import Delivery
from keyfob.server.oidc.params import Params, form_params, request_params, single
from keyfob.server.oidc.provider import Provider, get_provider
from keyfob.server.oidc.subjects import subject_of
from keyfob.server.pages.errors import error_page
from keyfob.server.pages.i18n import N_, page_gettext
from keyfob.server.pages.render import refuse_cross_site, render, security_headers
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.sso import SsoContext, current_sso, end_sso_session
from keyfob.store.records import ClientRecord
from keyfob.store.records_oidc import OidcGrantRecord


def _form_token(provider: Provider, sso: SsoContext) -> str:
    data = f"{sso.token_hash}\x00logout".encode()
    return hmac.new(provider.form_key, data, hashlib.sha256).hexdigest()


async def _target(
    provider: Provider, params: Params
) -> tuple[ClientRecord | None, str | None, Any]:
    hint_text = single(params, "id_token_hint")
    client_id = single(params, "client_id")
    hint = None
    if hint_text:
        hint = verify_id_token_hint(
            hint_text,
            provider.keys.verification_keys(),
            expected_issuer=provider.issuer,
            now=provider.runtime.now(),
        )
        if client_id is None and len(hint.audience) == 1:
            client_id = hint.audience[0]
        if client_id is not None and client_id not in hint.audience:
            raise InvalidRequest("The id_token_hint was not issued to this client_id.")
    client = None if client_id is None else await _client(provider, client_id)
    uri = single(params, "post_logout_redirect_uri")
    if uri is not None:
        if client is None:
            raise InvalidRequest("post_logout_redirect_uri needs an id_token_hint or a client_id.")
        uri = check_post_logout_redirect_uri(uri, expected_uris=client.post_logout_redirect_uris)
    return client, uri, hint


async def end_session_endpoint(request: Request) -> Response:
    """``GET``/``POST /oidc/logout``."""
    provider = get_provider(request)
    try:
        params = await request_params(request)
        client, uri, hint = await _target(provider, params)
    except KeyfobError as exc:
        return error_page(request, exc)
    state = single(params, "state")
    sso = await current_sso(request, provider.runtime)
    if sso is None:
        return _after(request, uri, state)
    if hint is not None and client is not None and _names_session(provider, client, sso, hint):
        return await sign_out(request, provider, sso, _after(request, uri, state))
    context = {
        "client_name": None if client is None else client.name,
        "client_id": None if client is None else client.id,
        "post_logout_redirect_uri": uri,
        "state": state,
        "form_token": _form_token(provider, sso),
    }
    # The confirmation's answer is a 303 to the client, which form-action governs as well.
    targets = () if uri is None else (f"{urlsplit(uri).scheme}://{urlsplit(uri).netloc}",)
    # RP-Initiated Logout §2: a preference, so a repeated one is not worth an error.
    locales = parse_ui_locales(" ".join(value for name, value in params if name == "ui_locales"))
    return render(request, "logout_confirm.html", context, form_action=targets, ui_locales=locales)


def _names_session(provider: Provider, client: ClientRecord, sso: SsoContext, hint: Any) -> bool:
    if hint.sid is not None and sso.session.sid is not None:
        return bool(hint.sid == sso.session.sid)
    return bool(hint.subject == subject_of(provider, client, sso.user.id))


async def confirm_endpoint(request: Request) -> Response:
    """``POST /oidc/logout/confirm``: the user said yes on the confirmation page."""
    provider = get_provider(request)

    try:
        refuse_cross_site(request, provider.runtime)
        params = await form_params(request)
        client_id = single(params, "client_id")
        uri = single(params, "post_logout_redirect_uri")
        if uri is not None:
            if client_id is None:
                raise InvalidRequest("post_logout_redirect_uri needs a client_id.")
            client = await _client(provider, client_id)
            uri = check_post_logout_redirect_uri(
                uri, expected_uris=client.post_logout_redirect_uris
            )
        sso = await current_sso(request, provider.runtime)
        sent = single(params, "form_token") or ""
        if sso is not None and not hmac.compare_digest(sent, _form_token(provider, sso)):
            raise CsrfFailed("This sign-out form is not valid any more.")
    except KeyfobError as exc:
        return error_page(request, exc)
    response = _after(request, uri, single(params, "state"))
    if sso is None:
        return response
    return await sign_out(request, provider, sso, response)


def _after(request: Request, uri: str | None, state: str | None) -> Response:
    if uri is None:
        _ = page_gettext(request)
        message = _("You are signed out of %(product)s.") % {
            "product": get_provider(request).runtime.settings.product_name
        }
        return render(request, "message.html", {"title": N_("Signed out"), "message": message})
    target = uri if state is None else build_redirect(uri, {"state": state}, "query")
    return RedirectResponse(target, 303, headers=security_headers())


async def sign_out(
    request: Request, provider: Provider, sso: SsoContext, response: Response
) -> Response:
    """End the SSO session on ``response``, revoke its grants, notify their clients."""
    runtime = provider.runtime
    await end_sso_session(request, runtime, response)
    revoked = await end_grants_of(provider, sso)
    await record_event(
        runtime, "oidc.logout", user_id=sso.user.id, ip=client_ip(request), grants=len(revoked)
    )
    return response


async def end_grants_of(provider: Provider, sso: SsoContext) -> list[OidcGrantRecord]:
    """Revoke the grants the SSO session ``sso`` started and send their clients logout
    tokens; every way a browser session ends (this endpoint, the hosted pages' logout) calls
    it."""
    if sso.session.sid is None:
        return []
    runtime = provider.runtime
    revoked = await runtime.store.revoke_grants_of_sid(sso.session.sid, now=runtime.now())
    await notify_clients(provider, sso, revoked)
    return revoked


async def notify_clients(
    provider: Provider, sso: SsoContext, grants: list[OidcGrantRecord]
) -> None:
    """Send a logout token to each client of ``grants`` that registered a back-channel URI."""
    deliveries = []
    now = provider.runtime.now()
    for client_id in sorted({grant.client_id for grant in grants}):
        client = await provider.runtime.store.get_client(client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        token = issue_logout_token(
            await provider.keys.id_token_key(client.id_token_alg, now=now),
            issuer=provider.issuer,
            audience=client.id,
            now=now,
            subject=subject_of(provider, client, sso.user.id),
            sid=sso.session.sid,
        )
        deliveries.append(Delivery(client.id, client.backchannel_logout_uri, token))
    provider.backchannel.send(deliveries)
