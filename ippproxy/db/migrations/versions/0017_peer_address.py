"""The network address a job came from (issue 17 point 1): on an ``authentication =
"popup"`` queue the popup of a job sent without credentials goes to the user clients
connected from that address (ippproxy/jobs/models.py: jobs.peer_address), and a client
connecting from there finds the held jobs by it (a partial index: held jobs only).

Revision ID: 0017_peer_address
Revises: 0016_desktop_login
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them). Jobs stored before have no address.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_peer_address"
down_revision = "0016_desktop_login"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as b:
        b.add_column(sa.Column("peer_address", sa.String(64), nullable=True))
    op.create_index("ix_jobs_held_peer", "jobs", ["peer_address"],
                    sqlite_where=sa.text("state = 4"), postgresql_where=sa.text("state = 4"))


def downgrade() -> None:
    op.drop_index("ix_jobs_held_peer", "jobs")
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not a batch copy of the table:
    # the copy would lose the expression index ix_jobs_owner_lower (0012_user_app).
    op.drop_column("jobs", "peer_address")
