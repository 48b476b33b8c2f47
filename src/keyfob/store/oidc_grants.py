"""OpenID Connect grants: their rotating refresh tokens, liveness checks and revocation.

A grant is live while it is neither revoked nor past ``expires_at``; every refresh token of it
dies with it (rotation checks the grant), and access tokens carry its id so that userinfo and
introspection can ask :meth:`OidcGrantStore.is_grant_active`. Refresh tokens rotate on every
use with no grace period: presenting a rotated token again revokes the whole grant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, delete, exists, func, select, update
from sqlalchemy.engine import Connection

from keyfob.store.base import StoreBase, every, execute, first, one, rowcount, scalar
from keyfob.store.records_oidc import OidcGrantRecord, RefreshOutcome
from keyfob.store.rows_admin import storable
from keyfob.store.rows_oidc import grant_from
from keyfob.store.schema import UTCDateTime, oidc_codes, oidc_grants, oidc_refresh_tokens

_g, _rt, _code = oidc_grants.c, oidc_refresh_tokens.c, oidc_codes.c
_HASH_LENGTH = 128  # oidc_refresh_tokens.token_hash is a String(128)
_SID_LENGTH = 64


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


def _live() -> tuple[Any, ...]:
    return (_g.revoked_at.is_(None), _g.expires_at > _now())


def _revoking(*where: Any) -> Any:
    return (
        update(oidc_grants)
        .where(*where, _g.revoked_at.is_(None))
        .values(revoked_at=_now())
        .returning(*oidc_grants.c)
    )


INSERT_REFRESH = oidc_refresh_tokens.insert()
#: Revoke the grant ``gid`` if it is not yet revoked (returns its row).
REVOKE_GRANT = _revoking(_g.id == bindparam("gid"))
_GET_GRANT = select(oidc_grants).where(_g.id == bindparam("gid"))
_IS_ACTIVE = select(_g.id).where(_g.id == bindparam("gid"), *_live())
_GRANT_OF_REFRESH = select(oidc_grants).where(
    _g.id == _rt.grant_id,
    _rt.token_hash == bindparam("token_hash"),
    _rt.rotated_at.is_(None),
    _rt.expires_at > _now(),
    *_live(),
)
_ROTATE = (
    update(oidc_refresh_tokens)
    .where(
        _rt.token_hash == bindparam("old_hash"),
        _rt.rotated_at.is_(None),
        _rt.expires_at > _now(),
        exists().where(_g.id == _rt.grant_id, _g.client_id == bindparam("cid"), *_live()),
    )
    .values(rotated_at=_now(), replaced_by=bindparam("new_hash", type_=String()))
    .returning(_rt.grant_id)
)
_LOOKUP_REFRESH = (
    select(
        *oidc_grants.c,
        _rt.rotated_at.label("token_rotated_at"),
        _rt.expires_at.label("token_expires_at"),
    )
    .select_from(oidc_refresh_tokens.join(oidc_grants))
    .where(_rt.token_hash == bindparam("old_hash"))
)
_REVOKE_BY_TOKEN = (
    update(oidc_grants)
    .where(
        _g.id == select(_rt.grant_id).where(_rt.token_hash == bindparam("th")).scalar_subquery(),
        _g.client_id == bindparam("cid"),
        _g.revoked_at.is_(None),
    )
    .values(revoked_at=_now())
)
_OF_SID = (
    select(oidc_grants)
    .where(_g.sid == bindparam("public_sid"), *_live())
    .order_by(_g.created_at, _g.id)
)
_OF_USER = (
    select(oidc_grants)
    .where(_g.user_id == bindparam("uid"), *_live())
    .order_by(_g.created_at, _g.id)
)
_OF_USER_CLIENT = _OF_USER.where(_g.client_id == bindparam("cid"))
_REVOKE_OF_SID = _revoking(_g.sid == bindparam("public_sid"))
# Codes not yet exchanged die with the sign-in (or account) they were issued for.
_DROP_CODES_OF_SID = delete(oidc_codes).where(
    _code.sid == bindparam("public_sid"), _code.used_at.is_(None)
)
_REVOKE_OF = {
    False: _revoking(_g.user_id == bindparam("uid")),
    True: _revoking(_g.user_id == bindparam("uid"), _g.client_id == bindparam("cid")),
}
_unused_of_user = (_code.user_id == bindparam("uid"), _code.used_at.is_(None))
_DROP_CODES_OF = {
    False: delete(oidc_codes).where(*_unused_of_user),
    True: delete(oidc_codes).where(*_unused_of_user, _code.client_id == bindparam("cid")),
}
_COUNT_EXPIRED_REFRESH = select(func.count()).where(_rt.expires_at <= _now())
_PURGE = (
    delete(oidc_grants).where(_g.expires_at <= _now()),  # their refresh tokens by cascade
    delete(oidc_codes).where(_code.expires_at <= _now()),
)
_PURGE_REFRESH = delete(oidc_refresh_tokens).where(_rt.expires_at <= _now())


class OidcGrantStore(StoreBase):
    """Grants and their refresh tokens (see the module's docstring)."""

    async def get_grant(self, grant_id: str) -> OidcGrantRecord | None:
        """The grant ``grant_id`` in any state (revoked, expired), or None."""
        if not storable(grant_id):
            return None
        row = await self._run.read(first, _GET_GRANT, {"gid": grant_id})
        return None if row is None else grant_from(row._mapping)

    async def grant_of_refresh_token(
        self, token_hash: str, *, now: datetime
    ) -> OidcGrantRecord | None:
        """The live grant of a current (unrotated, unexpired) refresh token, or None."""
        if not storable(token_hash, _HASH_LENGTH):
            return None
        params = {"token_hash": token_hash, "now": now}
        row = await self._run.read(first, _GRANT_OF_REFRESH, params)
        return None if row is None else grant_from(row._mapping)

    async def is_grant_active(self, grant_id: str, *, now: datetime) -> bool:
        """Whether the grant is neither revoked nor over at ``now`` (one primary-key lookup)."""
        if not storable(grant_id):
            return False
        return await self._run.read(first, _IS_ACTIVE, {"gid": grant_id, "now": now}) is not None

    async def rotate_oidc_refresh_token(
        self,
        token_hash: str,
        *,
        new_hash: str,
        client_id: str,
        now: datetime,
        expires_at: datetime,
    ) -> RefreshOutcome:
        """Spend the refresh token ``token_hash`` of ``client_id`` and store ``new_hash`` as
        its successor, expiring at ``expires_at`` or at the grant's end, whichever is first.

        Of concurrent attempts with one token exactly one rotates; the next presents a token
        already rotated, so it reports ``"reused"`` and revokes the grant (no grace), and any
        after it find the grant revoked (``"invalid"``). A token of another client is refused
        as ``"wrong_client"`` and changes nothing. See :class:`RefreshOutcome`.
        """
        if not (storable(token_hash, _HASH_LENGTH) and storable(client_id)):
            return RefreshOutcome("invalid")
        params = {
            "old_hash": token_hash,
            "new_hash": new_hash,
            "cid": client_id,
            "now": now,
            # Not "expires_at": a key named after a column would join the UPDATE's SET.
            "successor_expires_at": expires_at,
        }
        return await self._run.write(_rotate, params)

    async def revoke_grant(self, grant_id: str, *, now: datetime) -> bool:
        """Revoke the grant and with it every token of it; False if unknown or revoked before."""
        if not storable(grant_id):
            return False
        return (
            await self._run.write_one(first, REVOKE_GRANT, {"gid": grant_id, "now": now})
            is not None
        )

    async def revoke_refresh_token(self, token_hash: str, *, client_id: str, now: datetime) -> bool:
        """RFC 7009: revoke the grant of any refresh token of it (spent or not), if the token
        is ``client_id``'s; True if that revoked a live grant. Another client's token, an
        unknown one or one of a grant revoked before changes nothing (False)."""
        if not (storable(token_hash, _HASH_LENGTH) and storable(client_id)):
            return False
        params = {"th": token_hash, "cid": client_id, "now": now}
        return await self._run.write_one(rowcount, _REVOKE_BY_TOKEN, params) == 1

    async def grants_of_sid(self, sid: str, *, now: datetime) -> list[OidcGrantRecord]:
        """The live grants started in the SSO session ``sid``, oldest first."""
        if not storable(sid, _SID_LENGTH):
            return []
        rows = await self._run.read(every, _OF_SID, {"public_sid": sid, "now": now})
        return [grant_from(row._mapping) for row in rows]

    async def revoke_grants_of_sid(self, sid: str, *, now: datetime) -> list[OidcGrantRecord]:
        """Revoke every grant of the SSO session ``sid`` not revoked before (expired ones too:
        their clients may still hold a session) and drop its codes not yet exchanged; return
        the grants revoked (as they are now), oldest first, for back-channel logout."""
        if not storable(sid, _SID_LENGTH):
            return []
        rows = await self._run.write(_revoke_of_sid, {"public_sid": sid, "now": now})
        return sorted((grant_from(row._mapping) for row in rows), key=_age)

    async def grants_of_user(
        self, user_id: str, *, now: datetime, client_id: str | None = None
    ) -> list[OidcGrantRecord]:
        """The user's live grants (only those of ``client_id`` if given), oldest first."""
        if not (storable(user_id) and (client_id is None or storable(client_id))):
            return []
        statement = _OF_USER if client_id is None else _OF_USER_CLIENT
        rows = await self._run.read(
            every, statement, {"uid": user_id, "cid": client_id, "now": now}
        )
        return [grant_from(row._mapping) for row in rows]

    async def revoke_grants_of_user(
        self, user_id: str, *, now: datetime, client_id: str | None = None
    ) -> int:
        """Revoke the user's grants (only those of ``client_id`` if given) and drop their
        codes not yet exchanged; return how many grants were revoked."""
        if not (storable(user_id) and (client_id is None or storable(client_id))):
            return 0
        params = {"uid": user_id, "cid": client_id, "now": now}
        return await self._run.write(end_grants, params)


def end_grants(conn: Connection, params: dict[str, Any]) -> int:
    """Revoke the grants of the user ``params["uid"]`` (of the client ``params["cid"]`` if it
    is not None) and drop their unexchanged codes, inside the caller's transaction; return how
    many grants were revoked."""
    one_client = params.get("cid") is not None
    execute(conn, _DROP_CODES_OF[one_client], params)
    return len(every(conn, _REVOKE_OF[one_client], params))


def purge_grants(conn: Connection, params: dict[str, Any]) -> int:
    """Delete grants past their end (with their refresh tokens), expired refresh tokens and
    expired codes inside the caller's transaction; return how many rows went."""
    # Counted up front: deleting a grant takes its expired tokens by cascade.
    purged: int = scalar(conn, _COUNT_EXPIRED_REFRESH, params)
    for statement in _PURGE:
        purged += rowcount(conn, statement, params)
    execute(conn, _PURGE_REFRESH, params)
    return purged


def _rotate(conn: Connection, params: dict[str, Any]) -> RefreshOutcome:
    grant_id = scalar(conn, _ROTATE, params)
    if grant_id is None:
        return _refusal(conn, params)
    grant = grant_from(one(conn, _GET_GRANT, {"gid": grant_id})._mapping)
    if grant.revoked_at is not None:  # revoked between our two statements (PostgreSQL)
        return RefreshOutcome("invalid")
    successor = {
        "token_hash": params["new_hash"],
        "grant_id": grant_id,
        "parent_hash": params["old_hash"],
        "created_at": params["now"],
        "expires_at": min(params["successor_expires_at"], grant.expires_at),
    }
    execute(conn, INSERT_REFRESH, successor)
    return RefreshOutcome("rotated", grant)


def _refusal(conn: Connection, params: dict[str, Any]) -> RefreshOutcome:
    row = first(conn, _LOOKUP_REFRESH, params)
    now: datetime = params["now"]
    if row is None:
        return RefreshOutcome("invalid")
    if row.client_id != params["cid"]:
        return RefreshOutcome("wrong_client")
    if row.revoked_at is not None or row.expires_at <= now:
        return RefreshOutcome("invalid")
    if row.token_rotated_at is None:  # expired (or its grant revoked meanwhile)
        return RefreshOutcome("invalid")
    # Presented again after rotation, even past its own expiry: someone holds a stolen copy.
    revoked = first(conn, REVOKE_GRANT, {"gid": row.id, "now": now})
    return RefreshOutcome("reused", grant_from((revoked or row)._mapping))


def _revoke_of_sid(conn: Connection, params: dict[str, Any]) -> list[Any]:
    execute(conn, _DROP_CODES_OF_SID, params)
    return list(every(conn, _REVOKE_OF_SID, params))


def _age(grant: OidcGrantRecord) -> tuple[datetime, str]:
    return grant.created_at, grant.id
