"""The audit log and the settings an admin changes at run time."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from keyfob.errors import InvalidRequest
from keyfob.store.base import StoreBase, every, execute, rowcount, scalar
from keyfob.store.records import AuditEvent
from keyfob.store.rows_admin import audit_event_from, storable
from keyfob.store.schema import UTCDateTime, admin_settings, audit_events

#: The most events one call of :meth:`AuditStore.audit_events` returns.
MAX_AUDIT_PAGE = 500
_KEY_LENGTH = 64  # admin_settings.key is a String(64)
_BIGINT = 2**63
_EVENT_LENGTH = 64  # the widest column a filter compares with (event; ids have 36)

#: The events of failed sign-ins (account recovery's too), kept for their own (shorter) retention.
FAILED_SIGN_IN_EVENTS = ("sign_in_failed", "recovery_failed")
#: The most audit rows one purge transaction deletes.
AUDIT_PURGE_BATCH = 1000

_a = audit_events.c
_INSERT_EVENT = insert(audit_events).returning(_a.id)
_SETTINGS = select(admin_settings.c.key, admin_settings.c.value)


def _prefix_matches() -> Any:
    # substr, not LIKE: LIKE ignores case on SQLite and treats "_" as a wildcard.
    prefix: Any = bindparam("event_prefix")
    return func.substr(_a.event, 1, func.length(prefix)) == prefix


_FILTERS: dict[str, Any] = {
    "event": _a.event == bindparam("event"),
    "event_prefix": _prefix_matches(),
    "user_id": _a.user_id == bindparam("user_id"),
    "client_id": _a.client_id == bindparam("client_id"),
    "before_id": _a.id < bindparam("before_id", type_=BigInteger()),
}


@functools.cache
def _events_query(filters: tuple[str, ...]) -> Any:
    """The query for one combination of filters, built once (the SQLite path caches by
    statement)."""
    return (
        select(audit_events)
        .where(*(_FILTERS[name] for name in filters))
        .order_by(_a.id.desc())
        .limit(bindparam("limit", type_=Integer()))
    )


def _purge_query(*, failures_only: bool) -> Any:
    """Delete the oldest ``batch`` events written before ``before`` (of failed sign-ins only,
    or of any kind)."""
    chosen = select(_a.id).where(_a.at < bindparam("before", type_=UTCDateTime()))
    if failures_only:
        chosen = chosen.where(_a.event.in_(FAILED_SIGN_IN_EVENTS))
    chosen = chosen.order_by(_a.id).limit(bindparam("batch", type_=Integer()))
    return delete(audit_events).where(_a.id.in_(chosen.scalar_subquery()))


_PURGE_FAILURES = _purge_query(failures_only=True)
_PURGE_ANY = _purge_query(failures_only=False)


def _upsert(insert_: Any) -> Any:
    statement = insert_(admin_settings)
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": statement.excluded.value}
    )


_UPSERT_SETTING = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def _clip(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    kind = audit_events.c[name].type
    return value[: kind.length] if isinstance(kind, String) and kind.length else value


class AuditStore(StoreBase):
    """The audit half of the store: an append-only event log, and admin settings."""

    async def add_audit_event(self, event: AuditEvent) -> int:
        """Append ``event`` to the log (its ``id`` is ignored); return the id it was given.

        The log takes whatever it is given: a text longer than its column is cut short, NUL
        characters are dropped."""
        values = {name: _clip(name, getattr(event, name)) for name in event.__slots__}
        del values["id"]
        event_id: int = await self._run.write_one(scalar, _INSERT_EVENT, values)
        return event_id

    async def audit_events(
        self,
        *,
        event: str | None = None,
        event_prefix: str | None = None,
        user_id: str | None = None,
        client_id: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[AuditEvent]:
        """Events matching every filter given, newest first; at most ``limit`` of them (1 to
        :data:`MAX_AUDIT_PAGE`). For the next page pass the last id seen as ``before_id``."""
        given = {
            "event": event,
            "event_prefix": event_prefix,
            "user_id": user_id,
            "client_id": client_id,
            # Clamped into BIGINT range: PostgreSQL refuses a wider parameter.
            "before_id": None if before_id is None else max(-_BIGINT, min(before_id, _BIGINT - 1)),
        }
        params: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        texts = (value for name, value in params.items() if name != "before_id")
        if not all(storable(text, _EVENT_LENGTH) for text in texts):
            return []  # nothing stored could match
        query = _events_query(tuple(params))
        params["limit"] = max(1, min(limit, MAX_AUDIT_PAGE))
        rows = await self._run.read(every, query, params)
        return [audit_event_from(row._mapping) for row in rows]

    async def purge_audit_events(
        self,
        *,
        before: datetime,
        failures_before: datetime,
        batch: int = AUDIT_PURGE_BATCH,
    ) -> int:
        """Delete the events written before ``before``, and the failed sign-ins written before
        ``failures_before``, in transactions of at most ``batch`` rows (so a large backlog never
        holds a long lock); return how many went."""
        purged = 0
        for statement, cutoff in ((_PURGE_FAILURES, failures_before), (_PURGE_ANY, before)):
            size = max(1, batch)
            params = {"before": cutoff, "batch": size}
            while True:
                removed: int = await self._run.write_one(rowcount, statement, params)
                purged += removed
                if removed < size:
                    break
        return purged

    async def admin_settings(self) -> dict[str, str]:
        """Every admin setting, key to value."""
        rows = await self._run.read(every, _SETTINGS, {})
        return {row._mapping["key"]: row._mapping["value"] for row in rows}

    async def set_admin_setting(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``, replacing any earlier value. Raises
        :class:`InvalidRequest` for an empty key or one longer than 64 characters, and for NUL
        characters (PostgreSQL cannot store them)."""
        if not key or not storable(key, _KEY_LENGTH):
            raise InvalidRequest(f"A setting's name has 1 to {_KEY_LENGTH} characters.")
        if not storable(value, None):
            raise InvalidRequest("A setting's value cannot hold NUL characters.")
        upsert = _UPSERT_SETTING[self._engine.dialect.name]
        await self._run.write_one(execute, upsert, {"key": key, "value": value})
