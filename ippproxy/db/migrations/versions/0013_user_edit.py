"""The edit-user fields (issue 18): a user's PIN (hashed), UUID token, person or abstract,
credit limit source and erasure time on acct_user_profile, and a user's e-mail addresses
(ippproxy/accounting/models.py: UserProfile, UserEmail).

Revision ID: 0013_user_edit
Revises: 0011_users
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/accounting/models.py
(tests/accounting/test_acct_models.py compares them). Uniqueness of e-mail addresses and ID
numbers holds among live users (a deleted user's stay in its history), so it is checked by
accounting/userfields_store.py in the writing transaction, not by an index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_user_edit"
down_revision = "0012_user_app"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acct_user_profile") as b:
        b.add_column(sa.Column("pin_hash", sa.String(255), nullable=True))
        b.add_column(sa.Column("uuid_token", sa.String(36), nullable=True))
        b.add_column(sa.Column("abstract", sa.Boolean(), nullable=False,
                               server_default=sa.false()))
        b.add_column(sa.Column("credit_source", sa.String(16), nullable=False,
                               server_default="individual"))
        b.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "acct_user_emails",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("acct_users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("email", sa.String(255), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False))
    op.create_index("ix_acct_user_emails_email", "acct_user_emails", ["email"])


def downgrade() -> None:
    op.drop_index("ix_acct_user_emails_email", "acct_user_emails")
    op.drop_table("acct_user_emails")
    with op.batch_alter_table("acct_user_profile") as b:
        for c in ("erased_at", "credit_source", "abstract", "uuid_token", "pin_hash"):
            b.drop_column(c)
