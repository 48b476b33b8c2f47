"""Clients may require a ``state`` on their hosted sign-in and registration requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``clients.require_state`` (false for existing clients: seed 003 made it optional)."""
    op.add_column(
        "clients",
        sa.Column("require_state", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Drop the column again (ALTER TABLE ... DROP COLUMN, SQLite 3.35+: a batch copy of
    clients would cascade into client_permissions when SQLite drops the old table)."""
    op.drop_column("clients", "require_state")
