"""The two other indexes on the completion time hold ended jobs only
(``ix_jobs_completed_at`` and ``ix_jobs_queue_completed ... WHERE completed_at IS NOT
NULL``, ippproxy/jobs/models.py), as ix_jobs_report and ix_jobs_owner_completed since 0021
and 0022: a new job writes no entry into them, and a job's entry is written once, when it
ends. Their readers (the job history, the purge's cut-off, the reports) ask for a range of
completion times; a queue's other jobs are found through ix_jobs_queue_state.

Revision ID: 0023_completion_indexes
Revises: 0022_owner_completed
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_completion_indexes"
down_revision = "0022_owner_completed"
branch_labels = None
depends_on = None

_ENDED = sa.text("completed_at IS NOT NULL")
_INDEXES = {"ix_jobs_completed_at": ["completed_at"],
            "ix_jobs_queue_completed": ["queue", "completed_at"]}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", columns, sqlite_where=_ENDED, postgresql_where=_ENDED)


def downgrade() -> None:
    for name, columns in _INDEXES.items():
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", columns)
