"""Rows to records for clients, SSO sessions and the audit log (the rest is in rows.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Integer, String, Table

from keyfob.errors import InvalidRequest
from keyfob.store.records import AuditEvent, ClientRecord, SsoSessionRecord
from keyfob.store.rows import join_words, split_words

#: Every id column's width (uuid4 strings).
ID_LENGTH = 36
_INT32 = range(-(2**31), 2**31)


def storable(text: str, length: int | None = ID_LENGTH) -> bool:
    """Whether ``text`` fits a column of ``length`` characters and PostgreSQL accepts it (no
    NUL); anything else cannot be a stored value, so lookups answer "none" without a query."""
    return "\x00" not in text and (length is None or len(text) <= length)


def check_fits(table: Table, values: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidRequest` unless every value fits its column of ``table``
    (PostgreSQL would refuse it with a server error; SQLite would store it anyway)."""
    for name, value in values.items():
        kind = table.c[name].type
        if isinstance(value, str) and isinstance(kind, String):
            if not storable(value, kind.length):
                raise InvalidRequest(f"The {name.replace('_', ' ')} is too long or not text.")
        elif isinstance(value, int) and type(kind) is Integer and value not in _INT32:
            raise InvalidRequest(f"The {name.replace('_', ' ')} is out of range.")


def join_scope(scopes: Iterable[str], what: str = "scope") -> str:
    """Store scope values space-separated; :class:`InvalidRequest` for a value that is empty
    or holds whitespace (it would not come back as itself)."""
    values = tuple(scopes)
    if any(value.split() != [value] for value in values):
        raise InvalidRequest(f"A {what} value is one word, without spaces.")
    return join_words(values)


def dump_uris(uris: Iterable[str]) -> str:
    """Store redirect URIs as a compact JSON list."""
    return json.dumps(list(uris), separators=(",", ":"))


def load_uris(text: str) -> tuple[str, ...]:
    """Inverse of :func:`dump_uris`."""
    return tuple(str(uri) for uri in json.loads(text))


def client_from(row: Mapping[Any, Any]) -> ClientRecord:
    """A client app (its secret still sealed)."""
    return ClientRecord(
        id=row["id"],
        name=row["name"],
        sealed_secret=bytes(row["sealed_secret"]),
        redirect_uris=load_uris(row["redirect_uris"]),
        registration_enabled=bool(row["registration_enabled"]),
        open_to_all=bool(row["open_to_all"]),
        token_lifetime_minutes=row["token_lifetime_minutes"],
        authorized_client_lifetime_minutes=row["authorized_client_lifetime_minutes"],
        token_delivery=row["token_delivery"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        require_state=bool(row["require_state"]),
        client_type=row["client_type"],
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        post_logout_redirect_uris=load_uris(row["post_logout_redirect_uris"]),
        scopes=split_words(row["scopes"]),
        subject_type=row["subject_type"],
        sector_identifier=row["sector_identifier"],
        id_token_alg=row["id_token_alg"],
        backchannel_logout_uri=row["backchannel_logout_uri"],
        first_party=bool(row["first_party"]),
        issue_refresh_tokens=bool(row["issue_refresh_tokens"]),
        jwks=row["jwks"],
        resources=load_uris(row["resources"]),
        synthetic_email=bool(row["synthetic_email"]),
        refresh_lifetime_minutes=row["refresh_lifetime_minutes"],
        logo_uri=row["logo_uri"],
    )


def client_values(record: ClientRecord) -> dict[str, Any]:
    """The row of a client (its lists as JSON, its scopes space-separated)."""
    values = {name: getattr(record, name) for name in record.__slots__}
    for name in ("redirect_uris", "post_logout_redirect_uris", "resources"):
        values[name] = dump_uris(values[name])
    values["scopes"] = join_scope(record.scopes)
    return values


def sso_session_from(row: Mapping[Any, Any]) -> SsoSessionRecord:
    """A browser's SSO session (its ``amr`` stored space-separated)."""
    return SsoSessionRecord(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        amr=split_words(row["amr"]),
        authenticated_at=row["authenticated_at"],
        expires_at=row["expires_at"],
        sid=row["sid"],
        device=row["device"],
        ip_area=row["ip_area"],
        last_used_at=row["last_used_at"],
    )


def audit_event_from(row: Mapping[Any, Any]) -> AuditEvent:
    """One stored line of the audit log."""
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        event=row["event"],
        user_id=row["user_id"],
        client_id=row["client_id"],
        actor_id=row["actor_id"],
        ip=row["ip"],
        detail=row["detail"],
    )
