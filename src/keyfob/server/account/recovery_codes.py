"""``POST /account/recovery-codes``: a new set of recovery codes, shown once.

It replaces every earlier code of the account, so it is a credential change like adding a
passkey: it needs the account page's step-up grant (a fresh proof, or a recovery sign-in just
made), and it is audited (``recovery_codes_generated``). The codes are the answer to the post
itself (``no-store``), never a page one can load again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.errors import StepUpRequired
from keyfob.server.account.guard import holder_form
from keyfob.server.account.step_up import require_step_up
from keyfob.server.account.views import page_endpoint
from keyfob.server.pages.i18n import N_
from keyfob.server.pages.render import render
from keyfob.server.services.recovery import generate_recovery_codes

CODES_PATH = "/account/recovery-codes"
STEP_UP_FIRST = (
    "New recovery codes replace the old ones, so keyfob asks you to confirm first: confirm "
    "with a passkey or wallet of this account, then generate them again."
)


@page_endpoint
async def generate_codes(request: Request) -> Response:
    """Replace the account's recovery codes by a new set and show it, once (CSRF-checked,
    step-up required, audited)."""
    holder, _ = await holder_form(request)
    try:
        require_step_up(request, holder)
    except StepUpRequired:
        raise StepUpRequired(STEP_UP_FIRST) from None
    codes = await generate_recovery_codes(holder.runtime, holder.user)
    await holder.audit("recovery_codes_generated", count=len(codes))
    context = {"title": N_("Your recovery codes"), "user": holder.user, "codes": codes}
    return render(request, "account/recovery_codes.html", context)
