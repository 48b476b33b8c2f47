"""keyfob's tables, as SQLAlchemy Core metadata (the migrations must produce exactly this).

Every timestamp is a :class:`UTCDateTime`: aware UTC in, aware UTC out, on SQLite too.

Passkeys (next milestone) slot in as identities of kind ``"passkey"`` whose ``address`` is the
base64url credential id, plus a ``credentials`` table keyed by identity id for the COSE key,
sign count and transports; nothing here needs to change for that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``TIMESTAMP WITH TIME ZONE`` that only accepts and only returns aware UTC datetimes.

    SQLite has no time zones, so there the value is stored as naive UTC text (fixed width, so
    comparisons in SQL stay correct) and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; refuse naive datetimes, which are always a bug in the caller."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError("keyfob stores aware datetimes only; got a naive one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the driver handed back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def _id(name: str = "id") -> Column[str]:
    return Column(name, String(36), primary_key=True)


def _when(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


users = Table(
    "users",
    metadata,
    _id(),
    _when("created_at"),
    _when("last_login", nullable=True),
    Column("disabled", Boolean(), nullable=False, server_default=false()),
    Column("roles", String(255), nullable=False),  # space-separated words
)

identities = Table(
    "identities",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("address", String(255), nullable=False),
    Column("public_key", LargeBinary(), nullable=True),
    _when("created_at"),
    _when("last_used_at", nullable=True),
    UniqueConstraint("kind", "address"),
    Index(None, "user_id"),
)

nonces = Table(
    "nonces",
    metadata,
    Column("nonce", String(128), primary_key=True),
    Column("chain", String(32), nullable=False),
    Column("address", String(255), nullable=True),
    _when("issued_at"),
    _when("expires_at"),
    Index(None, "expires_at"),
)

used_tokens = Table(
    "used_tokens",
    metadata,
    Column("key", String(255), primary_key=True),
    _when("expires_at"),
    Index(None, "expires_at"),
)

sessions = Table(
    "sessions",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("identity_id", ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("amr", String(255), nullable=False),  # space-separated
    _when("created_at"),
    _when("revoked_at", nullable=True),
    Index(None, "user_id"),
    Index(None, "identity_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("parent_hash", String(128), nullable=True),
    _when("created_at"),
    _when("expires_at"),
    _when("rotated_at", nullable=True),
    Column("replaced_by", String(128), nullable=True),
    Index(None, "session_id"),
    Index(None, "expires_at"),
)

denied_tokens = Table(
    "denied_tokens",
    metadata,
    Column("jti", String(255), primary_key=True),
    _when("expires_at"),
    Index(None, "expires_at"),
)

session_keys = Table(
    "session_keys",
    metadata,
    Column("thumbprint", String(128), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("jwk", Text(), nullable=False),
    _when("created_at"),
    _when("expires_at"),
    Column("last_timestamp_ms", BigInteger(), nullable=False),
    _when("revoked_at", nullable=True),
    Index(None, "user_id"),
    Index(None, "session_id"),
    Index(None, "expires_at"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(128), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("sealed_private_key", LargeBinary(), nullable=False),
    Column("public_jwk", Text(), nullable=False),
    _when("created_at"),
    _when("retired_at", nullable=True),
)
