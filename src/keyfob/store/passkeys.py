"""Passkeys and their challenges, and linking sign-in methods to one account."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keyfob.errors import Conflict, InvalidChallenge, NotFound, SignCountRegression
from keyfob.store.base import DialectStatements, StoreBase, every, execute, first, one
from keyfob.store.records import (
    IdentityRecord,
    PasskeyChallengeRecord,
    PasskeyRecord,
    SessionDevice,
    SignInOutcome,
)
from keyfob.store.rows import identity_from, join_words, session_from, split_words, user_from
from keyfob.store.schema import (
    UTCDateTime,
    identities,
    passkey_challenges,
    passkeys,
    users,
)
from keyfob.store.sessions import create_session_rows, end_sessions, session_rows

PASSKEY = "passkey"
_i, _p, _u, _c = identities.c, passkeys.c, users.c, passkey_challenges.c


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


_INSERT_CHALLENGE = insert(passkey_challenges)
_CONSUME_CHALLENGE = (
    delete(passkey_challenges)
    .where(_c.challenge == bindparam("ch"), _c.expires_at > _now())
    .returning(*passkey_challenges.c)
)
_PASSKEY_COLUMNS = (
    *identities.c,
    _p.sign_count,
    _p.transports,
    _p.aaguid,
    _p.backed_up,
    _p.name,
)
_GET_PASSKEY = (
    select(*_PASSKEY_COLUMNS, _u.disabled)
    .select_from(identities.join(passkeys).join(users, _u.id == _i.user_id))
    .where(_i.kind == PASSKEY, _i.address == bindparam("cid"))
)
_USER_PASSKEYS = (
    select(*_PASSKEY_COLUMNS, _u.disabled)
    .select_from(identities.join(passkeys).join(users, _u.id == _i.user_id))
    .where(_i.user_id == bindparam("uid"))
    .order_by(_i.created_at, _i.id)
)
_USER_BY_NAME = select(_u.id).where(func.lower(_u.username) == func.lower(bindparam("name")))
_GET_USER_ROW = select(users).where(_u.id == bindparam("uid"))
_INSERT_USER = insert(users).returning(*users.c)
_INSERT_PASSKEY = insert(passkeys)
_BUMP_COUNT = (
    update(passkeys)
    .where(
        _p.identity_id == bindparam("iid"),
        or_(
            _p.sign_count < bindparam("count", type_=BigInteger()),
            and_(_p.sign_count == 0, bindparam("count", type_=BigInteger()) == 0),
        ),
    )
    .values(sign_count=bindparam("count", type_=BigInteger()))
    .returning(_p.sign_count)
)
_IDENTITY_OWNER = select(_i.user_id).where(
    _i.kind == bindparam("kind"), _i.address == bindparam("address")
)
_USER_IDENTITIES = select(identities).where(_i.user_id == bindparam("uid"))
_DELETE_IDENTITY = delete(identities).where(
    _i.id == bindparam("iid"), _i.user_id == bindparam("uid")
)
_RENAME_PASSKEY = (
    update(passkeys)
    .where(
        _p.identity_id == bindparam("iid"),
        _p.identity_id.in_(select(_i.id).where(_i.user_id == bindparam("uid"))),
    )
    .values(name=bindparam("name"))
    .returning(_p.identity_id)
)


@dataclass(frozen=True, slots=True)
class NewPasskey:
    """What a verified registration adds: the credential and its counter and transports."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    backed_up: bool
    name: str | None = None


def consume_challenge(
    conn: Connection,
    challenge: str,
    now: datetime,
    check: Callable[[PasskeyChallengeRecord], None] | None,
) -> PasskeyChallengeRecord:
    """Delete and return a live challenge (raising InvalidChallenge if there is none), then let
    ``check`` refuse it by raising, which rolls the deletion back with the transaction."""
    row = first(conn, _CONSUME_CHALLENGE, {"ch": challenge, "now": now})
    if row is None:
        raise InvalidChallenge()
    record = challenge_from(row._mapping)
    if check is not None:
        check(record)
    return record


def bump_sign_count(conn: Connection, identity_id: str, count: int) -> None:
    """Store a passkey's new counter if it grew (or both are 0); else SignCountRegression."""
    if first(conn, _BUMP_COUNT, {"iid": identity_id, "count": count}) is None:
        raise SignCountRegression()


