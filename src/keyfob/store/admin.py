"""What the admin pages do to users: find them, disable, enable, delete, set roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, delete, exists, false, func, or_, select, true, update
from sqlalchemy.engine import Connection

from keyfob.errors import InvalidRequest
from keyfob.store.base import StoreBase, every, execute, rowcount, scalar
from keyfob.store.fastsql import RowLike
from keyfob.store.oidc_grants import end_grants
from keyfob.store.records import IdentityRecord, UserRecord
from keyfob.store.rows import IDENTITY_PREFIX, identity_from, join_words, split_words, user_from
from keyfob.store.rows_admin import storable
from keyfob.store.schema import (
    UTCDateTime,
    identities,
    session_keys,
    sso_sessions,
    users,
)
from keyfob.store.sessions import end_sessions

#: The most users one search returns.
MAX_SEARCH = 500
#: How long a query must be before an identity address matches by prefix, not only exactly.
ADDRESS_PREFIX_MIN = 4
_ROLES_LENGTH = 255  # users.roles is a String(255)
_ESCAPE = "/"

_u, _i = users.c, identities.c


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape character ``/``) matching what starts with ``text``."""
    for special in (_ESCAPE, "%", "_"):
        text = text.replace(special, _ESCAPE + special)
    return text + "%"


def _starts(column: Any) -> Any:
    """``column`` starts with the query, ignoring case."""
    return func.lower(column).like(bindparam("pattern"), escape=_ESCAPE)


def _identities_labelled() -> Iterable[Any]:
    return (column.label(IDENTITY_PREFIX + column.name) for column in identities.c)


def _search(*, query: bool, address_prefix: bool) -> Any:
    """Users (with their identities, newest user first) matching the query, or all if none."""
    matched = select(_u.id).order_by(_u.created_at.desc(), _u.id.desc())
    if query:
        address: Any = _i.address == bindparam("q")
        if address_prefix:
            address = or_(address, _starts(_i.address))
        matched = matched.where(
            or_(_starts(_u.id), _starts(_u.username), exists().where(_i.user_id == _u.id, address))
        )
    matched = matched.limit(bindparam("limit", type_=Integer()))
    return (
        select(*users.c, *_identities_labelled())
        .select_from(users.outerjoin(identities))
        .where(_u.id.in_(matched.scalar_subquery()))
        .order_by(_u.created_at.desc(), _u.id.desc(), _i.created_at, _i.id)
    )


_SEARCH_ALL = _search(query=False, address_prefix=False)
_SEARCH_SHORT = _search(query=True, address_prefix=False)
_SEARCH_LONG = _search(query=True, address_prefix=True)
_BY_IDS = (
    select(*users.c, *_identities_labelled())
    .select_from(users.outerjoin(identities))
    .where(_u.id.in_(bindparam("ids", expanding=True)))
    .order_by(_u.id, _i.created_at, _i.id)
)
_now = bindparam("now", type_=UTCDateTime())
_uid: Any = bindparam("uid")
_DISABLE = update(users).where(_u.id == _uid).values(disabled=true())
_ENABLE = update(users).where(_u.id == _uid).values(disabled=false())
_REVOKE_KEYS = (
    update(session_keys)
    .where(session_keys.c.user_id == _uid, session_keys.c.revoked_at.is_(None))
    .values(revoked_at=_now)
)
_DELETE_SSO = delete(sso_sessions).where(sso_sessions.c.user_id == _uid)
_DELETE_USER = delete(users).where(_u.id == _uid)
_SET_ROLES = update(users).where(_u.id == _uid).values(roles=bindparam("new_roles"))
_COUNT = select(func.count()).select_from(users)
_ROLE_CANDIDATES = (
    select(_u.id, _u.roles)
    .where(_u.roles.like(bindparam("pattern"), escape=_ESCAPE))
    .order_by(_u.created_at, _u.id)
)


