"""What the sign-in pages' JSON endpoints share (the hosted pages' and the OpenID Provider's):
bodies, sign-in into SSO.

The page scripts post JSON here; a sign-in never opens an API session (no refresh token),
it opens an SSO session whose cookie the page then follows to ``next``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from keyfob.core.amr import wallet_amr
from keyfob.server.infra.inputs import Body, Text, UrlSafe, Username
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import caller_of, client_ip, failures_audited, sign_in_event
from keyfob.server.services.devices import device_seen
from keyfob.server.services.passkey_flow import finish_sign_in
from keyfob.server.services.sso import replace_sso_session
from keyfob.server.services.wallet import SignedMessage, verify_signature
from keyfob.server.services.wallet import nonce_spend as wallet_nonce_spend
from keyfob.store.records import UserRecord

NO_STORE = {"Cache-Control": "no-store"}


class PageTarget(Body):
    """Where the page continues after signing in: the client's redirect URI and state."""

    redirect_uri: Text | None = Field(default=None, max_length=2048)
    state: Text | None = Field(default=None, max_length=1024)


class PasskeyPageRequest(PageTarget):
    """A passkey response (``PublicKeyCredential.toJSON()``) posted by a page."""

    credential: dict[str, Any]


class WalletPageRequest(PageTarget, SignedMessage):
    """A signed sign-in message posted by a page (as for ``POST /auth/login``)."""


class OptionsPageRequest(Body):
    """Options for a passkey ceremony: a username (optional) and an enrolment link's token."""

    username: Username | None = None
    token: UrlSafe | None = Field(default=None, min_length=1, max_length=256)


def login_url(client_id: str, redirect_uri: str | None, state: str | None) -> str:
    """The client's login page URL (same origin, path and query only)."""
    params = {"redirectUri": redirect_uri, "state": state}
    query = urlencode({key: value for key, value in params.items() if value is not None})
    path = f"/auth/login/{quote(client_id, safe='')}"
    return f"{path}?{query}" if query else path


async def passkey_sign_in(
    request: Request,
    runtime: Runtime,
    credential: dict[str, Any],
    *,
    client_id: str | None,
    require_user_verification: bool = False,
) -> tuple[UserRecord, tuple[str, ...]]:
    """Verify a passkey assertion (audited either way) without opening an API session; return
    the user and the ``amr`` of the assertion (RFC 8176; ``user`` when the authenticator
    verified the user, which the admin panel requires)."""
    done = await finish_sign_in(
        runtime,
        credential,
        open_session=False,
        ip=client_ip(request),
        client_id=client_id,
        require_user_verification=require_user_verification,
    )
    return done.outcome.user, done.amr


async def wallet_sign_in(
    request: Request,
    runtime: Runtime,
    body: WalletPageRequest,
    *,
    client_id: str | None,
    may_register: bool = True,
) -> UserRecord:
    """Verify a wallet's signed message and burn its nonce; failures are audited. An unknown
    wallet makes a new account only if ``may_register`` (else :class:`RegistrationDisabled`,
    nothing written)."""
    ip, now = client_ip(request), runtime.now()
    async with failures_audited(runtime, body.chain, ip=ip, client_id=client_id):
        verified = verify_signature(runtime, body)
        outcome = await runtime.store.complete_sign_in(
            spend=wallet_nonce_spend(runtime, verified),
            kind=verified.chain,
            address=verified.address,
            public_key=verified.public_key,
            amr=wallet_amr(),
            refresh_token_hash=None,
            now=now,
            refresh_expires_at=now,
            audit=sign_in_event(runtime, verified.chain, ip=ip, client_id=client_id),
            create_user=may_register,
        )
    return outcome.user


async def continue_to(
    request: Request, runtime: Runtime, user: UserRecord, amr: tuple[str, ...], next_url: str
) -> JSONResponse:
    """Replace the browser's SSO session with a new one for ``user`` (seen on this browser's
    device); answer ``{"next"}``."""
    response = JSONResponse({"next": next_url}, headers=NO_STORE)
    device = await device_seen(caller_of(request))
    await replace_sso_session(request, runtime, response, user=user, amr=amr, device=device)
    return response
