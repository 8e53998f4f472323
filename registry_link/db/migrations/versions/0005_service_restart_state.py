"""service: registry updates and accepted signatures kept across a restart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 07:00:00

``registry_updates`` holds each registry update made through the service (persons added or
replaced, records removed), with the SHA-256 of the registry extract it was made on: a service
restarted on the same extract replays them in order (before, a restart lost them).
``seen_signatures`` holds the signed envelopes accepted and not yet expired (a copy sent again
after a restart is refused, as before one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "registry_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("registry_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("persons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_updates_registry_sha256"), ["registry_sha256"], unique=False
        )
    op.create_table(
        "seen_signatures",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "fingerprint"),
    )
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_signatures_expires"), ["expires"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_signatures_expires"))
    op.drop_table("seen_signatures")
    with op.batch_alter_table("registry_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_updates_registry_sha256"))
    op.drop_table("registry_updates")
