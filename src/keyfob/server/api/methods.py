"""Account linking: list a user's sign-in methods, add a wallet, remove a method (not the last).

Every call takes the account token; adding or removing a method also a fresh step-up grant
(:mod:`keyfob.server.api.step_up`). Adding a passkey to an account is
``POST /auth/passkey/register/options`` and ``/verify`` with both (see
:mod:`keyfob.server.api.passkeys`). The changes themselves are
:mod:`keyfob.server.services.methods`, shared with the account page.
"""

from __future__ import annotations

from fastapi import Request, Response

from keyfob.server.api.bearer import CurrentUser
from keyfob.server.api.responses import user_out
from keyfob.server.api.schemas import IdentityOut, LinkWalletRequest, UserOut
from keyfob.server.api.step_up import SteppedUpUser
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.services import methods
from keyfob.server.services.audit import client_ip


async def list_methods(user: CurrentUser) -> list[IdentityOut]:
    """The signed-in user's sign-in methods: wallets and passkeys."""
    return user_out(user).identities


async def add_wallet(
    body: LinkWalletRequest, request: Request, user: SteppedUpUser, runtime: RuntimeDep
) -> UserOut:
    """Add a wallet to the signed-in account: sign a fresh sign-in message with it (nonce from
    ``POST /auth/nonce``) and send it as for ``POST /auth/login``. 409 if it is another
    account's."""
    await methods.link_wallet(runtime, user, body, ip=client_ip(request))
    updated = await runtime.store.get_user(user.id)
    assert updated is not None
    return user_out(updated)


async def remove_method(
    identity_id: str, request: Request, user: SteppedUpUser, runtime: RuntimeDep
) -> Response:
    """Remove one of the signed-in user's sign-in methods (and the sessions it opened);
    409 if it is the last one."""
    await methods.remove_method(runtime, user, identity_id, ip=client_ip(request))
    return Response(status_code=204)
