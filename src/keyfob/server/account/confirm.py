"""``POST /account/step-up/options`` and ``/verify``: the account page's step-up ceremony.

The ceremony is the JSON API's (:mod:`keyfob.server.services.step_up`): a challenge for a
passkey of the account, or a step-up message for one of its wallets, answered and spent once.
Here the caller is the page script (Origin and ``X-CSRF-Token`` checked) and the grant goes to
the browser as the page's HttpOnly cookie (:func:`~keyfob.server.account.step_up.grant_to_browser`),
never to the script.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.server.account.calls import answer, call_body
from keyfob.server.account.step_up import grant_to_browser
from keyfob.server.services.step_up import (
    StepUpOptionsRequest,
    StepUpVerifyRequest,
    prove_step_up,
    step_up_challenge,
)


async def step_up_options(request: Request) -> Response:
    """A challenge for a credential of the signed-in account: ``{}`` for WebAuthn request
    options of its passkeys, ``{chain, address}`` for the step-up message one of its wallets
    signs. Answers ``{method, options, message, expiresAt}``."""
    holder, body = await call_body(request, StepUpOptionsRequest)
    challenge = await step_up_challenge(holder.runtime, holder.user, body)
    return answer(
        {
            "method": challenge.method,
            "options": challenge.options,
            "message": challenge.message,
            "expiresAt": challenge.expires_at.isoformat(),
        }
    )


async def step_up_verify(request: Request) -> Response:
    """Check the proof (a passkey's ``credential``, or a wallet's ``chain``, ``message`` and
    ``signature``) against a credential of this account, spend its challenge and set the
    page's grant cookie for ``KEYFOB_STEP_UP_TTL`` seconds. Answers ``{method, expiresIn}``;
    audited (``step_up`` or ``step_up_failed``)."""
    holder, body = await call_body(request, StepUpVerifyRequest)
    method = await prove_step_up(holder.runtime, holder.user, body, ip=holder.ip)
    response = answer({"method": method, "expiresIn": holder.runtime.settings.step_up_ttl})
    await grant_to_browser(holder, response, method=method)
    return response
