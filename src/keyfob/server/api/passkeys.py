"""The passkey JSON API: registration and sign-in options and verification."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from keyfob.server.api.responses import token_response
from keyfob.server.api.schemas import (
    PasskeyOptionsOut,
    PasskeyOptionsRequest,
    PasskeyVerifyRequest,
    TokenResponse,
    json_response,
)
from keyfob.server.api.step_up import OptionalSteppedUpUser
from keyfob.server.infra.client_address import Caller
from keyfob.server.infra.runtime import Runtime, RuntimeDep
from keyfob.server.services.audit import caller_of
from keyfob.server.services.devices import device_seen
from keyfob.server.services.passkey_flow import (
    PasskeySignIn,
    begin_registration,
    begin_sign_in,
    finish_registration,
    finish_sign_in,
)


def _tokens(runtime: Runtime, done: PasskeySignIn) -> TokenResponse:
    outcome = done.outcome
    assert outcome.session is not None
    assert done.refresh_token is not None
    return token_response(runtime, outcome.user, outcome.session, done.refresh_token)


async def sign_in_options(runtime: Runtime, body: PasskeyOptionsRequest) -> PasskeyOptionsOut:
    """Request options for a passkey sign-in (also served by the ASGI fast path)."""
    return PasskeyOptionsOut((await begin_sign_in(runtime, username=body.username)).options)


async def sign_in_with_passkey(
    runtime: Runtime, body: PasskeyVerifyRequest, caller: Caller
) -> TokenResponse:
    """Verify a passkey assertion and issue tokens (also served by the ASGI fast path)."""
    device = await device_seen(caller)
    done = await finish_sign_in(runtime, body.credential, ip=caller.ip, device=device)
    return _tokens(runtime, done)


async def register_options(
    body: PasskeyOptionsRequest, runtime: RuntimeDep, user: OptionalSteppedUpUser
) -> dict[str, Any]:
    """Creation options (``PublicKeyCredentialCreationOptionsJSON``) for a new account, or with
    the account token and a step-up grant for a passkey added to the signed-in account."""
    options = await begin_registration(runtime, username=body.username, user=user)
    return options.options


async def register_verify(
    body: PasskeyVerifyRequest, request: Request, runtime: RuntimeDep, user: OptionalSteppedUpUser
) -> Response:
    """Store the new passkey and sign in with it (same response as ``POST /auth/login``)."""
    caller = caller_of(request)
    device = await device_seen(caller)
    done = await finish_registration(
        runtime, body.credential, user=user, ip=caller.ip, device=device
    )
    return json_response(_tokens(runtime, done))
