"""User roles, tri-state per user, per group and per built-in group
(ippproxy/accounting/models.py, ippproxy/accounting/roles.py; issue 18), and the user
profile (ID number, source of a directory-synced user).

Revision ID: 0011_users
Revises: 0009_admin_reports
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/accounting/models.py
(tests/accounting/test_acct_models.py compares them). The role states live in their own
tables (no new columns on acct_users, which the user-side migration 0010_user_side extends).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_users"
down_revision = "0010_user_side"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acct_user_roles",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("acct_users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False))
    op.create_table(
        "acct_group_roles",
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("acct_groups.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False))
    op.create_table(
        "acct_builtin_roles",
        sa.Column("builtin", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False))
    op.create_table(
        "acct_user_profile",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("acct_users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("id_number", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False))


def downgrade() -> None:
    op.drop_table("acct_user_profile")
    op.drop_table("acct_builtin_roles")
    op.drop_table("acct_group_roles")
    op.drop_table("acct_user_roles")
