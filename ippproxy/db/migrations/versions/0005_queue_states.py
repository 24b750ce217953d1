"""Queue states: paused and accepting, shared by every node (ippproxy/jobs/models.py).

Revision ID: 0005_queue_states
Revises: 0004_claim_index
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_queue_states"
down_revision = "0004_claim_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_states",
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_queue_states"),
    )


def downgrade() -> None:
    op.drop_table("queue_states")
