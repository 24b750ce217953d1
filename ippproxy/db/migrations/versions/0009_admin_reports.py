"""Admin reports and live events: our own impression counts as columns, the report index
and the index of recent changes (ippproxy/jobs/models.py, ippproxy/jobs/reports.py).

Revision ID: 0009_admin_reports
Revises: 0008_charge_node
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them). Jobs stored before it have NULL counts:
the reports show their printed impressions (impressions_completed) when known.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_admin_reports"
down_revision = "0008_charge_node"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("impressions", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("impressions_col", sa.Integer(), nullable=True))
    op.create_index("ix_jobs_report", "jobs", ["state", "completed_at", "queue", "owner",
                                               "impressions", "impressions_col",
                                               "impressions_completed"])
    op.create_index("ix_jobs_queue_completed", "jobs", ["queue", "completed_at"])
    op.create_index("ix_jobs_owner_completed", "jobs", ["owner", "completed_at"])
    op.create_index("ix_jobs_updated_at", "jobs", ["updated_at", "uuid", "state"])


def downgrade() -> None:
    op.drop_index("ix_jobs_updated_at", table_name="jobs")
    op.drop_index("ix_jobs_owner_completed", table_name="jobs")
    op.drop_index("ix_jobs_queue_completed", table_name="jobs")
    op.drop_index("ix_jobs_report", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("impressions_col")
        batch.drop_column("impressions")
