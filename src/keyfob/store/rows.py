"""Rows to records: the only place that knows how columns map onto :mod:`keyfob.store.records`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from keyfob.store.fastsql import RowLike
from keyfob.store.records import (
    IdentityRecord,
    NonceRecord,
    SessionKeyRecord,
    SessionRecord,
    SigningKeyRecord,
    UserRecord,
)

#: Column-label prefix for identity columns selected next to user columns.
IDENTITY_PREFIX = "i_"


def join_words(values: Iterable[str]) -> str:
    """Store a tuple of words (roles, amr values) as one space-separated string."""
    return " ".join(values)


def split_words(text: str) -> tuple[str, ...]:
    """Inverse of :func:`join_words`."""
    return tuple(text.split())


def identity_from(row: Mapping[Any, Any], prefix: str = "") -> IdentityRecord:
    """An identity from its columns, optionally labelled with ``prefix``."""
    return IdentityRecord(
        id=row[prefix + "id"],
        user_id=row[prefix + "user_id"],
        kind=row[prefix + "kind"],
        address=row[prefix + "address"],
        public_key=row[prefix + "public_key"],
        created_at=row[prefix + "created_at"],
        last_used_at=row[prefix + "last_used_at"],
    )


def user_from(row: Mapping[Any, Any], identities: Iterable[IdentityRecord]) -> UserRecord:
    """A user from its columns and its identities (ordered oldest first)."""
    return UserRecord(
        id=row["id"],
        created_at=row["created_at"],
        last_login=row["last_login"],
        disabled=bool(row["disabled"]),
        roles=split_words(row["roles"]),
        identities=tuple(sorted(identities, key=lambda i: (i.created_at, i.id))),
        username=row["username"],
    )


def user_from_joined(rows: Sequence[RowLike]) -> UserRecord | None:
    """A user from the rows of ``users LEFT JOIN identities`` (identity columns prefixed)."""
    if not rows:
        return None
    mappings = [row._mapping for row in rows]
    found = [identity_from(m, IDENTITY_PREFIX) for m in mappings if m[IDENTITY_PREFIX + "id"]]
    return user_from(mappings[0], found)


def nonce_from(row: Mapping[Any, Any]) -> NonceRecord:
    """A stored nonce."""
    return NonceRecord(
        nonce=row["nonce"],
        chain=row["chain"],
        address=row["address"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
    )


def session_from(row: Mapping[Any, Any]) -> SessionRecord:
    """A session (its ``amr`` stored space-separated)."""
    return SessionRecord(
        id=row["id"],
        user_id=row["user_id"],
        identity_id=row["identity_id"],
        amr=split_words(row["amr"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        device=row["device"],
        ip_area=row["ip_area"],
        last_used_at=row["last_used_at"],
    )


def session_key_from(row: Mapping[Any, Any]) -> SessionKeyRecord:
    """An app session key."""
    return SessionKeyRecord(
        thumbprint=row["thumbprint"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        jwk=row["jwk"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_timestamp_ms=row["last_timestamp_ms"],
        revoked_at=row["revoked_at"],
    )


def signing_key_from(row: Mapping[Any, Any]) -> SigningKeyRecord:
    """A token-signing key (private part still sealed)."""
    return SigningKeyRecord(
        kid=row["kid"],
        alg=row["alg"],
        sealed_private_key=bytes(row["sealed_private_key"]),
        public_jwk=row["public_jwk"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )
