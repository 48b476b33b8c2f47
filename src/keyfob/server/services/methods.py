"""A user's sign-in methods changed: a wallet linked, a passkey renamed, a method removed
(never the last one).

The JSON API (``/auth/methods*``, account token and step-up grant) and the account page
(``/account``, SSO session and a fresh proof) both call these once their caller is checked;
each change is audited here.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from keyfob.errors import InvalidRequest
from keyfob.server.infra.inputs import CONTROL
from keyfob.server.infra.runtime import Runtime
from keyfob.server.services.audit import record_event
from keyfob.server.services.lifetimes import deny_until
from keyfob.server.services.wallet import SignedMessage, nonce_spend, verify_signature
from keyfob.store.records import IdentityRecord, UserRecord
from keyfob.store.store import spend_nonce

#: The longest passkey name kept (its column's width).
MAX_PASSKEY_NAME = 64


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
    (``sign_in_method_removed``, with its kind and address when ``user`` lists it)."""
    await runtime.store.remove_identity(
        user_id=user.id,
        identity_id=identity_id,
        now=runtime.now(),
        deny_until=deny_until(runtime),
    )
    removed = next((i for i in user.identities if i.id == identity_id), None)
    await record_event(
        runtime,
        "sign_in_method_removed",
        user_id=user.id,
        ip=ip,
        identity=identity_id,
        kind=removed.kind if removed else None,
        address=removed.address if removed else None,
    )


def check_passkey_name(name: object) -> str:
    """``name`` without its surrounding spaces, if it is 1 to :data:`MAX_PASSKEY_NAME`
    characters of text; else :class:`~keyfob.errors.InvalidRequest`."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise InvalidRequest("Give the passkey a name.")
    if len(text) > MAX_PASSKEY_NAME:
        raise InvalidRequest(f"A passkey's name is at most {MAX_PASSKEY_NAME} characters.")
    if CONTROL.search(text):
        raise InvalidRequest("A passkey's name cannot hold control characters.")
    return text


async def rename_passkey(
    runtime: Runtime, user: UserRecord, identity_id: str, name: object, *, ip: str | None
) -> str:
    """Name one of ``user``'s passkeys (checked by :func:`check_passkey_name`) and return the
    name kept; :class:`~keyfob.errors.NotFound` if it is not one of theirs. Audited
    (``passkey_renamed``)."""
    text = check_passkey_name(name)
    await runtime.store.rename_passkey(user_id=user.id, identity_id=identity_id, name=text)
    await record_event(
        runtime, "passkey_renamed", user_id=user.id, ip=ip, identity=identity_id, name=text
    )
    return text
