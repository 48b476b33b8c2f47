"""The authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 9207, RFC 9700).

Errors before the client and its redirect URI are known to be good are shown as a page and
never redirected (an open redirect otherwise); after, they go back to the client with
``state`` and ``iss``. A request then waits for the user in an
:class:`~keyfob.server.oidc.interaction.Interaction`: the sign-in page when there is no fresh
enough SSO session, the consent page when the scopes were not granted yet, and the code.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyfob.core.oidc_authorize import (
    authorization_response_params,
    build_redirect,
    check_authorization_request,
    check_redirect_target,
    parse_authorization_target,
)
from keyfob.core.oidc_id_token import verify_id_token_hint
from keyfob.core.tokens import hash_refresh_token
from keyfob.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidTarget,
    KeyfobError,
    LoginRequired,
    OAuthError,
    OAuthInvalidRequest,
    UnknownClient,
)
from keyfob.server.oidc.interaction import Interaction, open_interaction, seal_interaction
from keyfob.server.oidc.params import query_params, request_params, single
from keyfob.server.oidc.provider import CODE_LIFETIME_SECONDS, Provider, get_provider
from keyfob.server.oidc.subjects import subject_of
from keyfob.server.pages.errors import error_page
from keyfob.server.pages.render import render, security_headers
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.clients import may_use
from keyfob.server.services.sso import SsoContext, current_sso
from keyfob.store.records import ClientRecord
from keyfob.store.records_oidc import OidcCodeRecord


async def authorization_endpoint(request: Request) -> Response:
    """``GET``/``POST /oidc/authorize``: validate, then sign in, consent, and send a code."""
    provider = get_provider(request)
    try:
        params = await request_params(request)
        target_of = parse_authorization_target(params)
        client = await _client(provider, target_of.client_id)
        target = check_redirect_target(
            target_of.redirect_uri, expected_redirect_uris=client.redirect_uris
        )
    except KeyfobError as exc:
        return error_page(request, exc)
    state, mode = target_of.state, target_of.response_mode
    try:
        authorization = check_authorization_request(
            params,
            client_id=client.id,
            redirect_uri=target,
            expected_scopes=client.scopes,
            is_public_client=client.client_type == "public",
        )
    except OAuthError as exc:
        return answer(request, provider, client, target, mode, state, error=exc)
    except KeyfobError as exc:
        return answer(request, provider, client, target, mode, state, error=_as_oauth(exc))
    if authorization.resource is not None and authorization.resource not in client.resources:
        unknown = InvalidTarget("This client has not registered that resource (RFC 8707).")
        return answer(request, provider, client, target, mode, state, error=unknown)
    now = _ms(provider.runtime.now())
    fresh = bool(authorization.prompt & {"login", "select_account"})
    interaction = Interaction(request=authorization, created=now, fresh_login=fresh)
    return await proceed(request, provider, client, interaction)


async def continue_endpoint(request: Request) -> Response:
    """``GET /oidc/authorize/continue?interaction=``: where the sign-in page goes next."""
    provider = get_provider(request)
    try:
        interaction = opened(request, provider, single(query_params(request), "interaction"))
        client = await _client(provider, interaction.request.client_id)
        check_redirect_target(
            interaction.request.redirect_uri, expected_redirect_uris=client.redirect_uris
        )
    except KeyfobError as exc:
        return error_page(request, exc)
    return await proceed(request, provider, client, interaction)


def opened(request: Request, provider: Provider, token: str | None) -> Interaction:
    """The interaction a page URL or form carries (an error page when it is bad)."""
    now = provider.runtime.now()
    return open_interaction(
        token or "", key=provider.interaction_key, issuer=provider.issuer, now=now
    )


def sealed(provider: Provider, interaction: Interaction) -> str:
    """``interaction`` as the opaque text page URLs carry."""
    return seal_interaction(interaction, key=provider.interaction_key, issuer=provider.issuer)


async def _client(provider: Provider, client_id: str) -> ClientRecord:
    client = await provider.runtime.store.get_client(client_id)
    if client is None:
        raise UnknownClient("There is no app with this client_id; check the link you followed.")
    return client


def _as_oauth(error: KeyfobError) -> OAuthError:
    return OAuthInvalidRequest(error.message)


async def proceed(
    request: Request, provider: Provider, client: ClientRecord, interaction: Interaction
) -> Response:
    """Take ``interaction`` one step on: to the sign-in page, to consent, or back with a code."""
    authorization = interaction.request
    target, mode, state = (
        authorization.redirect_uri,
        authorization.response_mode,
        authorization.state,
    )
    sso = await current_sso(request, provider.runtime)
    if sso is None or not _good_enough(provider, client, sso, interaction):
        if "none" in authorization.prompt:
            error: OAuthError = LoginRequired("The user is not signed in to keyfob.")
            return answer(request, provider, client, target, mode, state, error=error)
        token = quote(sealed(provider, interaction), safe="")
        return RedirectResponse(f"/oidc/login?interaction={token}", 303, headers=security_headers())
    if not await may_use(provider.runtime, client, sso.user):
        await record_event(
            provider.runtime,
            "oidc.access_denied",
            user_id=sso.user.id,
            client_id=client.id,
            ip=client_ip(request),
            reason="not_permitted",
        )
        denied = AccessDenied(f"This account has not been given access to {client.name}.")
        return answer(request, provider, client, target, mode, state, error=denied)
    if await _needs_consent(provider, client, sso, interaction):
        if "none" in authorization.prompt:
            needed = ConsentRequired(f"The user has not allowed {client.name} this access yet.")
            return answer(request, provider, client, target, mode, state, error=needed)
        token = quote(sealed(provider, interaction), safe="")
        return RedirectResponse(
            f"/oidc/consent?interaction={token}", 303, headers=security_headers()
        )
    return await issue_code(request, provider, client, sso, interaction)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _good_enough(
    provider: Provider, client: ClientRecord, sso: SsoContext, interaction: Interaction
) -> bool:
    """Whether the SSO session may answer this request without a new sign-in."""
    authenticated = _ms(sso.session.authenticated_at)
    if authenticated >= interaction.created:
        return True  # signed in for this very request
    if interaction.fresh_login:
        return False
    max_age = interaction.request.max_age
    if max_age is not None and _ms(provider.runtime.now()) - authenticated > max_age * 1000:
        return False
    hint = interaction.request.id_token_hint
    if hint is not None:
        try:
            claims = verify_id_token_hint(
                hint,
                provider.keys.verification_keys(),
                expected_issuer=provider.issuer,
                now=provider.runtime.now(),
            )
        except KeyfobError:
            return False
        return claims.subject == subject_of(provider, client, sso.user.id)
    return True


async def _needs_consent(
    provider: Provider, client: ClientRecord, sso: SsoContext, interaction: Interaction
) -> bool:
    if "consent" in interaction.request.prompt:
        return True
    if client.first_party:
        return False
    granted = await provider.runtime.store.get_consent(sso.user.id, client.id)
    return granted is None or not set(interaction.request.scope) <= set(granted)


async def issue_code(
    request: Request,
    provider: Provider,
    client: ClientRecord,
    sso: SsoContext,
    interaction: Interaction,
) -> Response:
    """Store a single-use code (at most :data:`CODE_LIFETIME_SECONDS`) and send it back."""
    runtime, authorization = provider.runtime, interaction.request
    code = secrets.token_urlsafe(32)
    now = runtime.now()
    challenge = authorization.code_challenge

    await runtime.store.add_code(
        OidcCodeRecord(
            code_hash=hash_refresh_token(code),
            client_id=client.id,
            user_id=sso.user.id,
            redirect_uri=authorization.redirect_uri,
            scope=authorization.scope,
            nonce=authorization.nonce,
            code_challenge=None if challenge is None else challenge.challenge,
            resource=authorization.resource,
            sid=sso.session.sid,
            auth_time=sso.session.authenticated_at,
            amr=sso.session.amr,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_LIFETIME_SECONDS),
        )
    )
    await record_event(
        runtime,
        "oidc.code_issued",
        user_id=sso.user.id,
        client_id=client.id,
        ip=client_ip(request),
        scope=" ".join(authorization.scope),
    )
    return answer(
        request,
        provider,
        client,
        authorization.redirect_uri,
        authorization.response_mode,
        authorization.state,
        code=code,
    )


def answer(
    request: Request,
    provider: Provider,
    client: ClientRecord,
    target: str,
    mode: str,
    state: str | None,
    *,
    code: str | None = None,
    error: OAuthError | None = None,
) -> Response:
    """The authorization response to ``target``: a 303 redirect (``query``) or a page that
    posts itself (``form_post``); always with ``iss`` (RFC 9207) and ``state`` when sent."""
    params = authorization_response_params(
        code=code, error=error, state=state, issuer=provider.issuer
    )
    if mode == "form_post":
        parts = urlsplit(target)
        context: dict[str, Any] = {"action": target, "fields": params, "client_name": client.name}
        return render(
            request, "form_post.html", context, form_action=(f"{parts.scheme}://{parts.netloc}",)
        )
    url = build_redirect(target, params, "query")
    return RedirectResponse(url, status_code=303, headers=security_headers())
