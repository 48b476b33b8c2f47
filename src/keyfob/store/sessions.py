"""Sessions, their rotating refresh tokens and their app session keys."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    exists,
    false,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keyfob.errors import (
    InvalidSessionKey,
    InvalidToken,
    KeyfobError,
    RefreshTokenReused,
    RefreshTokenSuperseded,
    SessionExpired,
    TokenRevoked,
)
from keyfob.store.base import StoreBase, every, execute, first, one, rowcount, scalar
from keyfob.store.last_used import LAST_USED_STEP, touching
from keyfob.store.records import SessionDevice, SessionKeyRecord, SessionRecord
from keyfob.store.rows import join_words, session_from, session_key_from
from keyfob.store.rows_admin import storable
from keyfob.store.schema import (
    UTCDateTime,
    denied_tokens,
    refresh_tokens,
    session_keys,
    sessions,
    users,
)

_rt, _sk, _s = refresh_tokens.c, session_keys.c, sessions.c

#: How a revoked session is written on the denylist: ``sid:`` and the session's id, in the
#: ``jti`` column (a ``jti`` keyfob mints is base64url and never holds a colon).
SESSION_PREFIX = "sid:"


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


def _live_session(session_id: Any) -> Any:
    """EXISTS: the session ``session_id`` is not revoked and its user is not disabled."""
    return exists().where(
        _s.id == session_id,
        _s.revoked_at.is_(None),
        users.c.id == _s.user_id,
        users.c.disabled == false(),
    )


def _revoking(*where: Any) -> Any:
    return (
        update(sessions)
        .where(*where, _s.revoked_at.is_(None))
        .values(revoked_at=_now())
        .returning(_s.id)
    )


# The live sessions of one session id, user or sign-in method, revoked.
_REVOKE_SESSIONS_BY = {
    "sid": _revoking(_s.id == bindparam("sid")),
    "uid": _revoking(_s.user_id == bindparam("uid")),
    "iid": _revoking(_s.identity_id == bindparam("iid")),
}
_INSERT_DENIED = insert(denied_tokens)


_TOUCH_SESSION = touching(sessions, _s.id == bindparam("sid"))


def end_sessions(conn: Connection, by: str, params: dict[str, Any]) -> int:
    """Revoke the live sessions whose ``by`` (``sid``, ``uid`` or ``iid``) is ``params[by]``
    and put each on the denylist until ``params["deny_until"]``, inside the caller's
    transaction; return how many ended. (Their session keys are the caller's.)"""
    ended = [row[0] for row in every(conn, _REVOKE_SESSIONS_BY[by], params)]
    for session_id in ended:
        denied = {"jti": SESSION_PREFIX + session_id, "expires_at": params["deny_until"]}
        execute(conn, _INSERT_DENIED, denied)
    return len(ended)


_INSERT_SESSION = insert(sessions).returning(*sessions.c)
_INSERT_REFRESH = insert(refresh_tokens)
_GET_SESSION = select(sessions).where(_s.id == bindparam("sid"))
_SESSION_FOR_REFRESH = (
    select(sessions).join(refresh_tokens).where(_rt.token_hash == bindparam("token_hash_"))
)
_ROTATE = (
    update(refresh_tokens)
    .where(
        _rt.token_hash == bindparam("old_hash"),
        _rt.rotated_at.is_(None),
        _rt.expires_at > _now(),
        _live_session(_rt.session_id),
        exists().where(
            _s.id == _rt.session_id,
            _s.created_at > bindparam("started_after", type_=UTCDateTime()),
        ),
    )
    .values(rotated_at=_now(), replaced_by=bindparam("new_hash", type_=String()))
    .returning(_rt.session_id)
)
_successor = refresh_tokens.alias("successor")
_LOOKUP_REFRESH = (
    select(
        _rt.session_id,
        _rt.expires_at,
        _rt.rotated_at,
        _s.revoked_at,
        _s.created_at.label("session_created_at"),
        users.c.disabled,
        _successor.c.token_hash.label("successor"),
        _successor.c.rotated_at.label("successor_rotated_at"),
        _successor.c.expires_at.label("successor_expires_at"),
    )
    .select_from(
        refresh_tokens.join(sessions)
        .join(users, users.c.id == _s.user_id)
        .outerjoin(_successor, _successor.c.token_hash == _rt.replaced_by)
    )
    .where(_rt.token_hash == bindparam("old_hash"))
)
_REVOKE_SESSION_KEYS = (
    update(session_keys)
    .where(_sk.session_id == bindparam("sid"), _sk.revoked_at.is_(None))
    .values(revoked_at=_now())
)
_USE_SESSION_KEY = (
    update(session_keys)
    .where(
        _sk.thumbprint == bindparam("tp"),
        _sk.last_timestamp_ms < bindparam("ts", type_=BigInteger()),
        _sk.revoked_at.is_(None),
        _sk.expires_at > _now(),
        _live_session(_sk.session_id),
    )
    .values(last_timestamp_ms=bindparam("ts", type_=BigInteger()))
    .returning(*session_keys.c)
)
_GET_SESSION_KEY = select(session_keys).where(_sk.thumbprint == bindparam("tp"))
_LIST_SESSION_KEYS = (
    select(session_keys)
    .where(_sk.user_id == bindparam("uid"), _sk.revoked_at.is_(None), _sk.expires_at > _now())
    .order_by(_sk.created_at, _sk.thumbprint)
)
_REVOKE_SESSION_KEY = (
    update(session_keys)
    .where(
        _sk.thumbprint == bindparam("tp"), _sk.user_id == bindparam("uid"), _sk.revoked_at.is_(None)
    )
    .values(revoked_at=_now())
)


class SessionStore(StoreBase):
    """The session half of :class:`keyfob.store.Store`."""

    async def create_session(
        self,
        *,
        user_id: str,
        identity_id: str,
        amr: tuple[str, ...],
        refresh_token_hash: str,
        now: datetime,
        refresh_expires_at: datetime,
        device: SessionDevice | None = None,
    ) -> SessionRecord:
        """Open a session (new uuid4 id, seen on ``device``) with its first refresh token."""
        session, token = session_rows(
            user_id=user_id,
            identity_id=identity_id,
            amr=amr,
            refresh_token_hash=refresh_token_hash,
            now=now,
            refresh_expires_at=refresh_expires_at,
            device=device,
        )
        return session_from((await self._run.write(create_session_rows, session, token))._mapping)

    async def rotate_refresh_token(
        self,
        *,
        token_hash: str,
        new_token_hash: str,
        now: datetime,
        new_expires_at: datetime,
        grace: timedelta,
        max_age: timedelta,
        deny_until: datetime,
        ip_area: str | None = None,
    ) -> SessionRecord:
        """Spend the refresh token ``token_hash`` and make ``new_token_hash`` its successor.

        The successor expires at ``new_expires_at`` or at the session's end (``created_at +
        max_age``), whichever comes first. Of concurrent attempts exactly one wins. Otherwise
        raises :class:`InvalidToken` (unknown or expired), :class:`SessionExpired` (the session
        is older than ``max_age``), :class:`TokenRevoked` (session revoked or user disabled),
        :class:`RefreshTokenSuperseded` (rotated less than ``grace`` ago and its successor is
        still the live token: nothing is revoked) or, for any other reuse,
        :class:`RefreshTokenReused` after revoking the whole session (its access tokens go on
        the denylist until ``deny_until``).

        A rotation is a use of the session: its ``last_used_at`` becomes ``now`` and its
        ``ip_area`` the one given (if any), unless it was used less than
        :data:`LAST_USED_STEP` ago.
        """
        params = {
            "old_hash": token_hash,
            "new_hash": new_token_hash,
            "now": now,
            "started_after": now - max_age,
            "deny_until": deny_until,
            "used_since": now - LAST_USED_STEP,
            "area": ip_area,
        }
        outcome = await self._run.write(_rotate, params, new_expires_at, grace, max_age)
        if isinstance(outcome, KeyfobError):
            raise outcome
        return session_from(outcome._mapping)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        """The session ``session_id`` (revoked or not), or None."""
        if not storable(session_id):
            return None
        row = await self._run.read(first, _GET_SESSION, {"sid": session_id})
        return None if row is None else session_from(row._mapping)

    async def session_for_refresh_token(self, token_hash: str) -> SessionRecord | None:
        """The session any refresh token of its family (spent or not) belongs to, or None."""
        row = await self._run.read(first, _SESSION_FOR_REFRESH, {"token_hash_": token_hash})
        return None if row is None else session_from(row._mapping)

    async def revoke_session(self, session_id: str, *, now: datetime, deny_until: datetime) -> bool:
        """Revoke a session and its session keys, and put the session on the denylist until
        ``deny_until`` (when its last access token expires); True if it was live until now."""
        return await self._run.write(_revoke, session_id, now, deny_until)

    async def add_session_key(self, record: SessionKeyRecord) -> None:
        """Store a session key; the same key again for the same user re-authorises (replaces) it.

        Raises :class:`InvalidSessionKey` if another user already holds this thumbprint or the
        session does not exist.
        """
        values = {
            "thumbprint": record.thumbprint,
            "user_id": record.user_id,
            "session_id": record.session_id,
            "jwk": record.jwk,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
            "last_timestamp_ms": record.last_timestamp_ms,
            "revoked_at": record.revoked_at,
        }
        try:
            stored = await self._run.write_one(first, self._sql.upsert_session_key, values)
        except IntegrityError as exc:
            raise InvalidSessionKey("This session key's session or user does not exist.") from exc
        if stored is None:
            raise InvalidSessionKey("This session key is already registered to another account.")

    async def use_session_key(
        self, thumbprint: str, *, timestamp_ms: int, now: datetime
    ) -> SessionKeyRecord | None:
        """Accept a proof timestamped ``timestamp_ms`` if it is newer than every earlier one and
        the key, its session and its user are live; None otherwise (one atomic UPDATE)."""
        params = {"tp": thumbprint, "ts": timestamp_ms, "now": now}
        row = await self._run.write_one(first, _USE_SESSION_KEY, params)
        return None if row is None else session_key_from(row._mapping)

    async def get_session_key(self, thumbprint: str) -> SessionKeyRecord | None:
        """The session key with this RFC 7638 thumbprint (in any state), or None."""
        row = await self._run.read(first, _GET_SESSION_KEY, {"tp": thumbprint})
        return None if row is None else session_key_from(row._mapping)

    async def list_session_keys(self, user_id: str, *, now: datetime) -> list[SessionKeyRecord]:
        """The user's live (unrevoked, unexpired) session keys, oldest first."""
        rows = await self._run.read(every, _LIST_SESSION_KEYS, {"uid": user_id, "now": now})
        return [session_key_from(row._mapping) for row in rows]

    async def revoke_session_key(self, user_id: str, thumbprint: str, *, now: datetime) -> bool:
        """Revoke one of the user's session keys; False if it is not theirs or already revoked."""
        params = {"tp": thumbprint, "uid": user_id, "now": now}
        return await self._run.write_one(rowcount, _REVOKE_SESSION_KEY, params) == 1


def session_rows(
    *,
    user_id: str,
    identity_id: str,
    amr: tuple[str, ...],
    refresh_token_hash: str,
    now: datetime,
    refresh_expires_at: datetime,
    device: SessionDevice | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rows of a new session (new uuid4 id, opened on ``device``, used at ``now``) and of
    its first refresh token."""
    seen = device or SessionDevice()
    session = {
        "id": str(uuid.uuid4()),
        "user_id": user_id,
        "identity_id": identity_id,
        "amr": join_words(amr),
        "created_at": now,
        "revoked_at": None,
        "device": seen.device,
        "ip_area": seen.ip_area,
        "last_used_at": now,
    }
    token = {
        "token_hash": refresh_token_hash,
        "session_id": session["id"],
        "parent_hash": None,
        "created_at": now,
        "expires_at": refresh_expires_at,
    }
    return session, token


def create_session_rows(conn: Connection, session: dict[str, Any], token: dict[str, Any]) -> Any:
    """Insert a session and its first refresh token; return the session's row."""
    row = one(conn, _INSERT_SESSION, session)
    execute(conn, _INSERT_REFRESH, token)
    return row


def _rotate(
    conn: Connection,
    params: dict[str, Any],
    new_expires_at: datetime,
    grace: timedelta,
    max_age: timedelta,
) -> Any:
    """The session's row if the token rotated, else the error to raise (after committing a
    reuse revocation)."""
    session_id = scalar(conn, _ROTATE, params)
    if session_id is None:
        return _refusal(conn, params, grace)
    touch = {"sid": session_id, "now": params["now"], "used_since": params["used_since"]}
    execute(conn, _TOUCH_SESSION, {**touch, "area": params["area"]})
    session = one(conn, _GET_SESSION, {"sid": session_id})
    successor = {
        "token_hash": params["new_hash"],
        "session_id": session_id,
        "parent_hash": params["old_hash"],
        "created_at": params["now"],
        # A refresh token never outlives its session.
        "expires_at": min(new_expires_at, session.created_at + max_age),
    }
    execute(conn, _INSERT_REFRESH, successor)
    return session


def _refusal(conn: Connection, params: dict[str, Any], grace: timedelta) -> KeyfobError:
    row = first(conn, _LOOKUP_REFRESH, params)
    now: datetime = params["now"]
    if row is None:
        return InvalidToken("This refresh token is unknown.")
    if row.revoked_at is not None or row.disabled:
        return TokenRevoked("This refresh token's session has ended.")
    if row.session_created_at <= params["started_after"]:
        return SessionExpired()
    if row.expires_at <= now:
        return InvalidToken("This refresh token has expired.")
    if row.rotated_at is None:  # only a concurrent revocation gets here; refuse, change nothing
        return InvalidToken("This refresh token cannot be used right now.")
    successor_live = (
        row.successor is not None
        and row.successor_rotated_at is None
        and row.successor_expires_at > now
    )
    if successor_live and now - row.rotated_at <= grace:
        return RefreshTokenSuperseded()
    _revoke(conn, row.session_id, now, params["deny_until"])
    return RefreshTokenReused()


def _revoke(conn: Connection, session_id: str, now: datetime, deny_until: datetime) -> bool:
    params = {"sid": session_id, "now": now, "deny_until": deny_until}
    revoked = end_sessions(conn, "sid", params) == 1
    execute(conn, _REVOKE_SESSION_KEYS, params)
    return revoked
