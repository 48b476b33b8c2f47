"""`Store`: every query keyfob makes, each one short transaction (sessions live in sessions.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    LargeBinary,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.engine import Connection

from keyfob.errors import (
    Forbidden,
    InvalidCredential,
    InvalidNonce,
    KeyfobError,
    RegistrationDisabled,
)
from keyfob.store.account_sessions import AccountSessionStore
from keyfob.store.admin import AdminStore
from keyfob.store.audit import AuditStore
from keyfob.store.base import DialectStatements, every, execute, first, one, rowcount, scalar
from keyfob.store.clients import ClientStore
from keyfob.store.engine import create_engine
from keyfob.store.oidc import OidcStore
from keyfob.store.oidc_grants import purge_grants
from keyfob.store.passkeys import PasskeyStore, bump_sign_count, consume_challenge
from keyfob.store.records import (
    AuditEvent,
    IdentityRecord,
    NonceRecord,
    PasskeyChallengeRecord,
    SessionDevice,
    SigningKeyRecord,
    SignInOutcome,
    UserRecord,
)
from keyfob.store.recovery import RecoveryStore
from keyfob.store.rows import (
    IDENTITY_PREFIX,
    identity_from,
    nonce_from,
    session_from,
    signing_key_from,
    user_from,
    user_from_joined,
)
from keyfob.store.rows_admin import storable
from keyfob.store.schema import (
    UTCDateTime,
    audit_events,
    denied_tokens,
    identities,
    nonces,
    passkey_challenges,
    refresh_tokens,
    session_keys,
    sessions,
    signing_keys,
    sso_sessions,
    used_tokens,
    users,
)
from keyfob.store.sessions import SESSION_PREFIX, SessionStore, create_session_rows, session_rows
from keyfob.store.sso import SsoStore

_i, _u = identities.c, users.c


@dataclass(frozen=True, slots=True)
class NonceSpend:
    """How a sign-in spends its nonce: consume a stored ``nonce`` (and let ``check`` refuse
    the record by raising), or mark ``used_key`` spent until ``used_until`` (signed nonces,
    challenge ids), or consume a WebAuthn ``challenge`` (``challenge_check`` may refuse it)
    and store the passkey's new ``sign_count``, which must grow."""

    nonce: str | None = None
    check: Callable[[NonceRecord], None] | None = None
    used_key: str | None = None
    used_until: datetime | None = None
    challenge: str | None = None
    challenge_check: Callable[[PasskeyChallengeRecord], None] | None = None
    sign_count: int | None = None


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


_CONSUME_NONCE = (
    delete(nonces)
    .where(nonces.c.nonce == bindparam("n"), nonces.c.expires_at > _now())
    .returning(*nonces.c)
)
_IS_DENIED = select(denied_tokens.c.jti).where(denied_tokens.c.jti == bindparam("j"))
_DENIED = (
    select(denied_tokens.c.jti, denied_tokens.c.expires_at)
    .where(denied_tokens.c.expires_at > _now())
    .order_by(denied_tokens.c.expires_at, denied_tokens.c.jti)
)
_identity_match = and_(
    _i.kind == bindparam("lookup_kind", type_=String()),
    _i.address == bindparam("lookup_address", type_=String()),
)
# A returning sign-in is two statements: stamp the user found through the identity, then stamp
# that identity while reading back all of the user's identities in the same UPDATE.
_TOUCH_USER = (
    update(users)
    .where(_u.id == select(_i.user_id).where(_identity_match).scalar_subquery())
    .values(last_login=_now())
    .returning(*users.c)
)
_IDENTITY_EXISTS = select(_i.id).where(_identity_match)
_TOUCH_IDENTITIES = (
    update(identities)
    .where(_i.user_id == bindparam("uid"))
    .values(
        last_used_at=case((_identity_match, _now()), else_=_i.last_used_at),
        public_key=case(
            (and_(_identity_match, _i.public_key.is_(None)), bindparam("pk", type_=LargeBinary())),
            else_=_i.public_key,
        ),
    )
    .returning(*identities.c)
)
_INSERT_USER = insert(users).returning(*users.c)
_INSERT_AUDIT = insert(audit_events)
_INSERT_NONCE = insert(nonces)
_INSERT_SIGNING_KEY = insert(signing_keys)
_GET_USER = (
    select(*users.c, *(column.label(IDENTITY_PREFIX + column.name) for column in identities.c))
    .select_from(users.outerjoin(identities))
    .where(_u.id == bindparam("uid"))
)
_SIGNING_KEYS = select(signing_keys).order_by(
    signing_keys.c.created_at.desc(), signing_keys.c.kid.desc()
)
_RETIRE = update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=_now())
_RETIRE_EXCEPT = _RETIRE.where(signing_keys.c.kid != bindparam("keep"))
_RETIRE_ALG_EXCEPT = _RETIRE_EXCEPT.where(signing_keys.c.alg == bindparam("key_alg"))
_RESEAL_KEY = (
    update(signing_keys)
    .where(signing_keys.c.kid == bindparam("key_id"))
    .where(signing_keys.c.sealed_private_key == bindparam("old", type_=LargeBinary()))
    .values(sealed_private_key=bindparam("new", type_=LargeBinary()))
)


