"""What the account page lists and ends of one user's sessions: their live API sessions, and
every session of theirs at once (sign out everywhere). Their SSO sessions are :mod:`sso`'s."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from keyfob.store.base import StoreBase, every, execute
from keyfob.store.records import EndedSessions, SessionRecord
from keyfob.store.rows import session_from
from keyfob.store.rows_admin import sso_session_from, storable
from keyfob.store.schema import UTCDateTime, refresh_tokens, session_keys, sessions, sso_sessions
from keyfob.store.sessions import end_sessions

_s, _rt, _sk = sessions.c, refresh_tokens.c, session_keys.c
_now = bindparam("now", type_=UTCDateTime())
_uid: Any = bindparam("uid")

# A session is live while it is not revoked, younger than the maximum age, and holds a refresh
# token or a session key that can still be used.
_KEY_USED = select(func.max(_sk.last_timestamp_ms)).where(_sk.session_id == _s.id)
_LIVE_OF_USER = (
    select(*sessions.c, _KEY_USED.scalar_subquery().label("key_used_ms"))
    .where(
        _s.user_id == _uid,
        _s.revoked_at.is_(None),
        _s.created_at > bindparam("started_after", type_=UTCDateTime()),
        or_(
            exists().where(
                _rt.session_id == _s.id, _rt.rotated_at.is_(None), _rt.expires_at > _now
            ),
            exists().where(
                _sk.session_id == _s.id, _sk.revoked_at.is_(None), _sk.expires_at > _now
            ),
        ),
    )
    .order_by(_s.created_at.desc(), _s.id)
)
_REVOKE_KEYS = (
    update(session_keys)
    .where(_sk.user_id == _uid, _sk.revoked_at.is_(None))
    .values(revoked_at=_now)
)
_DELETE_SSO = delete(sso_sessions).where(sso_sessions.c.user_id == _uid).returning(*sso_sessions.c)


class AccountSessionStore(StoreBase):
    """The account page's view of a user's sessions (see the module's docstring)."""

    async def live_sessions_of_user(
        self, user_id: str, *, now: datetime, max_age: timedelta
    ) -> list[SessionRecord]:
        """The user's API sessions still in use at ``now`` (not revoked, younger than
        ``max_age``, with a usable refresh token or session key), the newest first. Each one's
        ``last_used_at`` is the later of its last refresh and its session keys' last proof."""
        if not storable(user_id):
            return []
        params = {"uid": user_id, "now": now, "started_after": now - max_age}
        return [
            _with_key_use(row._mapping)
            for row in await self._run.read(every, _LIVE_OF_USER, params)
        ]

    async def end_every_session(
        self, user_id: str, *, now: datetime, deny_until: datetime
    ) -> EndedSessions:
        """In one transaction revoke every API session of the user (their access tokens on the
        denylist until ``deny_until``, their refresh tokens dead with them) and every session key,
        and delete every SSO session; what ended, for the SSO sessions' end hooks. (OpenID
        Connect grants are the caller's, after those hooks.)"""
        if not storable(user_id):
            return EndedSessions(sessions=0, sso_sessions=())
        params = {"uid": user_id, "now": now, "deny_until": deny_until}
        return await self._run.write(_end_every, params)


def _with_key_use(row: Any) -> SessionRecord:
    session = session_from(row)
    if not row["key_used_ms"]:  # no session key, or one never used (its watermark is 0)
        return session
    key_used = datetime.fromtimestamp(row["key_used_ms"] / 1000, UTC)
    if session.last_used_at is not None and session.last_used_at >= key_used:
        return session
    return replace(session, last_used_at=key_used)


def _end_every(conn: Connection, params: dict[str, Any]) -> EndedSessions:
    ended = end_sessions(conn, "uid", params)
    execute(conn, _REVOKE_KEYS, params)
    browsers = tuple(sso_session_from(row._mapping) for row in every(conn, _DELETE_SSO, params))
    return EndedSessions(sessions=ended, sso_sessions=browsers)
