"""Initial schema: users, identities, nonces, single-use keys, sessions, tokens, keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: later changes to schema.py must not rewrite history.
ID = sa.String(length=36)
WHEN = sa.DateTime(timezone=True)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _index(table: str, column: str) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    """Create every table of keyfob 0.1."""
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_login", WHEN, nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("roles", sa.String(length=255), nullable=False),
        _pk("users", "id"),
    )
    op.create_table(
        "identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
        _fk("identities", "user_id", "users"),
        _pk("identities", "id"),
        sa.UniqueConstraint("kind", "address", name="uq_identities_kind_address"),
    )
    _index("identities", "user_id")
    op.create_table(
        "nonces",
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _pk("nonces", "nonce"),
    )
    _index("nonces", "expires_at")
    op.create_table(
        "used_tokens",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _pk("used_tokens", "key"),
    )
    _index("used_tokens", "expires_at")
    op.create_table(
        "sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("identity_id", ID, nullable=False),
        sa.Column("amr", sa.String(length=255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        _fk("sessions", "identity_id", "identities"),
        _fk("sessions", "user_id", "users"),
        _pk("sessions", "id"),
    )
    _index("sessions", "identity_id")
    _index("sessions", "user_id")
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("parent_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("rotated_at", WHEN, nullable=True),
        sa.Column("replaced_by", sa.String(length=128), nullable=True),
        _fk("refresh_tokens", "session_id", "sessions"),
        _pk("refresh_tokens", "token_hash"),
    )
    _index("refresh_tokens", "expires_at")
    _index("refresh_tokens", "session_id")
    op.create_table(
        "denied_tokens",
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _pk("denied_tokens", "jti"),
    )
    _index("denied_tokens", "expires_at")
    op.create_table(
        "session_keys",
        sa.Column("thumbprint", sa.String(length=128), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("jwk", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("last_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        _fk("session_keys", "session_id", "sessions"),
        _fk("session_keys", "user_id", "users"),
        _pk("session_keys", "thumbprint"),
    )
    _index("session_keys", "expires_at")
    _index("session_keys", "session_id")
    _index("session_keys", "user_id")
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=128), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("retired_at", WHEN, nullable=True),
        _pk("signing_keys", "kid"),
    )


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in (
        "signing_keys",
        "session_keys",
        "denied_tokens",
        "refresh_tokens",
        "sessions",
        "used_tokens",
        "nonces",
        "identities",
        "users",
    ):
        op.drop_table(table)
