"""The account page's forms that change a sign-in method: rename a passkey, remove a method.

Each is a POST with the page's CSRF token from its own origin, behind the step-up grant; a
refusal (no fresh proof, a bad name, the last method, a method not the holder's) shows the
account page again with the sentence beside the form that was sent.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyfob.errors import NotFound
from keyfob.server.account.calls import stepped_up
from keyfob.server.account.guard import holder_form
from keyfob.server.account.views import page_endpoint, see_other
from keyfob.server.services.methods import remove_method, rename_passkey


@page_endpoint
async def rename(request: Request) -> Response:
    """``POST /account/passkeys/{identity_id}/rename`` (field ``name``, 1 to 64 characters):
    name one of the holder's passkeys. Audited (``passkey_renamed``)."""
    holder, form = await holder_form(request)
    stepped_up(request, holder)
    identity_id = request.path_params["identity_id"]
    await rename_passkey(holder.runtime, holder.user, identity_id, form.get("name"), ip=holder.ip)
    return see_other("passkey_renamed")


@page_endpoint
async def remove(request: Request) -> Response:
    """``POST /account/methods/{identity_id}/remove``: remove one of the holder's passkeys or
    wallets and end the sessions it opened; never their last one (409). Audited
    (``sign_in_method_removed``)."""
    holder, _ = await holder_form(request)
    stepped_up(request, holder)
    identity_id = request.path_params["identity_id"]
    if not any(identity.id == identity_id for identity in holder.user.identities):
        raise NotFound("You have no sign-in method with this id.")
    await remove_method(holder.runtime, holder.user, identity_id, ip=holder.ip)
    return see_other("method_removed")
