"""Accounting: users, groups, memberships, accounts, access, ledger, job charges.

Revision ID: 0002_accounting
Revises: 0001_jobs
Hand-written; portable to SQLite and PostgreSQL. Must match
ippproxy/accounting/models.py (tests/accounting/test_acct_models.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_accounting"
down_revision = "0001_jobs"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "acct_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("card_number", sa.String(64), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_acct_users"),
    )
    op.create_index("uq_acct_users_username_live", "acct_users", ["username"], unique=True,
                    sqlite_where=sa.text("deleted_at IS NULL"),
                    postgresql_where=sa.text("deleted_at IS NULL"))
    op.create_index("uq_acct_users_card_live", "acct_users", ["card_number"], unique=True,
                    sqlite_where=sa.text("deleted_at IS NULL AND card_number IS NOT NULL"),
                    postgresql_where=sa.text("deleted_at IS NULL AND card_number IS NOT NULL"))
    op.create_table(
        "acct_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        _money("initial_balance"),
        sa.Column("initial_restricted", sa.Boolean(), nullable=False),
        _money("initial_credit_limit"),
        sa.Column("quota_period", sa.String(16), nullable=False),
        _money("quota_amount"),
        _money("quota_cap", nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_acct_groups"),
        sa.UniqueConstraint("name", name="uq_acct_groups_name"),
    )
    op.create_table(
        "acct_memberships",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["acct_groups.id"], ondelete="CASCADE",
                                name="fk_acct_memberships_group_id_acct_groups"),
        sa.ForeignKeyConstraint(["user_id"], ["acct_users.id"], ondelete="CASCADE",
                                name="fk_acct_memberships_user_id_acct_users"),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_acct_memberships"),
    )
    op.create_table(
        "acct_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("pin_hash", sa.String(255), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("opening_balance"),
        _money("balance"),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        _money("credit_limit"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('personal', 'shared')", name="ck_acct_accounts_kind"),
        sa.CheckConstraint("credit_limit >= 0", name="ck_acct_accounts_credit_limit"),
        sa.ForeignKeyConstraint(["owner_id"], ["acct_users.id"],
                                name="fk_acct_accounts_owner_id_acct_users"),
        sa.ForeignKeyConstraint(["parent_id"], ["acct_accounts.id"],
                                name="fk_acct_accounts_parent_id_acct_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_acct_accounts"),
        sa.UniqueConstraint("owner_id", name="uq_acct_accounts_owner_id"),
        sa.UniqueConstraint("code", name="uq_acct_accounts_code"),
    )
    op.create_table(
        "acct_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)",
                           name="ck_acct_access_one_grantee"),
        sa.ForeignKeyConstraint(["account_id"], ["acct_accounts.id"], ondelete="CASCADE",
                                name="fk_acct_access_account_id_acct_accounts"),
        sa.ForeignKeyConstraint(["user_id"], ["acct_users.id"], ondelete="CASCADE",
                                name="fk_acct_access_user_id_acct_users"),
        sa.ForeignKeyConstraint(["group_id"], ["acct_groups.id"], ondelete="CASCADE",
                                name="fk_acct_access_group_id_acct_groups"),
        sa.PrimaryKeyConstraint("id", name="pk_acct_access"),
    )
    op.create_index("ix_acct_access_account_id", "acct_access", ["account_id"])
    op.create_table(
        "acct_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _money("amount"),
        _money("balance_after"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("job_uuid", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["account_id"], ["acct_accounts.id"],
                                name="fk_acct_ledger_account_id_acct_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_acct_ledger"),
        sa.UniqueConstraint("idempotency_key", name="uq_acct_ledger_idempotency_key"),
    )
    op.create_index("ix_acct_ledger_account_id", "acct_ledger", ["account_id"])
    op.create_index("ix_acct_ledger_job_uuid", "acct_ledger", ["job_uuid"])
    op.create_table(
        "acct_job_charges",
        sa.Column("job_uuid", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("printer", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _money("estimate"),
        _money("fee"),
        _money("impressions"),
        _money("reported_impressions", nullable=True),
        _money("charged"),
        _money("refunded"),
        sa.Column("refunds", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["account_id"], ["acct_accounts.id"],
                                name="fk_acct_job_charges_account_id_acct_accounts"),
        sa.ForeignKeyConstraint(["user_id"], ["acct_users.id"],
                                name="fk_acct_job_charges_user_id_acct_users"),
        sa.PrimaryKeyConstraint("job_uuid", name="pk_acct_job_charges"),
    )
    op.create_index("ix_acct_job_charges_account_id", "acct_job_charges", ["account_id"])
    op.create_index("ix_acct_job_charges_user_id", "acct_job_charges", ["user_id"])


def downgrade() -> None:
    for table in ("acct_job_charges", "acct_ledger", "acct_access", "acct_accounts",
                  "acct_memberships", "acct_groups", "acct_users"):
        op.drop_table(table)
