"""Recovery codes: replaced all at once, each spent once, counted for the account page.

The store never sees a code, only its keyed hash (:mod:`keyfob.core.recovery`). Recovery links
live with the other one-time links in ``passkey_challenges`` (purpose ``recovery-link``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keyfob.errors import NotFound
from keyfob.store.base import StoreBase, every, execute, first
from keyfob.store.passkeys import PASSKEY
from keyfob.store.records import RecoveryCodesStatus
from keyfob.store.rows_admin import storable
from keyfob.store.schema import UTCDateTime, identities, recovery_codes, users

_r, _u, _i = recovery_codes.c, users.c, identities.c
_HASH_LENGTH = 128  # recovery_codes.code_hash is a String(128)
_NAME_LENGTH = 255  # the widest column an identifier is compared with (identities.address)


def _matching_users() -> Any:
    """The ids of the users an identifier may name: their id, their username (ignoring case),
    or the address of one of their wallets (``addresses``: the identifier's canonical forms)."""
    name: Any = bindparam("name")
    wallet = select(_i.user_id).where(
        _i.kind != PASSKEY, _i.address.in_(bindparam("addresses", expanding=True))
    )
    return select(_u.id).where(
        or_(_u.id == name, func.lower(_u.username) == func.lower(name), _u.id.in_(wallet)),
        _u.disabled == false(),
    )


_USER_EXISTS = select(_u.id).where(_u.id == bindparam("uid"))
_DELETE_CODES = delete(recovery_codes).where(_r.user_id == bindparam("uid"))
_INSERT_CODE = insert(recovery_codes)
# One statement finds the code, checks whose it is and spends it: of two concurrent uses one
# updates the row and the other, re-reading it (PostgreSQL) or waiting for the writer (SQLite),
# finds used_at set and matches nothing.
_USE_CODE = (
    update(recovery_codes)
    .where(
        _r.code_hash == bindparam("code"),
        _r.used_at.is_(None),
        _r.user_id.in_(_matching_users().scalar_subquery()),
    )
    .values(used_at=bindparam("now", type_=UTCDateTime()))
    .returning(_r.user_id)
)
_MATCHING = _matching_users().order_by(_u.id).limit(bindparam("limit", type_=Integer()))
_STATUS = select(
    func.count().label("total"),
    func.count(_r.used_at).label("used"),
    func.min(_r.created_at).label("created_at"),
).where(_r.user_id == bindparam("uid"))


class RecoveryStore(StoreBase):
    """The recovery half of the store."""

    async def replace_recovery_codes(
        self, user_id: str, code_hashes: Sequence[str], *, now: datetime
    ) -> None:
        """Give the user exactly these codes (their hashes), dropping every earlier one, used or
        not, in one transaction; :class:`NotFound` if there is no such user."""
        if not storable(user_id):
            raise NotFound("There is no such user.")
        if not all(storable(code, _HASH_LENGTH) for code in code_hashes):
            raise ValueError("a recovery code hash is longer than its column")
        params = {"uid": user_id, "hashes": list(code_hashes), "now": now}
        try:
            await self._run.write(_replace, params)
        except IntegrityError as exc:  # the user was deleted since the check
            raise NotFound("There is no such user.") from exc

    async def use_recovery_code(
        self, *, code_hash: str, identifier: str, addresses: Sequence[str], now: datetime
    ) -> str | None:
        """Spend the unused code of this hash if it belongs to the enabled user ``identifier``
        names (an id, a username, or the address of a wallet: ``addresses`` are its canonical
        forms); that user's id, or None (and nothing changes). Atomic: of concurrent uses of a
        code exactly one gets the id."""
        if not _searchable(identifier, addresses) or not storable(code_hash, _HASH_LENGTH):
            return None
        params = {"code": code_hash, "name": identifier, "addresses": list(addresses), "now": now}
        row = await self._run.write_one(first, _USE_CODE, params)
        return None if row is None else str(row.user_id)

    async def recovery_user_ids(self, identifier: str, addresses: Sequence[str]) -> list[str]:
        """The ids of the enabled users ``identifier`` may name, as :meth:`use_recovery_code`
        reads it (at most three: an id, a username and a wallet of three users)."""
        if not _searchable(identifier, addresses):
            return []
        params = {"name": identifier, "addresses": list(addresses), "limit": 3}
        rows = await self._run.read(every, _MATCHING, params)
        return [str(row.id) for row in rows]

    async def recovery_codes_status(self, user_id: str) -> RecoveryCodesStatus:
        """How many recovery codes the user has, how many are unused, when they were made."""
        if not storable(user_id):
            return RecoveryCodesStatus(total=0, remaining=0, generated_at=None)
        row = await self._run.read(first, _STATUS, {"uid": user_id})
        assert row is not None  # an aggregate always has its one row
        total, used = int(row.total), int(row.used)
        return RecoveryCodesStatus(
            total=total, remaining=total - used, generated_at=row.created_at if total else None
        )


def _searchable(identifier: str, addresses: Sequence[str]) -> bool:
    texts = (identifier, *addresses)
    return bool(identifier) and all(storable(text, _NAME_LENGTH) for text in texts)


def _replace(conn: Connection, params: dict[str, Any]) -> None:
    if first(conn, _USER_EXISTS, params) is None:
        raise NotFound("There is no such user.")
    execute(conn, _DELETE_CODES, params)
    for code_hash in params["hashes"]:
        row = {"code_hash": code_hash, "user_id": params["uid"], "created_at": params["now"]}
        execute(conn, _INSERT_CODE, row | {"used_at": None})
