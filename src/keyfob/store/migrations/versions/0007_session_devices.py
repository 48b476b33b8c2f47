"""Where each session was seen: its device and browser, its network, when it was last used.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: later changes to schema.py must not rewrite history.
_COLUMNS = (
    ("device", sa.String(length=128)),  # a short summary of the User-Agent, never the header
    ("ip_area", sa.String(length=64)),  # the client's IPv4 /24 or IPv6 /48, never its address
    ("last_used_at", sa.DateTime(timezone=True)),
)
_TABLES = ("sessions", "sso_sessions")


def upgrade() -> None:
    """Add the three nullable columns to the API sessions and the SSO sessions (existing
    sessions show an unknown device and area until their next use)."""
    for table in _TABLES:
        for name, kind in _COLUMNS:
            op.add_column(table, sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Drop them again (ALTER TABLE ... DROP COLUMN, SQLite 3.35+: a batch copy of sessions
    would cascade into refresh_tokens and session_keys when SQLite drops the old table)."""
    for table in reversed(_TABLES):
        for name, _ in reversed(_COLUMNS):
            op.drop_column(table, name)
