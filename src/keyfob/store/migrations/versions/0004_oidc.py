"""OpenID Connect: client settings, the SSO session's ``sid``, codes, grants, refresh tokens
and consents.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: later changes to schema.py must not rewrite history.
ID = sa.String(length=36)
WHEN = sa.DateTime(timezone=True)
HASH = sa.String(length=128)

# Every new column of clients has a default (or is nullable): existing clients keep working,
# as confidential clients with the settings keyfob had before OpenID Connect.
_CLIENT_COLUMNS = (
    ("client_type", sa.String(length=16), "confidential"),
    ("token_endpoint_auth_method", sa.String(length=32), "client_secret_basic"),
    ("post_logout_redirect_uris", sa.Text(), "[]"),
    ("scopes", sa.String(length=255), "openid profile"),
    ("subject_type", sa.String(length=16), "public"),
    ("sector_identifier", sa.String(length=255), None),
    ("id_token_alg", sa.String(length=16), "RS256"),
    ("backchannel_logout_uri", sa.String(length=2048), None),
    ("first_party", sa.Boolean(), sa.false()),
    ("issue_refresh_tokens", sa.Boolean(), sa.false()),
    ("jwks", sa.Text(), None),
    ("resources", sa.Text(), "[]"),
    ("synthetic_email", sa.Boolean(), sa.false()),
    ("refresh_lifetime_minutes", sa.Integer(), None),
)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _index(table: str, column: str, *, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def upgrade() -> None:
    """Add the OIDC columns of clients and SSO sessions and the four OIDC tables."""
    for name, kind, default in _CLIENT_COLUMNS:
        added = sa.Column(name, kind, server_default=default, nullable=default is None)
        op.add_column("clients", added)
    op.add_column("sso_sessions", sa.Column("sid", sa.String(length=64), nullable=True))
    _index("sso_sessions", "sid", unique=True)
    op.create_table(
        "oidc_codes",
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("nonce", sa.String(length=512), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("resource", sa.String(length=2048), nullable=True),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("auth_time", WHEN, nullable=False),
        sa.Column("amr", sa.String(length=255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("reused_at", WHEN, nullable=True),
        sa.Column("grant_id", ID, nullable=True),
        _fk("oidc_codes", "client_id", "clients"),
        _fk("oidc_codes", "user_id", "users"),
        _pk("oidc_codes", "code_hash"),
    )
    for column in ("client_id", "user_id", "expires_at"):
        _index("oidc_codes", column)
    op.create_table(
        "oidc_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=2048), nullable=True),
        sa.Column("auth_time", WHEN, nullable=False),
        sa.Column("amr", sa.String(length=255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        _fk("oidc_grants", "client_id", "clients"),
        _fk("oidc_grants", "user_id", "users"),
        _pk("oidc_grants", "id"),
    )
    for column in ("client_id", "user_id", "sid", "expires_at"):
        _index("oidc_grants", column)
    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("parent_hash", HASH, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("rotated_at", WHEN, nullable=True),
        sa.Column("replaced_by", HASH, nullable=True),
        _fk("oidc_refresh_tokens", "grant_id", "oidc_grants"),
        _pk("oidc_refresh_tokens", "token_hash"),
    )
    _index("oidc_refresh_tokens", "grant_id")
    _index("oidc_refresh_tokens", "expires_at")
    op.create_table(
        "oidc_consents",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("granted_at", WHEN, nullable=False),
        _fk("oidc_consents", "client_id", "clients"),
        _fk("oidc_consents", "user_id", "users"),
        _pk("oidc_consents", "user_id", "client_id"),
    )
    _index("oidc_consents", "client_id")


def downgrade() -> None:
    """Drop what upgrade added (children first)."""
    for table in ("oidc_consents", "oidc_refresh_tokens", "oidc_grants", "oidc_codes"):
        op.drop_table(table)
    op.drop_index("ix_sso_sessions_sid", table_name="sso_sessions")
    # ALTER TABLE ... DROP COLUMN on SQLite too (3.35+): a batch copy would drop and recreate
    # clients, and with foreign keys on that DROP TABLE cascades into client_permissions.
    op.drop_column("sso_sessions", "sid")
    for name, _, _ in reversed(_CLIENT_COLUMNS):
        op.drop_column("clients", name)
