"""Rows to records (and back) for the OpenID Connect tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyfob.store.records_oidc import ConsentRecord, OidcCodeRecord, OidcGrantRecord
from keyfob.store.rows import join_words, split_words
from keyfob.store.rows_admin import join_scope


def code_values(record: OidcCodeRecord) -> dict[str, Any]:
    """The row of an authorization code; :class:`InvalidRequest` for a scope value that is
    not one word."""
    values = {name: getattr(record, name) for name in record.__slots__}
    values["scope"] = join_scope(record.scope)
    values["amr"] = join_words(record.amr)
    return values


def code_from(row: Mapping[Any, Any]) -> OidcCodeRecord:
    """An authorization code."""
    return OidcCodeRecord(
        code_hash=row["code_hash"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        redirect_uri=row["redirect_uri"],
        scope=split_words(row["scope"]),
        nonce=row["nonce"],
        code_challenge=row["code_challenge"],
        resource=row["resource"],
        sid=row["sid"],
        auth_time=row["auth_time"],
        amr=split_words(row["amr"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        grant_id=row["grant_id"],
        reused_at=row["reused_at"],
    )


def grant_values(record: OidcGrantRecord) -> dict[str, Any]:
    """The row of a grant; :class:`InvalidRequest` for a scope value that is not one word."""
    values = {name: getattr(record, name) for name in record.__slots__}
    values["scope"] = join_scope(record.scope)
    values["amr"] = join_words(record.amr)
    return values


def grant_from(row: Mapping[Any, Any]) -> OidcGrantRecord:
    """A grant (its ``scope`` and ``amr`` stored space-separated)."""
    return OidcGrantRecord(
        id=row["id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        sid=row["sid"],
        scope=split_words(row["scope"]),
        resource=row["resource"],
        auth_time=row["auth_time"],
        amr=split_words(row["amr"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def consent_from(row: Mapping[Any, Any]) -> ConsentRecord:
    """A user's consent to a client."""
    return ConsentRecord(
        user_id=row["user_id"],
        client_id=row["client_id"],
        scopes=frozenset(split_words(row["scope"])),
        granted_at=row["granted_at"],
    )
