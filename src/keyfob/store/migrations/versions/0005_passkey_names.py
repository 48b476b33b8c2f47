"""A passkey's name, given by its holder on the account page.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``passkeys.name`` (none for existing passkeys: the page calls them "Passkey")."""
    op.add_column("passkeys", sa.Column("name", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the column again (ALTER TABLE ... DROP COLUMN, as 0003 does)."""
    op.drop_column("passkeys", "name")
