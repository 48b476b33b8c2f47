"""Adding a sign-in method from the account page: a passkey (its WebAuthn registration) or a
wallet (a signed sign-in message). Script calls, each behind the step-up grant.

Adding a passkey takes two calls, as on the JSON API (the same
:mod:`~keyfob.server.services.passkey_flow` ceremony): ``/account/passkeys/options`` stores a
registration challenge for this account, ``/account/passkeys/verify`` spends it with the new
passkey. Linking a wallet signs a fresh sign-in message (``POST /auth/nonce``) with the wallet
to add; its nonce is spent with the link (:func:`keyfob.server.services.methods.link_wallet`).
Each success answers where the page goes next: ``/account`` with its flash.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from keyfob.server.account.calls import answer, call_body, stepped_up
from keyfob.server.account.views import done_url
from keyfob.server.infra.inputs import Body, Text
from keyfob.server.services.methods import check_passkey_name, link_wallet
from keyfob.server.services.passkey_flow import begin_registration, finish_registration
from keyfob.server.services.wallet import SignedMessage


class NoBody(Body):
    """A call that sends nothing (``{}``)."""


class NewPasskeyRequest(Body):
    """The new passkey's ``credential`` (``toJSON()``) and, optionally, its name."""

    credential: dict[str, Any]
    name: Text | None = Field(default=None, max_length=256)


async def passkey_options(request: Request) -> Response:
    """Creation options (``PublicKeyCredentialCreationOptionsJSON``) for a passkey added to the
    signed-in account; its passkeys are excluded, the challenge stored for this account."""
    holder, _ = await call_body(request, NoBody)
    stepped_up(request, holder)
    options = await begin_registration(holder.runtime, user=holder.user)
    return answer(options.options)


async def passkey_verify(request: Request) -> Response:
    """Store the new passkey on the signed-in account (no session is opened: the browser is
    signed in already). A blank name is no name. Audited (``passkey_added``)."""
    holder, body = await call_body(request, NewPasskeyRequest)
    stepped_up(request, holder)
    blank = body.name is None or not body.name.strip()
    name = None if blank else check_passkey_name(body.name)
    await finish_registration(
        holder.runtime,
        body.credential,
        user=holder.user,
        open_session=False,
        ip=holder.ip,
        name=name,
    )
    return answer({"next": done_url("passkey_added")})


async def wallet_link(request: Request) -> Response:
    """Link the wallet that signed this fresh sign-in message to the signed-in account
    (409 ``conflict`` if it signs in to another one). Audited (``wallet_added``)."""
    holder, body = await call_body(request, SignedMessage)
    stepped_up(request, holder)
    await link_wallet(holder.runtime, holder.user, body, ip=holder.ip)
    return answer({"next": done_url("wallet_linked")})
