"""The user list (issue 18): pagometer resets, and the indexes the list's filters and sorts
read (live users by name and by email, with their ids; a user's groups) (ippproxy/accounting/models.py, ippproxy/accounting/userlist.py).

Revision ID: 0014_user_list
Revises: 0011_users
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/accounting/models.py
(tests/accounting/test_acct_models.py compares them). A reset of every pagometer is one row
(who, when); a user's pagometer counts from the latest reset or the user's creation,
whichever is later (SavaPage §4.4.1 "Reset Pagometers").
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_user_list"
down_revision = "0013_user_edit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acct_pagometer_resets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False))
    op.create_index("ix_acct_users_email", "acct_users", [sa.text("coalesce(email, '')"), "id"],
                    sqlite_where=sa.text("deleted_at IS NULL"),
                    postgresql_where=sa.text("deleted_at IS NULL"))
    op.create_index("ix_acct_memberships_user", "acct_memberships", ["user_id"])
    op.create_index("ix_acct_users_live_name", "acct_users", ["username", "id", "email"],
                    sqlite_where=sa.text("deleted_at IS NULL"),
                    postgresql_where=sa.text("deleted_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_acct_users_live_name", "acct_users")
    op.drop_index("ix_acct_memberships_user", "acct_memberships")
    op.drop_index("ix_acct_users_email", "acct_users")
    op.drop_table("acct_pagometer_resets")