def _purge_statements() -> tuple[Any, Any, tuple[Any, ...], tuple[Any, ...]]:
    rt, sk = refresh_tokens.c, session_keys.c
    expired_rt = select(func.count()).where(rt.expires_at <= _now()).scalar_subquery()
    expired_sk = select(func.count()).where(sk.expires_at <= _now()).scalar_subquery()
    # Sessions die with their last refresh token and session key; look only at those whose
    # tokens or keys expire now. Their expired tokens and keys go by cascade.
    dying = union(
        select(rt.session_id).where(rt.expires_at <= _now()),
        select(sk.session_id).where(sk.expires_at <= _now()),
    )
    dead_sessions = delete(sessions).where(
        sessions.c.id.in_(dying.scalar_subquery()),
        ~exists().where(rt.session_id == sessions.c.id, rt.expires_at > _now()),
        ~exists().where(sk.session_id == sessions.c.id, sk.expires_at > _now()),
    )

    def expired(*tables: Any) -> tuple[Any, ...]:
        return tuple(delete(t).where(t.c.expires_at <= _now()) for t in tables)

    return (
        select(expired_rt + expired_sk),
        dead_sessions,
        expired(refresh_tokens, session_keys),
        expired(nonces, used_tokens, denied_tokens, passkey_challenges, sso_sessions),
    )


_COUNT_EXPIRED, _DELETE_DEAD_SESSIONS, _DELETE_EXPIRED_TOKENS, _DELETE_EXPIRED_OTHERS = (
    _purge_statements()
)


def audit_values(event: AuditEvent) -> dict[str, Any]:
    """The row of an audit event (its id left to the database)."""
    values = _values(event)
    del values["id"]
    return values


