"""Spool copies: the bytes of small documents, committed with their job.

Revision ID: 0003_spool_copies
Revises: 0002_accounting
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_spool_copies"
down_revision = "0002_accounting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spool_copies",
        sa.Column("spool_name", sa.String(64), nullable=False),
        sa.Column("job_uuid", sa.String(36), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("spool_name", name="pk_spool_copies"),
    )
    op.create_index("ix_spool_copies_job_uuid", "spool_copies", ["job_uuid"])


def downgrade() -> None:
    op.drop_index("ix_spool_copies_job_uuid", table_name="spool_copies")
    op.drop_table("spool_copies")