class AdminStore(StoreBase):
    """The admin half of the store: user search and account-wide actions."""

    async def search_users(self, query: str, *, limit: int = 50) -> list[UserRecord]:
        """Users whose id or username starts with ``query`` (ignoring case), or who have an
        identity whose address is ``query`` (or, for a query of at least 4 characters, starts
        with it, ignoring case); every user if ``query`` is empty. Newest first, at most
        ``limit`` (1 to :data:`MAX_SEARCH`), each with all of their identities."""
        query = query.strip()
        if not storable(query, None):
            return []
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_SEARCH))}
        if not query:
            statement = _SEARCH_ALL
        else:
            params |= {"q": query, "pattern": like_prefix(query.lower())}
            long = len(query) >= ADDRESS_PREFIX_MIN
            statement = _SEARCH_LONG if long else _SEARCH_SHORT
        return _users_from(await self._run.read(every, statement, params))

    async def users_by_id(self, user_ids: Iterable[str]) -> dict[str, UserRecord]:
        """The users of ``user_ids`` that exist (with their identities), by id; at most
        :data:`MAX_SEARCH` ids are looked up, ids that cannot be stored are skipped."""
        wanted = sorted({user_id for user_id in user_ids if storable(user_id)})[:MAX_SEARCH]
        if not wanted:
            return {}
        rows = await self._run.read(every, _BY_IDS, {"ids": wanted})
        return {user.id: user for user in _users_from(rows)}

    async def disable_user(self, user_id: str, *, now: datetime, deny_until: datetime) -> bool:
        """Disable the user and, in the same transaction, revoke all of their sessions (their
        refresh tokens die with them, their access tokens are on the denylist until
        ``deny_until``) and session keys, end their SSO sessions, revoke their OpenID Connect
        grants and drop their codes not yet exchanged. False if there is no such user."""
        if not storable(user_id):
            return False
        params = {"uid": user_id, "now": now, "deny_until": deny_until}
        return await self._run.write(_disable, params)

    async def enable_user(self, user_id: str) -> bool:
        """Let a disabled user sign in again (revoked sessions stay revoked); False if there
        is no such user."""
        if not storable(user_id):
            return False
        return await self._run.write_one(rowcount, _ENABLE, {"uid": user_id}) == 1

    async def delete_user(self, user_id: str, *, now: datetime, deny_until: datetime) -> bool:
        """Delete the user with everything of theirs but the audit log (their live sessions'
        access tokens stay on the denylist until ``deny_until``); False if unknown."""
        if not storable(user_id):
            return False
        params = {"uid": user_id, "now": now, "deny_until": deny_until}
        return await self._run.write(_delete_user, params)

    async def set_roles(self, user_id: str, roles: tuple[str, ...]) -> bool:
        """Replace the user's roles; False if there is no such user. Raises
        :class:`InvalidRequest` for a role that is empty or has spaces, or too many roles."""
        if not all(_is_word(role) for role in roles):
            raise InvalidRequest("A role is one word, without spaces.")
        stored = join_words(roles)
        if len(stored) > _ROLES_LENGTH:
            raise InvalidRequest(f"A user's roles take at most {_ROLES_LENGTH} characters.")
        if not storable(user_id):
            return False
        params = {"uid": user_id, "new_roles": stored}
        return await self._run.write_one(rowcount, _SET_ROLES, params) == 1

    async def count_users(self) -> int:
        """How many users there are."""
        count: int = await self._run.read(scalar, _COUNT, {})
        return count

    async def users_with_role(self, role: str) -> list[str]:
        """The ids of the users who have ``role`` (exactly), oldest user first."""
        if not _is_word(role):
            return []
        pattern = "%" + like_prefix(role)  # a cheap superset; exact words checked below
        rows = await self._run.read(every, _ROLE_CANDIDATES, {"pattern": pattern})
        return [row.id for row in rows if role in split_words(row.roles)]


def _is_word(role: str) -> bool:
    return role.split() == [role] and storable(role, _ROLES_LENGTH)


def _disable(conn: Connection, params: dict[str, Any]) -> bool:
    if rowcount(conn, _DISABLE, params) != 1:
        return False
    end_sessions(conn, "uid", params)
    execute(conn, _REVOKE_KEYS, params)
    execute(conn, _DELETE_SSO, params)
    end_grants(conn, params)
    return True


def _delete_user(conn: Connection, params: dict[str, Any]) -> bool:
    end_sessions(conn, "uid", params)  # deleted with the user, but denied until then
    return rowcount(conn, _DELETE_USER, params) == 1


def _users_from(rows: Sequence[RowLike]) -> list[UserRecord]:
    """Users from ``users LEFT JOIN identities`` rows ordered by user, in that order."""
    found: dict[str, tuple[Any, list[IdentityRecord]]] = {}
    for row in rows:
        mapping = row._mapping
        _, owned = found.setdefault(mapping["id"], (mapping, []))
        if mapping[IDENTITY_PREFIX + "id"] is not None:
            owned.append(identity_from(mapping, IDENTITY_PREFIX))
    return [user_from(mapping, owned) for mapping, owned in found.values()]
