"""Step-up: a fresh proof from a credential already on the account before its sign-in methods
change (``POST /auth/step-up/options`` and ``/verify``, and the check the changes make).

The ceremony is :mod:`keyfob.server.services.step_up` (shared with the account page). Here the
grant it buys lasts ``KEYFOB_STEP_UP_TTL`` seconds, is bound to the user and the session of the
account token, and travels in the ``X-Keyfob-Step-Up`` header. A bearer token alone changes
nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from keyfob.core.step_up import StepUpGrant
from keyfob.core.tokens import AccessTokenClaims
from keyfob.server.api.bearer import Claims, CurrentUser, bearer_token, current_user
from keyfob.server.infra.inputs import Body
from keyfob.server.infra.runtime import Runtime, RuntimeDep, get_runtime
from keyfob.server.services.audit import client_ip
from keyfob.server.services.step_up import (
    StepUpOptionsRequest,
    StepUpVerifyRequest,
    check_grant,
    grant_step_up,
    prove_step_up,
    step_up_challenge,
)
from keyfob.server.services.tokens import verify_account_token
from keyfob.store.records import UserRecord

HEADER = "X-Keyfob-Step-Up"


class StepUpOptionsOut(Body):
    """WebAuthn request options (``method`` passkey) or the message to sign (wallet)."""

    method: Literal["passkey", "wallet"]
    options: dict[str, Any] | None = None
    message: str | None = None
    expires_at: datetime


class StepUpGrantOut(Body):
    """The grant to send in ``X-Keyfob-Step-Up`` with credential changes, and its lifetime."""

    step_up_token: str
    expires_in: int
    method: str


def check_step_up(
    connection: HTTPConnection, runtime: Runtime, claims: AccessTokenClaims
) -> StepUpGrant:
    """The request's step-up grant, made for this user in this session and still fresh;
    :class:`StepUpRequired` (403 ``step_up_required``) otherwise."""
    return check_grant(
        runtime,
        connection.headers.get(HEADER),
        subject=claims.subject,
        session_id=claims.session_id,
        audience=runtime.settings.account_audience,
    )


async def stepped_up_user(
    connection: HTTPConnection, claims: Claims, user: CurrentUser, runtime: RuntimeDep
) -> UserRecord:
    """FastAPI dependency: the signed-in user, once the request's step-up grant is checked."""
    check_step_up(connection, runtime, claims)
    return user


async def optional_stepped_up_user(
    connection: HTTPConnection, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> UserRecord | None:
    """FastAPI dependency: None without an Authorization header; else the user of the account
    token, once the step-up grant is checked (passkey registration adds to an account then)."""
    if "authorization" not in connection.headers:
        return None
    claims = await verify_account_token(runtime, bearer_token(connection))
    user = await current_user(claims, runtime)
    check_step_up(connection, runtime, claims)
    return user


SteppedUpUser = Annotated[UserRecord, Depends(stepped_up_user)]
OptionalSteppedUpUser = Annotated[UserRecord | None, Depends(optional_stepped_up_user)]


async def step_up_options(
    body: StepUpOptionsRequest, user: CurrentUser, runtime: RuntimeDep
) -> StepUpOptionsOut:
    """A challenge for a credential of the signed-in account (account token): WebAuthn request
    options for its passkeys, or for ``{chain, address}`` of one of its wallets the step-up
    message to sign (a sign-in message with Request ID ``keyfob-step-up``)."""
    challenge = await step_up_challenge(runtime, user, body)
    return StepUpOptionsOut(
        method=challenge.method,
        options=challenge.options,
        message=challenge.message,
        expires_at=challenge.expires_at,
    )


async def step_up_verify(
    body: StepUpVerifyRequest,
    request: Request,
    claims: Claims,
    user: CurrentUser,
    runtime: RuntimeDep,
) -> StepUpGrantOut:
    """Check the proof against a credential of this account, spend its challenge, and grant
    ``KEYFOB_STEP_UP_TTL`` seconds of credential changes to this session. Audited."""
    ip = client_ip(request)
    method = await prove_step_up(runtime, user, body, ip=ip)
    assert claims.session_id is not None  # account tokens always name their session
    grant = await grant_step_up(
        runtime,
        user,
        session_id=claims.session_id,
        method=method,
        audience=runtime.settings.account_audience,
        ip=ip,
    )
    return StepUpGrantOut(
        step_up_token=grant, expires_in=runtime.settings.step_up_ttl, method=method
    )
