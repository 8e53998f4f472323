"""service: API keys (hashed) and the append-only search audit table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 11:10:00

The ``search_audit`` table refuses UPDATE and DELETE by triggers on SQLite and PostgreSQL (the
repository refuses them too: :mod:`registry_link.db.access`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_REFUSE = "search_audit is append-only: its rows are never updated nor deleted"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_partner"), ["partner"], unique=False)

    op.create_table(
        "search_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("reference_id", sa.String(length=200), nullable=True),
        sa.Column("query_type", sa.String(length=32), nullable=False),
        sa.Column("criteria_fields", sa.JSON(), nullable=False),
        sa.Column("criteria_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("person_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("search_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_audit_at"), ["at"], unique=False)
        batch_op.create_index("ix_search_audit_partner", ["partner", "at"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER search_audit_no_{verb.lower()} BEFORE {verb} ON search_audit "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION search_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER search_audit_append_only BEFORE UPDATE OR DELETE ON search_audit "
            "FOR EACH ROW EXECUTE FUNCTION search_audit_refuse()"
        )


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_audit_append_only ON search_audit")
        op.execute("DROP FUNCTION IF EXISTS search_audit_refuse()")
    with op.batch_alter_table("search_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_search_audit_partner")
        batch_op.drop_index(batch_op.f("ix_search_audit_at"))
    op.drop_table("search_audit")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_partner"))
    op.drop_table("api_keys")
