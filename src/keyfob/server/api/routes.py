"""The JSON API's route table: every endpoint declared once, in the order OpenAPI lists them.

:func:`install` adds them all to the app as FastAPI routes (which document each in
``/openapi.json`` and serve them all under ``create_app(fast_path=False)``); :data:`FAST_ROUTES`,
the fast path's dispatch table, is made of the same declarations (the :class:`JsonRoute`
entries). A new endpoint is one line here and a function in the module of its feature.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from keyfob.server.api import (
    challenge,
    consents,
    login,
    me,
    methods,
    nonce,
    passkeys,
    refresh,
    session_keys,
    step_up,
)
from keyfob.server.api.routing import JsonRoute, Route, build_router, fast_routes
from keyfob.server.api.schemas import (
    AccessTokenResponse,
    ChallengeResponse,
    IdentityOut,
    LoginRequest,
    NonceRequest,
    NonceResponse,
    PasskeyOptionsRequest,
    PasskeyVerifyRequest,
    RefreshRequest,
    SessionKeyOut,
    SessionKeyTokenRequest,
    TokenResponse,
    UserOut,
)

WALLET, TOKENS, KEYS = ("wallet sign-in",), ("tokens",), ("keys",)
SESSION_KEYS, PASSKEYS, ACCOUNT = ("session keys",), ("passkeys",), ("account",)

ROUTES: tuple[Route | JsonRoute, ...] = (
    JsonRoute(
        "/auth/nonce",
        NonceRequest,
        nonce.issue_nonce,
        NonceResponse,
        WALLET,
        name="post_nonce",
        description="Issue a nonce and the message to sign (``message`` is null when no "
        "address was given).",
    ),
    Route("GET", "/auth/nonce", nonce.get_nonce, WALLET, response_model=NonceResponse),
    JsonRoute(
        "/auth/login",
        LoginRequest,
        login.sign_in,
        TokenResponse,
        WALLET,
        name="login",
        description="Sign in with a wallet signature; the first sign-in creates the user.",
        with_caller=True,
    ),
    Route("POST", "/auth/challenge", challenge.challenge, WALLET, response_model=ChallengeResponse),
    JsonRoute(
        "/auth/refresh",
        RefreshRequest,
        refresh.refresh_tokens,
        TokenResponse,
        TOKENS,
        name="refresh",
        description="Trade a refresh token for a new pair; the old one is spent (reuse revokes "
        "the session).",
        with_caller=True,
    ),
    Route("POST", "/auth/logout", refresh.logout, TOKENS, status_code=204, response_class=Response),
    JsonRoute(
        "/auth/session-key/token",
        SessionKeyTokenRequest,
        session_keys.mint_for_session_key,
        AccessTokenResponse,
        SESSION_KEYS,
        name="session_key_token",
        description="Mint an access token for a timestamp the session key signed within the "
        "last 30 seconds.",
    ),
    Route(
        "GET",
        "/auth/session-keys",
        session_keys.list_session_keys,
        SESSION_KEYS,
        response_model=list[SessionKeyOut],
    ),
    Route(
        "DELETE",
        "/auth/session-keys/{thumbprint}",
        session_keys.revoke_session_key,
        SESSION_KEYS,
        status_code=204,
        response_class=Response,
    ),
    Route("GET", "/auth/me", me.me, TOKENS, response_model=UserOut),
    Route("GET", "/.well-known/jwks.json", me.jwks, KEYS),
    Route("GET", "/auth/denylist", me.denylist, KEYS),
    Route("GET", "/healthz", me.healthz, ("health",)),
    Route("POST", "/auth/passkey/register/options", passkeys.register_options, PASSKEYS),
    Route(
        "POST",
        "/auth/passkey/register/verify",
        passkeys.register_verify,
        PASSKEYS,
        response_model=TokenResponse,
    ),
    JsonRoute(
        "/auth/passkey/login/options",
        PasskeyOptionsRequest,
        passkeys.sign_in_options,
        dict[str, Any],
        PASSKEYS,
        name="login_options",
        description="Request options (``PublicKeyCredentialRequestOptionsJSON``); without a "
        "username the\nbrowser offers every passkey it holds for this site (usernameless "
        "sign-in).",
    ),
    JsonRoute(
        "/auth/passkey/login/verify",
        PasskeyVerifyRequest,
        passkeys.sign_in_with_passkey,
        TokenResponse,
        PASSKEYS,
        name="login_verify",
        description="Sign in with a passkey (same response as ``POST /auth/login``).",
        with_caller=True,
    ),
    Route("GET", "/auth/methods", methods.list_methods, ACCOUNT, response_model=list[IdentityOut]),
    Route("POST", "/auth/methods/wallet", methods.add_wallet, ACCOUNT, response_model=UserOut),
    Route("DELETE", "/auth/methods/{identity_id}", methods.remove_method, ACCOUNT, status_code=204),
    Route(
        "POST",
        "/auth/step-up/options",
        step_up.step_up_options,
        ACCOUNT,
        response_model=step_up.StepUpOptionsOut,
    ),
    Route(
        "POST",
        "/auth/step-up/verify",
        step_up.step_up_verify,
        ACCOUNT,
        response_model=step_up.StepUpGrantOut,
    ),
    Route(
        "GET",
        "/auth/consents",
        consents.list_consents,
        ACCOUNT,
        response_model=list[consents.ConsentOut],
    ),
    Route(
        "DELETE", "/auth/consents/{client_id}", consents.revoke_consent, ACCOUNT, status_code=204
    ),
)

#: The endpoints the fast path answers itself, by path (each a ``POST``).
FAST_ROUTES = fast_routes(ROUTES)


def install(app: FastAPI) -> None:
    """Add every endpoint of :data:`ROUTES` to ``app`` as a FastAPI route."""
    app.include_router(build_router(ROUTES))