class PasskeyStore(StoreBase):
    """Passkeys, WebAuthn challenges and account linking (mixed into :class:`Store`)."""

    async def add_passkey_challenge(self, record: PasskeyChallengeRecord) -> None:
        """Remember a challenge keyfob handed to a browser."""
        values = {
            "challenge": record.challenge,
            "purpose": record.purpose,
            "user_id": record.user_id,
            "username": record.username,
            "roles": join_words(record.roles),
            "expires_at": record.expires_at,
        }
        await self._run.write_one(execute, _INSERT_CHALLENGE, values)

    async def consume_passkey_challenge(
        self, challenge: str, *, now: datetime
    ) -> PasskeyChallengeRecord | None:
        """Delete and return the challenge if it is live; None if unknown, used or expired."""
        row = await self._run.write_one(first, _CONSUME_CHALLENGE, {"ch": challenge, "now": now})
        return None if row is None else challenge_from(row._mapping)

    async def get_passkey(self, credential_id: str) -> PasskeyRecord | None:
        """The passkey with this base64url credential id, or None."""
        row = await self._run.read(first, _GET_PASSKEY, {"cid": credential_id})
        return None if row is None else passkey_from(row._mapping)

    async def passkeys_of_user(self, user_id: str) -> list[PasskeyRecord]:
        """Every passkey of the user, oldest first."""
        rows = await self._run.read(every, _USER_PASSKEYS, {"uid": user_id})
        return [passkey_from(row._mapping) for row in rows]

    async def user_id_by_username(self, username: str) -> str | None:
        """The id of the user with this username (case-insensitive), or None."""
        row = await self._run.read(first, _USER_BY_NAME, {"name": username})
        return None if row is None else str(row.id)

    async def register_passkey(
        self,
        *,
        challenge: str,
        check: Callable[[PasskeyChallengeRecord], None] | None,
        passkey: NewPasskey,
        now: datetime,
        refresh_token_hash: str | None = None,
        refresh_expires_at: datetime | None = None,
        adding: bool = False,
        amr: tuple[str, ...],
        device: SessionDevice | None = None,
    ) -> SignInOutcome:
        """In one transaction: spend the registration challenge, create its user (or, when
        ``adding``, find the existing account the passkey is added to), store the passkey and,
        given a refresh token hash, open a session. A challenge for an existing account
        without ``adding`` (or the reverse) raises :class:`InvalidChallenge`; a credential id
        already registered :class:`Conflict`, a taken username too. Nothing is written unless
        all of it succeeds. ``amr`` and ``device`` are the new session's."""
        try:
            return await self._run.write(
                _register,
                self._sql,
                challenge,
                check,
                passkey,
                now,
                refresh_token_hash,
                refresh_expires_at,
                adding,
                amr,
                device,
            )
        except IntegrityError as error:  # a concurrent registration took the username
            raise Conflict("This username or passkey was just registered; try again.") from error

    async def spend_step_up_challenge(
        self,
        *,
        challenge: str,
        check: Callable[[PasskeyChallengeRecord], None],
        now: datetime,
        passkey_identity_id: str | None = None,
        sign_count: int | None = None,
    ) -> PasskeyChallengeRecord:
        """In one transaction: spend a step-up challenge (``check`` refuses it by raising, which
        leaves it unspent) and, for a passkey proof, move its counter on
        (:class:`SignCountRegression` if it did not grow)."""
        args = (challenge, check, now, passkey_identity_id, sign_count)
        return await self._run.write(_spend_step_up, *args)

    async def link_identity(
        self,
        *,
        user_id: str,
        kind: str,
        address: str,
        public_key: bytes | None,
        now: datetime,
        before: Callable[[Connection], None] | None = None,
    ) -> IdentityRecord:
        """Add a wallet to the signed-in user's account (``before`` runs first in the same
        transaction, to spend the nonce). Already theirs: returned as is. Another account's:
        :class:`Conflict`."""
        args = (user_id, kind, address, public_key, now, before)
        return await self._run.write(_link, self._sql, *args)

    async def remove_identity(
        self, *, user_id: str, identity_id: str, now: datetime, deny_until: datetime
    ) -> None:
        """Remove one of the user's sign-in methods (its sessions end with it by cascade, their
        access tokens on the denylist until ``deny_until``); :class:`NotFound` if it is not
        theirs, :class:`Conflict` if it is their last."""
        params = {"iid": identity_id, "uid": user_id, "now": now, "deny_until": deny_until}
        await self._run.write(_remove, params)

    async def rename_passkey(self, *, user_id: str, identity_id: str, name: str | None) -> None:
        """Name one of the user's passkeys (None: no name); :class:`NotFound` if it is not
        one of theirs."""
        params = {"iid": identity_id, "uid": user_id, "name": name}
        if await self._run.write_one(first, _RENAME_PASSKEY, params) is None:
            raise NotFound("You have no passkey with this id.")


