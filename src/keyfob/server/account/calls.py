"""What the account page's changes share: a script call's body, the step-up check, answers.

A script's JSON call is checked (Origin, ``X-CSRF-Token``, see
:func:`~keyfob.server.account.guard.holder_call`) before its body is read; a body that does not
fit its model is a 422 ``invalid_request``, never a 500. Every change then needs the page's
step-up grant (:mod:`keyfob.server.account.step_up`); without one a script call answers 403
``step_up_required`` (the page script confirms and tries again) and a form shows the same
sentence beside itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from keyfob.core.step_up import StepUpGrant
from keyfob.errors import InvalidRequest, StepUpRequired
from keyfob.server.account.guard import Holder, holder_call
from keyfob.server.account.step_up import require_step_up
from keyfob.server.infra.errors import describe_validation

B = TypeVar("B", bound=BaseModel)

#: What a change without a fresh proof says, on a form or to the page script.
CONFIRM_FIRST = (
    "Confirm it is you first: this change needs a fresh proof from a passkey or wallet "
    "already on your account."
)


async def call_body(request: Request, model: type[B]) -> tuple[Holder, B]:
    """The holder of a script call (Origin and CSRF checked first) and its JSON body as
    ``model`` (an empty body is ``{}``); :class:`InvalidRequest` if it does not fit."""
    holder = await holder_call(request)
    raw = await request.body()
    try:
        body = model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise InvalidRequest(describe_validation(error.errors())) from None
    return holder, body


def stepped_up(request: Request, holder: Holder) -> StepUpGrant:
    """The request's step-up grant for ``holder``; :class:`StepUpRequired` in the page's words
    (the grant is missing, expired, or not this session's or this page's)."""
    try:
        return require_step_up(request, holder)
    except StepUpRequired as refused:
        raise StepUpRequired(CONFIRM_FIRST) from refused


def answer(content: Mapping[str, Any]) -> JSONResponse:
    """A script call's JSON answer, never cached."""
    return JSONResponse(dict(content), headers={"Cache-Control": "no-store"})
