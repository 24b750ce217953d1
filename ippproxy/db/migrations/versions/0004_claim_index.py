"""The forwarder's claim index: pending jobs in claim order (ippproxy/jobs/models.py).

Revision ID: 0004_claim_index
Revises: 0003_spool_copies
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_claim_index"
down_revision = "0003_spool_copies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_claim", "jobs", [
        "state", sa.text("priority DESC"), "created_at", "job_id", "queue", "closed",
        "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_claim", table_name="jobs")
