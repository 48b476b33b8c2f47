"""Client apps (of the hosted sign-in pages and OpenID Connect) and which users may sign in
to them."""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    LargeBinary,
    bindparam,
    case,
    delete,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from keyfob.errors import Conflict, NotFound
from keyfob.store.base import StoreBase, every, execute, first, rowcount
from keyfob.store.records import ClientRecord
from keyfob.store.rows_admin import (
    check_fits,
    client_from,
    client_values,
    dump_uris,
    join_scope,
    storable,
)
from keyfob.store.schema import UTCDateTime, client_permissions, clients

_cl, _cp = clients.c, client_permissions.c
# The columns update_client may change; a None passed for one leaves it as it is, so one
# statement serves every partial update. The nullable ones also take CLEAR (set to NULL).
_EDITABLE = (
    "name",
    "redirect_uris",
    "registration_enabled",
    "open_to_all",
    "token_lifetime_minutes",
    "authorized_client_lifetime_minutes",
    "token_delivery",
    "require_state",
    "client_type",
    "token_endpoint_auth_method",
    "post_logout_redirect_uris",
    "scopes",
    "subject_type",
    "id_token_alg",
    "first_party",
    "issue_refresh_tokens",
    "resources",
    "synthetic_email",
)
_NULLABLE = (
    "sector_identifier",
    "backchannel_logout_uri",
    "jwks",
    "refresh_lifetime_minutes",
    "logo_uri",
)


class Clear(enum.Enum):
    """The type of :data:`CLEAR`."""

    CLEAR = "clear"


#: Passed to :meth:`ClientStore.update_client` for a nullable setting: set it to NULL (None
#: there means "leave as it is").
CLEAR: Final = Clear.CLEAR


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


def _changed(name: str) -> Any:
    """The new value of column ``name``: the bind ``new_<name>`` unless that is NULL (SET may
    not use a bind named after a column); for a nullable column NULL if ``clear_<name>``."""
    kept = func.coalesce(bindparam("new_" + name, type_=_cl[name].type), _cl[name])
    if name not in _NULLABLE:
        return kept
    return case((bindparam("clear_" + name, type_=Boolean()), null()), else_=kept)


