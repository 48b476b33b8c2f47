"""Passkeys, client apps, SSO sessions, the audit log and admin settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
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


def _index(table: str, column: str, *, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def upgrade() -> None:
    """Add usernames and the tables of passkeys, clients, SSO, audit and admin settings."""
    op.add_column("users", sa.Column("username", sa.String(length=64), nullable=True))
    _index("users", "username", unique=True)
    op.create_table(
        "passkeys",
        sa.Column("identity_id", ID, nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(length=255), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        _fk("passkeys", "identity_id", "identities"),
        _pk("passkeys", "identity_id"),
    )
    op.create_table(
        "passkey_challenges",
        sa.Column("challenge", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("roles", sa.String(length=255), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _pk("passkey_challenges", "challenge"),
    )
    _index("passkey_challenges", "expires_at")
    op.create_table(
        "clients",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("registration_enabled", sa.Boolean(), nullable=False),
        sa.Column("open_to_all", sa.Boolean(), nullable=False),
        sa.Column("token_lifetime_minutes", sa.Integer(), nullable=False),
        sa.Column("authorized_client_lifetime_minutes", sa.Integer(), nullable=False),
        sa.Column("token_delivery", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _pk("clients", "id"),
    )
    op.create_table(
        "client_permissions",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("granted_at", WHEN, nullable=False),
        _fk("client_permissions", "client_id", "clients"),
        _fk("client_permissions", "user_id", "users"),
        _pk("client_permissions", "user_id", "client_id"),
    )
    _index("client_permissions", "client_id")
    op.create_table(
        "sso_sessions",
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("amr", sa.String(length=255), nullable=False),
        sa.Column("authenticated_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _fk("sso_sessions", "user_id", "users"),
        _pk("sso_sessions", "token_hash"),
    )
    _index("sso_sessions", "expires_at")
    _index("sso_sessions", "user_id")
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("client_id", sa.String(length=36), nullable=True),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        _pk("audit_events", "id"),
    )
    _index("audit_events", "at")
    _index("audit_events", "event")
    _index("audit_events", "user_id")
    op.create_table(
        "admin_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _pk("admin_settings", "key"),
    )


def downgrade() -> None:
    """Drop what upgrade added (children first)."""
    for table in (
        "admin_settings",
        "audit_events",
        "sso_sessions",
        "client_permissions",
        "clients",
        "passkey_challenges",
        "passkeys",
    ):
        op.drop_table(table)
    op.drop_index("ix_users_username", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("username")
