"""Clients may have a logo, shown on their hosted sign-in, registration and consent pages.

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``clients.logo_uri`` (NULL for existing clients: no logo, as before)."""
    op.add_column("clients", sa.Column("logo_uri", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    """Drop the column again (ALTER TABLE ... DROP COLUMN, SQLite 3.35+: a batch copy of
    clients would cascade into client_permissions when SQLite drops the old table)."""
    op.drop_column("clients", "logo_uri")