_INSERT_CLIENT = insert(clients)
_GET_CLIENT = select(clients).where(_cl.id == bindparam("cid"))
_LIST_CLIENTS = select(clients).order_by(_cl.name, _cl.id)
_UPDATE_CLIENT = (
    update(clients)
    .where(_cl.id == bindparam("cid"))
    .values({name: _changed(name) for name in (*_EDITABLE, *_NULLABLE)} | {"updated_at": _now()})
    .returning(*clients.c)
)
_SET_SECRET = (
    update(clients)
    .where(_cl.id == bindparam("cid"))
    .values(sealed_secret=bindparam("secret", type_=LargeBinary()), updated_at=_now())
)
_RESEAL_SECRET = (
    update(clients)
    .where(_cl.id == bindparam("cid"))
    .where(_cl.sealed_secret == bindparam("old", type_=LargeBinary()))
    .values(sealed_secret=bindparam("new", type_=LargeBinary()))
)
_DELETE_CLIENT = delete(clients).where(_cl.id == bindparam("cid"))
_GRANT = {
    name: dialect.insert(client_permissions)
    .on_conflict_do_nothing(index_elements=["user_id", "client_id"])
    .returning(_cp.user_id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_pair = (_cp.user_id == bindparam("uid"), _cp.client_id == bindparam("cid"))
_REVOKE = delete(client_permissions).where(*_pair)
_HAS = select(_cp.user_id).where(*_pair)
_OF_USER = select(_cp.client_id).where(_cp.user_id == bindparam("uid")).order_by(_cp.client_id)
_PERMITTED = select(_cp.user_id).where(_cp.client_id == bindparam("cid")).order_by(_cp.user_id)


class ClientStore(StoreBase):
    """The client-app half of the store: clients, their secrets, per-user permissions."""

    async def add_client(self, record: ClientRecord) -> None:
        """Store a new client; :class:`Conflict` if its id is taken, :class:`InvalidRequest`
        if a value does not fit its column."""
        values = client_values(record)
        check_fits(clients, values)
        try:
            await self._run.write_one(execute, _INSERT_CLIENT, values)
        except IntegrityError as exc:
            raise Conflict("A client with this id already exists.") from exc

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """The client ``client_id``, or None (also for any string that is no client's id)."""
        if not storable(client_id):
            return None
        row = await self._run.read(first, _GET_CLIENT, {"cid": client_id})
        return None if row is None else _client_of(row)

    async def list_clients(self) -> list[ClientRecord]:
        """Every client, by name."""
        return [client_from(row._mapping) for row in await self._run.read(every, _LIST_CLIENTS, {})]

    async def update_client(
        self,
        client_id: str,
        *,
        now: datetime,
        name: str | None = None,
        redirect_uris: tuple[str, ...] | None = None,
        registration_enabled: bool | None = None,
        open_to_all: bool | None = None,
        token_lifetime_minutes: int | None = None,
        authorized_client_lifetime_minutes: int | None = None,
        token_delivery: str | None = None,
        require_state: bool | None = None,
        client_type: str | None = None,
        token_endpoint_auth_method: str | None = None,
        post_logout_redirect_uris: tuple[str, ...] | None = None,
        scopes: tuple[str, ...] | None = None,
        subject_type: str | None = None,
        sector_identifier: str | Clear | None = None,
        id_token_alg: str | None = None,
        backchannel_logout_uri: str | Clear | None = None,
        first_party: bool | None = None,
        issue_refresh_tokens: bool | None = None,
        jwks: str | Clear | None = None,
        resources: tuple[str, ...] | None = None,
        synthetic_email: bool | None = None,
        refresh_lifetime_minutes: int | Clear | None = None,
        logo_uri: str | Clear | None = None,
    ) -> ClientRecord | None:
        """Change the given fields (None: leave as is; :data:`CLEAR`: set a nullable one to
        None), stamp ``updated_at``; return the client as it is now, or None if there is no
        such client. :class:`InvalidRequest` if a value does not fit its column (or a scope
        is not one word)."""
        changes: dict[str, Any] = {
            "name": name,
            "redirect_uris": _json(redirect_uris),
            "registration_enabled": registration_enabled,
            "open_to_all": open_to_all,
            "token_lifetime_minutes": token_lifetime_minutes,
            "authorized_client_lifetime_minutes": authorized_client_lifetime_minutes,
            "token_delivery": token_delivery,
            "require_state": require_state,
            "client_type": client_type,
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "post_logout_redirect_uris": _json(post_logout_redirect_uris),
            "scopes": None if scopes is None else join_scope(scopes),
            "subject_type": subject_type,
            "id_token_alg": id_token_alg,
            "first_party": first_party,
            "issue_refresh_tokens": issue_refresh_tokens,
            "resources": _json(resources),
            "synthetic_email": synthetic_email,
        }
        nullable: dict[str, Any] = {
            "sector_identifier": sector_identifier,
            "backchannel_logout_uri": backchannel_logout_uri,
            "jwks": jwks,
            "refresh_lifetime_minutes": refresh_lifetime_minutes,
            "logo_uri": logo_uri,
        }
        cleared = {key for key, value in nullable.items() if value is CLEAR}
        changes |= {key: None if key in cleared else value for key, value in nullable.items()}
        check_fits(clients, changes)
        if not storable(client_id):
            return None
        params = {"new_" + key: value for key, value in changes.items()}
        params |= {"clear_" + key: key in cleared for key in nullable}
        params |= {"cid": client_id, "now": now}
        row = await self._run.write_one(first, _UPDATE_CLIENT, params)
        return None if row is None else client_from(row._mapping)

    async def set_client_secret(
        self, client_id: str, sealed_secret: bytes, *, now: datetime
    ) -> bool:
        """Replace the client's sealed secret; False if there is no such client."""
        if not storable(client_id):
            return False
        params = {"cid": client_id, "secret": sealed_secret, "now": now}
        return await self._run.write_one(rowcount, _SET_SECRET, params) == 1

    async def reseal_client_secret(self, client_id: str, old: bytes, new: bytes) -> bool:
        """Replace the sealed secret ``old`` by ``new`` (the same secret, sealed anew) without
        touching ``updated_at``; False if the client is gone or no longer holds ``old``."""
        params = {"cid": client_id, "old": old, "new": new}
        return await self._run.write_one(rowcount, _RESEAL_SECRET, params) == 1

    async def delete_client(self, client_id: str) -> bool:
        """Delete the client and its permissions; False if there is no such client."""
        if not storable(client_id):
            return False
        return await self._run.write_one(rowcount, _DELETE_CLIENT, {"cid": client_id}) == 1

    async def grant_permission(self, user_id: str, client_id: str, *, now: datetime) -> bool:
        """Let the user sign in to the client: True if newly granted, False if they already
        could. Raises :class:`NotFound` if the user or the client does not exist."""
        if not (storable(user_id) and storable(client_id)):
            raise NotFound("There is no such user or client.")
        grant = _GRANT[self._engine.dialect.name]
        values = {"user_id": user_id, "client_id": client_id, "granted_at": now}
        try:
            return await self._run.write_one(first, grant, values) is not None
        except IntegrityError as exc:  # only a foreign key can fail: a conflict does nothing
            raise NotFound("There is no such user or client.") from exc

    async def revoke_permission(self, user_id: str, client_id: str) -> bool:
        """Take the permission back; False if the user did not have it."""
        if not (storable(user_id) and storable(client_id)):
            return False
        params = {"uid": user_id, "cid": client_id}
        return await self._run.write_one(rowcount, _REVOKE, params) == 1

    async def has_permission(self, user_id: str, client_id: str) -> bool:
        """Whether the user was granted permission to sign in to the client."""
        if not (storable(user_id) and storable(client_id)):
            return False
        return await self._run.read(first, _HAS, {"uid": user_id, "cid": client_id}) is not None

    async def permissions_of_user(self, user_id: str) -> list[str]:
        """The ids of the clients the user was granted, in id order."""
        if not storable(user_id):
            return []
        return [row[0] for row in await self._run.read(every, _OF_USER, {"uid": user_id})]

    async def users_permitted(self, client_id: str) -> list[str]:
        """The ids of the users granted the client, in id order."""
        if not storable(client_id):
            return []
        return [row[0] for row in await self._run.read(every, _PERMITTED, {"cid": client_id})]


def _json(uris: tuple[str, ...] | None) -> str | None:
    return None if uris is None else dump_uris(uris)


@functools.lru_cache(maxsize=256)
def _client_of(row: Row[Any]) -> ClientRecord:
    """:func:`client_from`, memoised by the row's values (a row compares and hashes as the
    tuple of its columns, so a changed client is a new entry): the token endpoint reads its
    client on every request, and parsing the record's JSON lists cost more than the read."""
    return client_from(row._mapping)
