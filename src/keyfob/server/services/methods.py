"""A user's sign-in methods changed: a wallet linked, a method removed (never the last one).

The JSON API (``/auth/methods*``, account token and step-up grant) and the account page
(``/account``, SSO session and a fresh proof) both call these once their caller is checked;
each change is audited here.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import record_event
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.wallet import SignedMessage, nonce_spend, verify_signature
from keyfob.store.records import IdentityRecord, UserRecord
from keyfob.store.store import spend_nonce


async def link_wallet(
    runtime: Runtime, user: UserRecord, signed: SignedMessage, *, ip: str | None
) -> IdentityRecord:
    """Add the wallet that signed ``signed`` (a fresh sign-in message, its nonce spent in the
    same transaction) to ``user``'s account; :class:`~keyfob.errors.Conflict` if it is
    another account's. Audited (``wallet_added``)."""
    verified = verify_signature(runtime, signed)
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
        ip=ip,
        chain=identity.kind,
        address=identity.address,
    )
    return identity


async def remove_method(
    runtime: Runtime, user: UserRecord, identity_id: str, *, ip: str | None
) -> None:
    """Remove one of ``user``'s sign-in methods and end the sessions it opened (their access
    tokens on the denylist); :class:`~keyfob.errors.NotFound` if it is not theirs,
    :class:`~keyfob.errors.Conflict` if it is their last. Audited
    (``sign_in_method_removed``)."""
    await runtime.store.remove_identity(
        user_id=user.id,
        identity_id=identity_id,
        now=runtime.now(),
        deny_until=deny_until(runtime),
    )
    await record_event(
        runtime, "sign_in_method_removed", user_id=user.id, ip=ip, identity=identity_id
    )