class Store(
    SessionStore,
    PasskeyStore,
    ClientStore,
    SsoStore,
    AuditStore,
    AdminStore,
    OidcStore,
    RecoveryStore,
    AccountSessionStore,
):
    """keyfob's persistence: SQLite or PostgreSQL through SQLAlchemy Core.

    Every method is one short transaction; single-use things are consumed with one atomic
    statement, so of N concurrent attempts exactly one wins. All datetimes in and out are
    aware UTC.
    """

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store on a new engine for ``url`` (see :func:`keyfob.store.engine.create_engine`)."""
        return cls(create_engine(url))

    async def add_nonce(self, record: NonceRecord) -> None:
        """Remember a nonce issued in ``stored`` mode."""
        await self._run.write_one(execute, _INSERT_NONCE, _values(record))

    async def consume_nonce(self, nonce: str, *, now: datetime) -> NonceRecord | None:
        """Delete and return the nonce if it is still valid; None if unknown, used or expired."""
        row = await self._run.write_one(first, _CONSUME_NONCE, {"n": nonce, "now": now})
        return None if row is None else nonce_from(row._mapping)

    async def mark_used(self, key: str, *, expires_at: datetime) -> bool:
        """Mark a single-use key (signed nonce, challenge id) as spent: True only the first time."""
        params = {"key": key, "expires_at": expires_at}
        return await self._run.write_one(first, self._sql.mark_used, params) is not None

    async def sign_in_identity(
        self, *, kind: str, address: str, public_key: bytes | None, now: datetime
    ) -> tuple[UserRecord, IdentityRecord]:
        """Record a sign-in with the identity ``(kind, address)`` and return its user.

        The first sign-in creates the user and the identity; later ones stamp ``last_login`` and
        ``last_used_at`` (and fill in a missing public key). Concurrent first sign-ins of one
        address create one user. A disabled user is returned as such: refusing is the caller's.
        """
        params = {"lookup_kind": kind, "lookup_address": address, "now": now, "pk": public_key}
        for _attempt in range(3):
            try:
                return await self._run.write(_sign_in, self._sql, params)
            except _LostRace:  # another request created this identity first: read theirs
                continue
        raise KeyfobError("The sign-in raced with changes to this account; please try again.")

    async def complete_sign_in(
        self,
        *,
        spend: NonceSpend,
        kind: str,
        address: str,
        public_key: bytes | None,
        amr: tuple[str, ...],
        refresh_token_hash: str | None,
        now: datetime,
        refresh_expires_at: datetime,
        audit: AuditEvent | None = None,
        create_user: bool = True,
        device: SessionDevice | None = None,
    ) -> SignInOutcome:
        """A whole sign-in in one transaction: spend the nonce, record the sign-in (as
        :meth:`sign_in_identity`), open a session seen on ``device`` with its first refresh
        token (none when ``refresh_token_hash`` is None), write ``audit`` with the user's id
        filled in.

        Nothing is written unless all of it succeeds: an unknown, used or refused nonce raises
        :class:`InvalidNonce`, a disabled user :class:`Forbidden`, and either leaves the nonce
        as it was. Of concurrent sign-ins with one nonce exactly one wins. A passkey sign-in
        (``spend.challenge``) never creates a user: its passkey must be registered. Neither
        does any sign-in with ``create_user=False``: an unknown identity then raises
        :class:`RegistrationDisabled` and nothing is written.
        """
        params = {"lookup_kind": kind, "lookup_address": address, "now": now, "pk": public_key}
        params["audit"] = audit
        params["create_user"] = create_user
        session_args = {
            "amr": amr,
            "refresh_token_hash": refresh_token_hash,
            "now": now,
            "refresh_expires_at": refresh_expires_at,
            "device": device,
        }
        for _attempt in range(3):
            try:
                return await self._run.write(
                    _complete_sign_in, self._sql, spend, params, session_args
                )
            except _LostRace:  # all rolled back, the nonce included: try the whole again
                continue
        raise KeyfobError("The sign-in raced with changes to this account; please try again.")

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with all of their identities (oldest first), or None."""
        if not storable(user_id):
            return None
        rows = await self._run.read(every, _GET_USER, {"uid": user_id})
        return user_from_joined(rows)

    async def deny_token(self, jti: str, *, expires_at: datetime) -> None:
        """Put an access token's ``jti`` on the denylist until it expires (idempotent)."""
        await self._run.write_one(
            execute, self._sql.deny_token, {"jti": jti, "expires_at": expires_at}
        )

    async def is_token_denied(self, jti: str) -> bool:
        """True if the ``jti`` is on the denylist."""
        return await self._run.read(first, _IS_DENIED, {"j": jti}) is not None

    async def denied_tokens(self, *, now: datetime) -> list[tuple[str, datetime]]:
        """The denylist: ``(jti, expires_at)`` of every denied token not yet expired."""
        rows = await self._run.read(every, _DENIED, {"now": now})
        return [(row.jti, row.expires_at) for row in rows if not _is_session(row.jti)]

    async def denied_sessions(self, *, now: datetime) -> list[tuple[str, datetime]]:
        """``(session_id, until)`` of every session revoked (or deleted) so recently that some
        access token of it may still be live: until then apps refuse its tokens by ``sid``."""
        rows = await self._run.read(every, _DENIED, {"now": now})
        cut = len(SESSION_PREFIX)
        return [(row.jti[cut:], row.expires_at) for row in rows if _is_session(row.jti)]

    async def add_signing_key(self, record: SigningKeyRecord) -> None:
        """Store a new token-signing key."""
        await self._run.write_one(execute, _INSERT_SIGNING_KEY, _values(record))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every signing key, retired ones included, newest first."""
        rows = await self._run.read(every, _SIGNING_KEYS, {})
        return [signing_key_from(row._mapping) for row in rows]

    async def reseal_signing_key(self, kid: str, old: bytes, new: bytes) -> bool:
        """Replace the key's sealed private part ``old`` by ``new`` (the same key, sealed anew);
        False if the row is gone or no longer holds ``old``."""
        params = {"key_id": kid, "old": old, "new": new}
        return await self._run.write_one(rowcount, _RESEAL_KEY, params) == 1

    async def retire_signing_keys(
        self, *, now: datetime, except_kid: str | None = None, alg: str | None = None
    ) -> int:
        """Retire every active signing key but ``except_kid`` (only those of ``alg`` when
        given, with ``except_kid``); return how many were retired."""
        if alg is not None and except_kid is not None:
            params = {"now": now, "keep": except_kid, "key_alg": alg}
            return await self._run.write_one(rowcount, _RETIRE_ALG_EXCEPT, params)
        if except_kid is None:  # kid != NULL would match nothing, hence two statements
            return await self._run.write_one(rowcount, _RETIRE, {"now": now})
        return await self._run.write_one(rowcount, _RETIRE_EXCEPT, {"now": now, "keep": except_kid})

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete expired nonces, used keys, denylist entries, refresh tokens and session keys,
        and the sessions left with none of either; OIDC codes, refresh tokens and grants past
        their end (with their tokens); return how many rows went."""
        return await self._run.write(_purge, {"now": now})


