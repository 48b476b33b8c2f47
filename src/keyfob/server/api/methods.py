"""Account linking: list a user's sign-in methods, add a wallet, remove a method (not the last).

Every call takes the account token; adding or removing a method also a fresh step-up grant
(:mod:`keyfob.server.api.step_up`). Adding a passkey to an account is
``POST /auth/passkey/register/options`` and ``/verify`` with both (see
:mod:`keyfob.server.api.passkeys`).
"""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.engine import Connection

from keyfob.server.api.bearer import CurrentUser
from keyfob.server.api.responses import user_out
from keyfob.server.api.schemas import IdentityOut, LinkWalletRequest, UserOut
from keyfob.server.api.step_up import SteppedUpUser
from keyfob.server.infra.runtime import RuntimeDep
from keyfob.server.services.audit import client_ip, record_event
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.wallet import nonce_spend, verify_signature
from keyfob.store.store import spend_nonce


async def list_methods(user: CurrentUser) -> list[IdentityOut]:
    """The signed-in user's sign-in methods: wallets and passkeys."""
    return user_out(user).identities


async def add_wallet(
    body: LinkWalletRequest, request: Request, user: SteppedUpUser, runtime: RuntimeDep
) -> UserOut:
    """Add a wallet to the signed-in account: sign a fresh sign-in message with it (nonce from
    ``POST /auth/nonce``) and send it as for ``POST /auth/login``. 409 if it is another
    account's."""
    verified = verify_signature(runtime, body)
    spend = nonce_spend(runtime, verified)
    now = runtime.now()

    def burn(conn: Connection) -> None:
        spend_nonce(conn, runtime.store.dialect_statements, spend, now)

    identity = await runtime.store.link_identity(
        user_id=user.id,
        kind=verified.chain,
        address=verified.address,
        public_key=verified.public_key,
        now=now,
        before=burn,
    )
    await record_event(
        runtime,
        "wallet_added",
        user_id=user.id,
        ip=client_ip(request),
        chain=identity.kind,
        address=identity.address,
    )
    updated = await runtime.store.get_user(user.id)
    assert updated is not None
    return user_out(updated)


async def remove_method(
    identity_id: str, request: Request, user: SteppedUpUser, runtime: RuntimeDep
) -> Response:
    """Remove one of the signed-in user's sign-in methods (and the sessions it opened);
    409 if it is the last one."""
    await runtime.store.remove_identity(
        user_id=user.id,
        identity_id=identity_id,
        now=runtime.now(),
        deny_until=deny_until(runtime),
    )
    await record_event(
        runtime,
        "sign_in_method_removed",
        user_id=user.id,
        ip=client_ip(request),
        identity=identity_id,
    )
    return Response(status_code=204)
