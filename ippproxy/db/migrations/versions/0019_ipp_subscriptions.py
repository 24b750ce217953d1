"""IPP event subscriptions in the database (RFC 3995, RFC 3996 ippget): every node (process)
serving the same database sees every subscription and the same numbered events, whichever
node a client's Create-Printer-Subscriptions, Get-Notifications or job went to
(ippproxy/jobs/models.py: IppSubscription, IppEvent; ippproxy/jobs/subscriptions.py).

Revision ID: 0019_ipp_subscriptions
Revises: 0018_owner_index
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them). Subscriptions held in memory before are
gone after the upgrade, as after any restart (RFC 3995 lets a Printer lose them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_ipp_subscriptions"
down_revision = "0018_owner_index"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ipp_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String(127), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("lease", sa.Integer, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("user_data", sa.LargeBinary, nullable=True),
        sa.Column("time_interval", sa.Integer, nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("renewed", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ipp_subscriptions"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "ipp_events",
        sa.Column("subscription_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("sequence", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(127), nullable=False),
        sa.Column("time", UTC, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("job_state", sa.Integer, nullable=True),
        sa.Column("job_reasons", sa.Text, nullable=False),
        sa.Column("origin", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "sequence", name="pk_ipp_events"),
        sa.UniqueConstraint("subscription_id", "origin", name="uq_ipp_events_origin"),
    )
    op.create_index("ix_ipp_events_time", "ipp_events", ["time"])


def downgrade() -> None:
    op.drop_index("ix_ipp_events_time", "ipp_events")
    op.drop_table("ipp_events")
    op.drop_table("ipp_subscriptions")
