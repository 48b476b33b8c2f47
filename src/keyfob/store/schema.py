"""keyfob's tables, as SQLAlchemy Core metadata (the migrations must produce exactly this).

Every timestamp is a :class:`UTCDateTime`: aware UTC in, aware UTC out, on SQLite too.

A passkey is an identity of kind ``"passkey"`` whose ``address`` is the base64url credential id
and whose ``public_key`` is the COSE key; its sign counter and transports live in ``passkeys``.
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
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
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
    Column("username", String(64), nullable=True),
    Index(None, "username", unique=True),
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
    # Where it was seen (migration 0007): a short device/browser summary, never the User-Agent
    # header itself; the client's network (IPv4 /24, IPv6 /48), never its address.
    Column("device", String(128), nullable=True),
    Column("ip_area", String(64), nullable=True),
    _when("last_used_at", nullable=True),
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

passkeys = Table(
    "passkeys",
    metadata,
    Column("identity_id", ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True),
    Column("sign_count", BigInteger(), nullable=False),
    Column("transports", String(255), nullable=False),  # space-separated
    Column("aaguid", String(36), nullable=False),
    Column("backed_up", Boolean(), nullable=False),
    Column("name", String(64), nullable=True),  # the holder's name for it (migration 0005)
)

# WebAuthn challenges and one-time links, consumed with one DELETE ... RETURNING.
passkey_challenges = Table(
    "passkey_challenges",
    metadata,
    Column("challenge", String(128), primary_key=True),
    Column("purpose", String(16), nullable=False),  # "register" | "login"
    Column("user_id", String(36), nullable=True),  # who registers, or who must sign in
    Column("username", String(64), nullable=True),
    Column("roles", String(255), nullable=False),  # granted to a user this registration creates
    _when("expires_at"),
    Index(None, "expires_at"),
)

clients = Table(
    "clients",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    Column("sealed_secret", LargeBinary(), nullable=False),
    Column("redirect_uris", Text(), nullable=False),  # JSON list
    Column("registration_enabled", Boolean(), nullable=False),
    Column("open_to_all", Boolean(), nullable=False),
    Column("token_lifetime_minutes", Integer(), nullable=False),
    Column("authorized_client_lifetime_minutes", Integer(), nullable=False),
    Column("token_delivery", String(16), nullable=False),  # "query" | "fragment" | "form_post"
    # A hosted request without a non-empty state is refused (login CSRF); migration 0003.
    Column("require_state", Boolean(), nullable=False, server_default=false()),
    _when("created_at"),
    _when("updated_at"),
    # OpenID Connect (migration 0004); the defaults keep existing clients as they were.
    Column("client_type", String(16), nullable=False, server_default="confidential"),
    Column(
        "token_endpoint_auth_method",
        String(32),
        nullable=False,
        server_default="client_secret_basic",
    ),
    Column("post_logout_redirect_uris", Text(), nullable=False, server_default="[]"),  # JSON
    Column("scopes", String(255), nullable=False, server_default="openid profile"),
    Column("subject_type", String(16), nullable=False, server_default="public"),
    Column("sector_identifier", String(255), nullable=True),  # host of pairwise subjects
    Column("id_token_alg", String(16), nullable=False, server_default="RS256"),
    Column("backchannel_logout_uri", String(2048), nullable=True),
    Column("first_party", Boolean(), nullable=False, server_default=false()),
    Column("issue_refresh_tokens", Boolean(), nullable=False, server_default=false()),
    Column("jwks", Text(), nullable=True),  # the client's public JWKS (private_key_jwt)
    Column("resources", Text(), nullable=False, server_default="[]"),  # JSON, RFC 8707
    Column("synthetic_email", Boolean(), nullable=False, server_default=false()),
    Column("refresh_lifetime_minutes", Integer(), nullable=True),  # None: the server's
    Column("logo_uri", String(2048), nullable=True),  # its hosted pages' logo (migration 0007)
)

client_permissions = Table(
    "client_permissions",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    _when("granted_at"),
    PrimaryKeyConstraint("user_id", "client_id"),
    Index(None, "client_id"),
)

sso_sessions = Table(
    "sso_sessions",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("amr", String(255), nullable=False),
    _when("authenticated_at"),
    _when("expires_at"),
    Column("sid", String(64), nullable=True),  # the public OIDC session id (migration 0004)
    Column("device", String(128), nullable=True),  # as sessions' (migration 0007)
    Column("ip_area", String(64), nullable=True),
    _when("last_used_at", nullable=True),
    Index(None, "user_id"),
    Index(None, "expires_at"),
    Index(None, "sid", unique=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    _when("at"),
    Column("event", String(64), nullable=False),
    Column("user_id", String(36), nullable=True),  # no foreign key: the log outlives users
    Column("client_id", String(36), nullable=True),
    Column("actor_id", String(36), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("detail", Text(), nullable=False),
    Index(None, "at"),
    Index(None, "event"),
    Index(None, "user_id"),
)

# Settings an admin changes at run time (default lifetimes of new clients).
admin_settings = Table(
    "admin_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text(), nullable=False),
)

# OpenID Connect (migration 0004). Codes, refresh tokens: SHA-256 hex of the secret, never it.
oidc_codes = Table(
    "oidc_codes",
    metadata,
    Column("code_hash", String(128), primary_key=True),
    Column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", String(2048), nullable=False),
    Column("scope", String(255), nullable=False),  # space-separated
    Column("nonce", String(512), nullable=True),
    Column("code_challenge", String(128), nullable=True),  # S256
    Column("resource", String(2048), nullable=True),
    Column("sid", String(64), nullable=True),
    _when("auth_time"),
    Column("amr", String(255), nullable=False),  # space-separated
    _when("created_at"),
    _when("expires_at"),
    _when("used_at", nullable=True),
    # A second exchange of a used code: no grant may start from it any more.
    _when("reused_at", nullable=True),
    Column("grant_id", String(36), nullable=True),  # no foreign key: the grant may go first
    Index(None, "client_id"),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

oidc_grants = Table(
    "oidc_grants",
    metadata,
    _id(),
    Column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("sid", String(64), nullable=True),
    Column("scope", String(255), nullable=False),  # space-separated
    Column("resource", String(2048), nullable=True),
    _when("auth_time"),
    Column("amr", String(255), nullable=False),  # space-separated
    _when("created_at"),
    _when("expires_at"),  # the absolute end of the grant and of all of its tokens
    _when("revoked_at", nullable=True),
    Index(None, "client_id"),
    Index(None, "user_id"),
    Index(None, "sid"),
    Index(None, "expires_at"),
)

oidc_refresh_tokens = Table(
    "oidc_refresh_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("grant_id", ForeignKey("oidc_grants.id", ondelete="CASCADE"), nullable=False),
    Column("parent_hash", String(128), nullable=True),
    _when("created_at"),
    _when("expires_at"),
    _when("rotated_at", nullable=True),
    Column("replaced_by", String(128), nullable=True),
    Index(None, "grant_id"),
    Index(None, "expires_at"),
)

oidc_consents = Table(
    "oidc_consents",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(255), nullable=False),  # the granted scopes, space-separated
    _when("granted_at"),
    PrimaryKeyConstraint("user_id", "client_id"),
    Index(None, "client_id"),
)

# Recovery codes (migration 0006): the HMAC of each code under a key derived from the server's
# secret (keyfob.core.recovery), never the code; a used code keeps its row, with used_at set.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("code_hash", String(128), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _when("created_at"),
    _when("used_at", nullable=True),
    Index(None, "user_id"),
)
