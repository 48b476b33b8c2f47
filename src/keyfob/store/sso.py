"""Single-sign-on sessions of the hosted pages (a browser cookie holds the token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, false, insert, select
from sqlalchemy.exc import IntegrityError

from keyfob.errors import Conflict, NotFound
from keyfob.store.base import StoreBase, every, execute, first, rowcount
from keyfob.store.last_used import LAST_USED_STEP, touching
from keyfob.store.records import SsoSessionRecord
from keyfob.store.rows import join_words
from keyfob.store.rows_admin import check_fits, sso_session_from, storable
from keyfob.store.schema import UTCDateTime, sso_sessions, users

_sso = sso_sessions.c
_HASH_LENGTH = 128  # sso_sessions.token_hash is a String(128)

_INSERT = insert(sso_sessions)
_SID_LENGTH = 64  # sso_sessions.sid is a String(64)


def _live(key: Any) -> Any:
    """The SSO session whose ``key`` matches, if unexpired and its user is not disabled."""
    return (
        select(sso_sessions)
        .join(users, users.c.id == _sso.user_id)
        .where(
            key,
            _sso.expires_at > bindparam("now", type_=UTCDateTime()),
            users.c.disabled == false(),
        )
    )


_GET_LIVE = _live(_sso.token_hash == bindparam("th"))
_GET_LIVE_BY_SID = _live(_sso.sid == bindparam("public_sid"))
_USER_EXISTS = select(users.c.id).where(users.c.id == bindparam("uid"))
_DELETE = delete(sso_sessions).where(_sso.token_hash == bindparam("th"))
_TOUCH = touching(sso_sessions, _sso.token_hash == bindparam("th"))
_OF_USER = (
    select(sso_sessions)
    .where(
        _sso.user_id == bindparam("uid"), _sso.expires_at > bindparam("now", type_=UTCDateTime())
    )
    .order_by(_sso.authenticated_at.desc(), _sso.token_hash)
)


class SsoStore(StoreBase):
    """The SSO half of the store: one row per signed-in browser, found by its token's hash."""

    async def create_sso_session(self, record: SsoSessionRecord) -> None:
        """Store a new SSO session. Raises :class:`NotFound` if its user does not exist and
        :class:`Conflict` if the token hash or the ``sid`` is already in use
        (:class:`InvalidRequest` if a value does not fit its column)."""
        values: dict[str, Any] = {
            "token_hash": record.token_hash,
            "user_id": record.user_id,
            "amr": join_words(record.amr),
            "authenticated_at": record.authenticated_at,
            "expires_at": record.expires_at,
            "sid": record.sid,
            "device": record.device,
            "ip_area": record.ip_area,
            "last_used_at": record.last_used_at,
        }
        if not storable(record.user_id):
            raise NotFound("There is no such user.")
        check_fits(sso_sessions, values)
        try:
            await self._run.write_one(execute, _INSERT, values)
        except IntegrityError as exc:
            if await self._run.read(first, _USER_EXISTS, {"uid": record.user_id}) is None:
                raise NotFound("There is no such user.") from exc
            raise Conflict("This SSO session token or sid is already in use.") from exc

    async def get_sso_session(self, token_hash: str, *, now: datetime) -> SsoSessionRecord | None:
        """The SSO session if it has not expired by ``now`` and its user is not disabled."""
        if not storable(token_hash, _HASH_LENGTH):
            return None
        row = await self._run.read(first, _GET_LIVE, {"th": token_hash, "now": now})
        return None if row is None else sso_session_from(row._mapping)

    async def get_sso_session_by_sid(self, sid: str, *, now: datetime) -> SsoSessionRecord | None:
        """The SSO session whose public OIDC session id is ``sid``, on the same terms as
        :meth:`get_sso_session` (unexpired, user not disabled)."""
        if not storable(sid, _SID_LENGTH):
            return None
        row = await self._run.read(first, _GET_LIVE_BY_SID, {"public_sid": sid, "now": now})
        return None if row is None else sso_session_from(row._mapping)

    async def delete_sso_session(self, token_hash: str) -> bool:
        """End an SSO session (sign-out); False if there was none."""
        if not storable(token_hash, _HASH_LENGTH):
            return False
        return await self._run.write_one(rowcount, _DELETE, {"th": token_hash}) == 1

    async def touch_sso_session(
        self, token_hash: str, *, now: datetime, ip_area: str | None
    ) -> bool:
        """Record a use of the SSO session at ``now`` from the network ``ip_area`` (None keeps
        the one it had), unless it was used less than :data:`LAST_USED_STEP` ago; True if
        that wrote."""
        if not storable(token_hash, _HASH_LENGTH):
            return False
        params = {"th": token_hash, "now": now, "used_since": now - LAST_USED_STEP}
        return await self._run.write_one(rowcount, _TOUCH, {**params, "area": ip_area}) == 1

    async def sso_sessions_of_user(self, user_id: str, *, now: datetime) -> list[SsoSessionRecord]:
        """The user's SSO sessions not expired by ``now``, the latest sign-in first."""
        if not storable(user_id):
            return []
        rows = await self._run.read(every, _OF_USER, {"uid": user_id, "now": now})
        return [sso_session_from(row._mapping) for row in rows]
