"""Job store: queues, jobs, documents.

Revision ID: 0001_jobs
Revises:
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_models.py compares the two).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_jobs"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("next_job_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_queues"),
    )
    op.create_table(
        "jobs",
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("queue", sa.String(127), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("state_reasons", sa.JSON(), nullable=False),
        sa.Column("state_message", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("originating_host", sa.String(255), nullable=True),
        sa.Column("attributes", sa.LargeBinary(), nullable=False),
        sa.Column("document_format", sa.String(255), nullable=True),
        sa.Column("hold_until", sa.String(64), nullable=True),
        _ts("hold_until_time"),
        sa.Column("priority", sa.Integer(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("processing_at"),
        _ts("completed_at"),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("destination_uri", sa.String(1023), nullable=True),
        sa.Column("remote_job_id", sa.Integer(), nullable=True),
        sa.Column("forward_attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("forward_started", sa.Boolean(), nullable=False),
        sa.Column("impressions_completed", sa.Integer(), nullable=True),
        sa.Column("media_sheets_completed", sa.Integer(), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("node", sa.String(64), nullable=True),
        _ts("lease_until"),
        sa.PrimaryKeyConstraint("uuid", name="pk_jobs"),
        sa.ForeignKeyConstraint(["queue"], ["queues.name"], name="fk_jobs_queue_queues"),
        sa.UniqueConstraint("queue", "job_id", name="uq_jobs_queue_job_id"),
    )
    op.create_index("ix_jobs_queue_state", "jobs", ["queue", "state", "job_id"])
    op.create_index("ix_jobs_state_next_attempt", "jobs", ["state", "next_attempt_at"])
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
    op.create_index("ix_jobs_completed_at", "jobs", ["completed_at"])
    op.create_table(
        "documents",
        sa.Column("job_uuid", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("format", sa.String(255), nullable=True),
        sa.Column("spool_name", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("compression", sa.String(16), nullable=True),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("job_uuid", "number", name="pk_documents"),
        sa.ForeignKeyConstraint(
            ["job_uuid"], ["jobs.uuid"], name="fk_documents_job_uuid_jobs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("spool_name", name="uq_documents_spool_name"),
    )


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_index("ix_jobs_completed_at", table_name="jobs")
    op.drop_index("ix_jobs_owner", table_name="jobs")
    op.drop_index("ix_jobs_state_next_attempt", table_name="jobs")
    op.drop_index("ix_jobs_queue_state", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("queues")