def _sign_in(
    conn: Connection, sql: DialectStatements, params: dict[str, Any]
) -> tuple[UserRecord, IdentityRecord]:
    user = first(conn, _TOUCH_USER, params)
    if user is None:
        return _first_sign_in(conn, sql, params)
    rows = every(conn, _TOUCH_IDENTITIES, {**params, "uid": user.id})
    found = [identity_from(row._mapping) for row in rows]
    wanted = (params["lookup_kind"], params["lookup_address"])
    mine = next((i for i in found if (i.kind, i.address) == wanted), None)
    if mine is None:  # deleted between our two statements (PostgreSQL): start over
        raise _LostRace
    return user_from(user._mapping, found), mine


def _complete_sign_in(
    conn: Connection,
    sql: DialectStatements,
    spend: NonceSpend,
    params: dict[str, Any],
    session_args: dict[str, Any],
) -> SignInOutcome:
    spend_nonce(conn, sql, spend, params["now"])
    if spend.challenge is not None and first(conn, _IDENTITY_EXISTS, params) is None:
        raise InvalidCredential("This passkey is not registered here.")
    user, identity = _sign_in(conn, sql, params)
    if user.disabled:
        raise Forbidden("This account is disabled.")
    if spend.sign_count is not None:
        bump_sign_count(conn, identity.id, spend.sign_count)
    created = None
    if session_args["refresh_token_hash"] is not None:
        session, token = session_rows(user_id=user.id, identity_id=identity.id, **session_args)
        created = session_from(create_session_rows(conn, session, token)._mapping)
    if params["audit"] is not None:
        event = replace(params["audit"], user_id=user.id)
        execute(conn, _INSERT_AUDIT, audit_values(event))
    return SignInOutcome(user=user, identity=identity, session=created)


def spend_nonce(conn: Connection, sql: DialectStatements, spend: NonceSpend, now: datetime) -> bool:
    """Burn what ``spend`` names inside the caller's transaction; raise InvalidNonce (or the
    checks' own errors) if any of it is unknown, used or refused. Returns True."""
    if spend.nonce is not None:
        row = first(conn, _CONSUME_NONCE, {"n": spend.nonce, "now": now})
        if row is None:
            raise InvalidNonce("This nonce is unknown, expired or already used; ask for a new one.")
        if spend.check is not None:
            spend.check(nonce_from(row._mapping))
    if spend.used_key is not None:
        marked = {"key": spend.used_key, "expires_at": spend.used_until}
        if first(conn, sql.mark_used, marked) is None:
            raise InvalidNonce("This nonce was already used; ask for a new one.")
    if spend.challenge is not None:
        consume_challenge(conn, spend.challenge, now, spend.challenge_check)
    return True


def _first_sign_in(
    conn: Connection, sql: DialectStatements, params: dict[str, Any]
) -> tuple[UserRecord, IdentityRecord]:
    if not params.get("create_user", True):  # sign_in_identity always may create
        raise RegistrationDisabled()
    now = params["now"]
    user_values = {"id": str(uuid.uuid4()), "created_at": now, "last_login": now}
    user_values |= {"disabled": False, "roles": ""}
    user = one(conn, _INSERT_USER, user_values)
    identity_values = {
        "id": str(uuid.uuid4()),
        "user_id": user_values["id"],
        "kind": params["lookup_kind"],
        "address": params["lookup_address"],
        "public_key": params["pk"],
        "created_at": now,
        "last_used_at": now,
    }
    row = first(conn, sql.insert_identity, identity_values)
    if row is None:
        raise _LostRace  # rolls back the user inserted above
    identity = identity_from(row._mapping)
    return user_from(user._mapping, [identity]), identity


def _is_session(jti: str) -> bool:
    return jti.startswith(SESSION_PREFIX)


def _purge(conn: Connection, params: dict[str, Any]) -> int:
    # Counted up front: deleting a dead session takes its expired tokens by cascade.
    purged: int = scalar(conn, _COUNT_EXPIRED, params)
    purged += rowcount(conn, _DELETE_DEAD_SESSIONS, params)
    for statement in _DELETE_EXPIRED_TOKENS:
        execute(conn, statement, params)
    for statement in _DELETE_EXPIRED_OTHERS:
        purged += rowcount(conn, statement, params)
    return purged + purge_grants(conn, params)


class _LostRace(Exception):
    """A concurrent first sign-in created the identity between our lookup and our insert."""


def _values(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
