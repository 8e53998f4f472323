"""service: batch jobs kept in the database; callback URI prefixes of API keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 14:10:00

``service_jobs`` holds the state of the service's batch jobs (a restart loses no finished
job); ``api_keys.callback_prefixes`` the URI prefixes an asynchronous search of the key may be
answered to (existing keys: none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("callback_prefixes", sa.JSON(), nullable=False, server_default="[]")
        )
    op.create_table(
        "service_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("stages_done", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_service_jobs_key", ["key_id", "created_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("service_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_service_jobs_key")
    op.drop_table("service_jobs")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("callback_prefixes")
