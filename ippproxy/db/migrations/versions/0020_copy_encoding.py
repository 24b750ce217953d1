"""A small document's copy in the job store may be compressed (``spool_copies.encoding``:
"zlib", or NULL for the bytes as received; ippproxy/jobs/_copies.py). Copies stored before
are the bytes as received.

Revision ID: 0020_copy_encoding
Revises: 0019_ipp_subscriptions
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/jobs/models.py
(tests/jobs/test_jobs_store.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_copy_encoding"
down_revision = "0019_ipp_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN, not a batch copy of the table.
    op.add_column("spool_copies", sa.Column("encoding", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("spool_copies", "encoding")
