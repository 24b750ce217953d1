"""Drop ``ix_jobs_owner``: ``ix_jobs_owner_completed`` (0009, owner then completed_at)
serves every query it served, since both B-trees are ordered by owner first, and each
new, purged or re-owned job wrote it for nothing (tests/db/test_indexes.py).

Revision ID: 0018_owner_index
Revises: 0017_peer_address
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

from alembic import op

revision = "0018_owner_index"
down_revision = "0017_peer_address"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_jobs_owner", table_name="jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