def _register(
    conn: Connection,
    sql: DialectStatements,
    challenge: str,
    check: Callable[[PasskeyChallengeRecord], None] | None,
    passkey: NewPasskey,
    now: datetime,
    refresh_token_hash: str | None,
    refresh_expires_at: datetime | None,
    adding: bool,
    amr: tuple[str, ...],
    device: SessionDevice | None,
) -> SignInOutcome:
    record = consume_challenge(conn, challenge, now, check)
    if record.purpose != "register" or record.user_id is None:
        raise InvalidChallenge("This challenge was not issued for registering a passkey.")
    user_row = first(conn, _GET_USER_ROW, {"uid": record.user_id})
    # Adding to an account takes its Bearer token at both steps: the options outlive the
    # session that asked for them (a logout must not leave a way to add a passkey).
    if (user_row is not None) != adding:
        raise InvalidChallenge(
            "This challenge was issued for adding a passkey to an account: send its token."
            if user_row is not None
            else "This challenge was not issued for this account."
        )
    if user_row is None:
        if record.username and first(conn, _USER_BY_NAME, {"name": record.username}):
            raise Conflict("This username is taken; choose another.")
        values = {"id": record.user_id, "created_at": now, "last_login": now, "disabled": False}
        values |= {"roles": join_words(record.roles), "username": record.username}
        user_row = one(conn, _INSERT_USER, values)
    identity_values = {
        "id": str(uuid.uuid4()),
        "user_id": record.user_id,
        "kind": PASSKEY,
        "address": passkey.credential_id,
        "public_key": passkey.public_key,
        "created_at": now,
        "last_used_at": now,
    }
    row = first(conn, sql.insert_identity, identity_values)
    if row is None:
        raise Conflict("This passkey is already registered.")
    identity = identity_from(row._mapping)
    passkey_values = {
        "identity_id": identity.id,
        "sign_count": passkey.sign_count,
        "transports": join_words(passkey.transports),
        "aaguid": passkey.aaguid,
        "backed_up": passkey.backed_up,
        "name": passkey.name,
    }
    execute(conn, _INSERT_PASSKEY, passkey_values)
    found = [
        identity_from(r._mapping) for r in every(conn, _USER_IDENTITIES, {"uid": identity.user_id})
    ]
    user = user_from(user_row._mapping, found)
    session = None
    if refresh_token_hash is not None:
        assert refresh_expires_at is not None
        rows = session_rows(
            user_id=user.id,
            identity_id=identity.id,
            amr=amr,
            refresh_token_hash=refresh_token_hash,
            now=now,
            refresh_expires_at=refresh_expires_at,
            device=device,
        )
        session = session_from(create_session_rows(conn, *rows)._mapping)
    return SignInOutcome(user=user, identity=identity, session=session)


def _spend_step_up(
    conn: Connection,
    challenge: str,
    check: Callable[[PasskeyChallengeRecord], None],
    now: datetime,
    passkey_identity_id: str | None,
    sign_count: int | None,
) -> PasskeyChallengeRecord:
    record = consume_challenge(conn, challenge, now, check)
    if passkey_identity_id is not None and sign_count is not None:
        bump_sign_count(conn, passkey_identity_id, sign_count)
    return record


def _link(
    conn: Connection,
    sql: DialectStatements,
    user_id: str,
    kind: str,
    address: str,
    public_key: bytes | None,
    now: datetime,
    before: Callable[[Connection], None] | None,
) -> IdentityRecord:
    if before is not None:
        before(conn)
    owner = first(conn, _IDENTITY_OWNER, {"kind": kind, "address": address})
    if owner is not None and owner.user_id != user_id:
        raise Conflict("This wallet already signs in to another account.")
    values = {
        "id": str(uuid.uuid4()),
        "user_id": user_id,
        "kind": kind,
        "address": address,
        "public_key": public_key,
        "created_at": now,
        "last_used_at": None,
    }
    if owner is None:
        row = first(conn, sql.insert_identity, values)
        if row is not None:
            return identity_from(row._mapping)
    mine = every(conn, _USER_IDENTITIES, {"uid": user_id})
    for row in mine:
        if (row.kind, row.address) == (kind, address):
            return identity_from(row._mapping)
    raise Conflict("This wallet already signs in to another account.")


def _remove(conn: Connection, params: dict[str, Any]) -> None:
    mine = every(conn, _USER_IDENTITIES, params)
    if not any(row.id == params["iid"] for row in mine):
        raise NotFound("You have no sign-in method with this id.")
    if len(mine) == 1:
        raise Conflict("This is your last way to sign in; add another before removing it.")
    end_sessions(conn, "iid", params)  # deleted by cascade below, but denied until then
    execute(conn, _DELETE_IDENTITY, params)


def challenge_from(row: Any) -> PasskeyChallengeRecord:
    """A challenge record from its row."""
    return PasskeyChallengeRecord(
        challenge=row["challenge"],
        purpose=row["purpose"],
        user_id=row["user_id"],
        username=row["username"],
        roles=split_words(row["roles"]),
        expires_at=row["expires_at"],
    )


def passkey_from(row: Any) -> PasskeyRecord:
    """A passkey record from identity columns joined with passkey and user columns."""
    return PasskeyRecord(
        identity=identity_from(row),
        user_disabled=bool(row["disabled"]),
        sign_count=int(row["sign_count"]),
        transports=split_words(row["transports"]),
        aaguid=row["aaguid"],
        backed_up=bool(row["backed_up"]),
        name=row["name"],
    )
