"""``ix_jobs_owner_completed`` holds ended jobs only (``WHERE completed_at IS NOT NULL``,
ippproxy/jobs/models.py), as ix_jobs_report since 0021: a new job no longer writes a page
of its owner's into it at intake. A user's history and pagometer ask for completion
times; a job that has not ended is found by its owner through ix_jobs_owner_lower
(``models.owner_is``).

Revision ID: 0022_owner_completed
Revises: 0021_report_index
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_owner_completed"
down_revision = "0021_report_index"
branch_labels = None
depends_on = None

_ENDED = sa.text("completed_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_jobs_owner_completed", table_name="jobs")
    op.create_index("ix_jobs_owner_completed", "jobs", ["owner", "completed_at"],
                    sqlite_where=_ENDED, postgresql_where=_ENDED)


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_completed", table_name="jobs")
    op.create_index("ix_jobs_owner_completed", "jobs", ["owner", "completed_at"])
