"""OpenID Connect: authorization codes, the grants their exchange starts, and consents.

A code is consumed once, with one conditional UPDATE: of concurrent exchanges exactly one gets
it. Presenting it again revokes the grant its first exchange started and bars it from starting
one later (RFC 6749 section 4.1.2). Grants and refresh tokens are in :mod:`.oidc_grants`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keyfob.errors import Conflict, InvalidGrant, InvalidRequest, NotFound
from keyfob.store.base import every, execute, first, one, rowcount
from keyfob.store.oidc_grants import INSERT_REFRESH, REVOKE_GRANT, OidcGrantStore
from keyfob.store.records_oidc import CodeUse, ConsentRecord, OidcCodeRecord, OidcGrantRecord
from keyfob.store.rows import split_words
from keyfob.store.rows_admin import check_fits, join_scope, storable
from keyfob.store.rows_oidc import code_from, code_values, consent_from, grant_values
from keyfob.store.schema import (
    UTCDateTime,
    oidc_codes,
    oidc_consents,
    oidc_grants,
    users,
)

_code, _con = oidc_codes.c, oidc_consents.c
_HASH_LENGTH = 128  # oidc_codes.code_hash is a String(128)
_SCOPE_LENGTH = 255  # oidc_consents.scope is a String(255)


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


_INSERT_CODE = insert(oidc_codes)
_CODE_EXISTS = select(_code.code_hash).where(_code.code_hash == bindparam("ch"))
_CONSUME = (
    update(oidc_codes)
    .where(_code.code_hash == bindparam("ch"), _code.used_at.is_(None), _code.expires_at > _now())
    .values(used_at=_now())
    .returning(*oidc_codes.c)
)
_MARK_REUSED = (
    update(oidc_codes)
    .where(_code.code_hash == bindparam("ch"), _code.used_at.is_not(None))
    .values(reused_at=func.coalesce(_code.reused_at, _now()))
    .returning(_code.grant_id)
)
# A grant starts from a code consumed, not presented again since, with no grant yet, of the
# same client and user, and of a user not disabled (checked here, in the grant's transaction,
# so a user disabled after the code was consumed gets no grant).
_ATTACH_GRANT = (
    update(oidc_codes)
    .where(
        _code.code_hash == bindparam("ch"),
        _code.client_id == bindparam("cid"),
        _code.user_id == bindparam("uid"),
        _code.used_at.is_not(None),
        _code.reused_at.is_(None),
        _code.grant_id.is_(None),
        exists().where(users.c.id == _code.user_id, users.c.disabled.is_(False)),
    )
    .values(grant_id=bindparam("gid"))
)
_INSERT_GRANT = insert(oidc_grants)
_pair = (_con.user_id == bindparam("uid"), _con.client_id == bindparam("cid"))
_ADD_CONSENT = {
    name: dialect.insert(oidc_consents).on_conflict_do_nothing(
        index_elements=["user_id", "client_id"]
    )
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
# FOR UPDATE on PostgreSQL (SQLite holds the write lock already): concurrent grants queue up
# and each adds its scopes to what the one before it stored.
_LOCK_CONSENT = select(_con.scope).where(*_pair).with_for_update()
_SET_CONSENT = (
    update(oidc_consents).where(*_pair).values(scope=bindparam("new_scope"), granted_at=_now())
)
_GET_CONSENT = select(_con.scope).where(*_pair)
_REVOKE_CONSENT = delete(oidc_consents).where(*_pair)
_CONSENTS_OF = (
    select(oidc_consents).where(_con.user_id == bindparam("uid")).order_by(_con.client_id)
)


class OidcStore(OidcGrantStore):
    """The OpenID Connect provider's part of the store: codes, grants, refresh tokens,
    consents."""

    async def add_code(self, record: OidcCodeRecord) -> None:
        """Store a new authorization code. Raises :class:`Conflict` if its hash is taken,
        :class:`NotFound` if its client or user does not exist, :class:`InvalidRequest` if
        a value does not fit its column."""
        if not (storable(record.client_id) and storable(record.user_id)):
            raise NotFound("There is no such user or client.")
        values = code_values(record)
        check_fits(oidc_codes, values)
        try:
            await self._run.write_one(execute, _INSERT_CODE, values)
        except IntegrityError as exc:
            if await self._run.read(first, _CODE_EXISTS, {"ch": record.code_hash}) is None:
                raise NotFound("There is no such user or client.") from exc
            raise Conflict("This authorization code is already stored.") from exc

    async def consume_code(self, code_hash: str, *, now: datetime) -> CodeUse:
        """Consume the code if it is unused and unexpired at ``now``; see :class:`CodeUse`
        for a code presented again (its grant is revoked in this call) or unknown."""
        if not storable(code_hash, _HASH_LENGTH):
            return CodeUse(None)
        params = {"ch": code_hash, "now": now}
        row = await self._run.write_one(first, _CONSUME, params)
        if row is not None:
            return CodeUse(code_from(row._mapping))
        return await self._run.write(_reuse, params)

    async def start_grant(
        self,
        code_hash: str,
        grant: OidcGrantRecord,
        *,
        refresh_token_hash: str | None,
        now: datetime,
        refresh_expires_at: datetime | None = None,
    ) -> None:
        """In one transaction: store the grant the consumed code ``code_hash`` starts, record
        it on the code, and store the grant's first refresh token (if ``refresh_token_hash``),
        created ``now``, expiring at ``refresh_expires_at`` or the grant's end, whichever is
        first. Raises :class:`InvalidGrant`, storing nothing, unless the code was consumed,
        has not been presented again, has no grant yet, is of the grant's client and user, and
        that user is not disabled.
        """
        values = grant_values(grant)
        check_fits(oidc_grants, values)
        if not storable(code_hash, _HASH_LENGTH):
            raise InvalidGrant("This authorization code cannot start a grant.")
        token = None
        if refresh_token_hash is not None:
            ends = grant.expires_at
            token = {
                "token_hash": refresh_token_hash,
                "grant_id": grant.id,
                "parent_hash": None,
                "created_at": now,
                "expires_at": ends if refresh_expires_at is None else min(refresh_expires_at, ends),
            }
        attach = {"ch": code_hash, "cid": grant.client_id, "uid": grant.user_id, "gid": grant.id}
        try:
            await self._run.write(_start_grant, attach, values, token)
        except IntegrityError as exc:
            raise Conflict("This grant or refresh token is already stored.") from exc

    async def get_consent(self, user_id: str, client_id: str) -> frozenset[str] | None:
        """The scopes the user allowed the client, or None if they never consented."""
        if not (storable(user_id) and storable(client_id)):
            return None
        row = await self._run.read(first, _GET_CONSENT, {"uid": user_id, "cid": client_id})
        return None if row is None else frozenset(split_words(row.scope))

    async def grant_consent(
        self, user_id: str, client_id: str, scopes: Iterable[str], *, now: datetime
    ) -> frozenset[str]:
        """Add ``scopes`` to what the user allowed the client (stamping ``granted_at``);
        return all the scopes allowed now. Raises :class:`NotFound` if the user or client
        does not exist, :class:`InvalidRequest` for a scope that is not one word or if they
        no longer fit."""
        wanted = frozenset(scopes)
        join_scope(wanted)  # refuses what is not a word before anything is written
        if not (storable(user_id) and storable(client_id)):
            raise NotFound("There is no such user or client.")
        add = _ADD_CONSENT[self._engine.dialect.name]
        params = {"uid": user_id, "cid": client_id, "now": now}
        try:
            return await self._run.write(_grant_consent, add, params, wanted)
        except IntegrityError as exc:  # only a foreign key can fail: a conflict does nothing
            raise NotFound("There is no such user or client.") from exc

    async def revoke_consent(self, user_id: str, client_id: str) -> bool:
        """Forget the user's consent to the client (its grants stay: see
        :meth:`revoke_grants_of_user`); False if there was none."""
        if not (storable(user_id) and storable(client_id)):
            return False
        params = {"uid": user_id, "cid": client_id}
        return await self._run.write_one(rowcount, _REVOKE_CONSENT, params) == 1

    async def consents_of_user(self, user_id: str) -> list[ConsentRecord]:
        """Every consent the user gave, by client id."""
        if not storable(user_id):
            return []
        rows = await self._run.read(every, _CONSENTS_OF, {"uid": user_id})
        return [consent_from(row._mapping) for row in rows]


def _reuse(conn: Connection, params: dict[str, Any]) -> CodeUse:
    """A code that was not consumed now: if it had been, mark it presented again and revoke
    its grant (an unknown or expired code changes nothing)."""
    row = first(conn, _MARK_REUSED, params)
    if row is None:
        return CodeUse(None)
    if row.grant_id is not None:
        execute(conn, REVOKE_GRANT, {"gid": row.grant_id, "now": params["now"]})
    return CodeUse(None, reused=True, revoked_grant_id=row.grant_id)


def _start_grant(
    conn: Connection,
    attach: dict[str, Any],
    grant: dict[str, Any],
    token: dict[str, Any] | None,
) -> None:
    # The code first: its row lock orders this against a concurrent second presentation.
    if rowcount(conn, _ATTACH_GRANT, attach) != 1:
        raise InvalidGrant("This authorization code cannot start a grant.")
    execute(conn, _INSERT_GRANT, grant)
    if token is not None:
        execute(conn, INSERT_REFRESH, token)


def _grant_consent(
    conn: Connection, add: Any, params: dict[str, Any], wanted: frozenset[str]
) -> frozenset[str]:
    fresh = {"user_id": params["uid"], "client_id": params["cid"], "scope": ""}
    execute(conn, add, fresh | {"granted_at": params["now"]})
    allowed = wanted | frozenset(split_words(one(conn, _LOCK_CONSENT, params).scope))
    stored = join_scope(sorted(allowed))
    if len(stored) > _SCOPE_LENGTH:
        raise InvalidRequest("These scopes do not fit a consent.")
    execute(conn, _SET_CONSENT, params | {"new_scope": stored})
    return allowed
