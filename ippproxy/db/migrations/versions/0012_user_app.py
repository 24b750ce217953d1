"""The user web app (issue 17 §8): the TOTP second factor of a user's sign-in (RFC 6238):
one row per principal, its secret (pending until confirmed with a code) and the last
time step used, so a code is accepted once; and an index for a user's own jobs, newest
first (jobs/search.py compares lower(owner)).

Revision ID: 0012_user_app
Revises: 0011_users
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/services/authmodels.py
(tests/services/test_admin_auth.py compares the auth_ tables).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_user_app"
down_revision = "0011_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_totp",
        sa.Column("principal", sa.String(255), primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True))
    # An expression index: SQLite 3.9+ and PostgreSQL both take it.
    op.create_index("ix_jobs_owner_lower", "jobs", [sa.text("lower(owner)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_lower", table_name="jobs")
    op.drop_table("auth_totp")
