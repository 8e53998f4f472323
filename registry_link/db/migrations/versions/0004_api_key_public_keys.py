"""api keys: the partner's public key, for signed requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:20:00

``api_keys.public_key`` holds a partner's Ed25519 public key (raw, base64); a key with one has
its DCI envelopes' signatures verified (existing keys: none, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("public_key")
