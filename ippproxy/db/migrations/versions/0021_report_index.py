"""The report index holds ended jobs only (``ix_jobs_report ... WHERE completed_at IS NOT
NULL``, ippproxy/jobs/models.py): a job enters it once, when it ends, instead of at intake
in its owner's part of the pending range and again at each change of state. Every report
reads a range of completion times, which implies the condition.

Revision ID: 0021_report_index
Revises: 0020_copy_encoding
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_report_index"
down_revision = "0020_copy_encoding"
branch_labels = None
depends_on = None

_COLUMNS = ["state", "completed_at", "queue", "owner", "impressions", "impressions_col",
            "impressions_completed"]
_ENDED = sa.text("completed_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_jobs_report", table_name="jobs")
    op.create_index("ix_jobs_report", "jobs", _COLUMNS, sqlite_where=_ENDED,
                    postgresql_where=_ENDED)


def downgrade() -> None:
    op.drop_index("ix_jobs_report", table_name="jobs")
    op.create_index("ix_jobs_report", "jobs", _COLUMNS)
