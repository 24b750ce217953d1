"""Admin authentication: master account, group rights, sessions, API tokens, failed logins
(ippproxy/services/authmodels.py).

Revision ID: 0007_admin_auth
Revises: 0006_catalog
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/services/authmodels.py
(tests/services/test_authmodels.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_admin_auth"
down_revision = "0006_catalog"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_master",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_auth_master"),
    )
    op.create_table(
        "auth_group_rights",
        sa.Column("group_name", sa.String(255), nullable=False),
        sa.Column("section", sa.String(16), nullable=False),
        sa.Column("access", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_name", "section", name="pk_auth_group_rights"),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("master", sa.Boolean(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("seen_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_auth_sessions"),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("access", sa.SmallInteger(), nullable=False),
        sa.Column("sections", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_tokens"),
        sa.UniqueConstraint("secret_hash", name="uq_auth_tokens_secret_hash"),
    )
    op.create_table(
        "auth_login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_login_failures"),
    )
    op.create_index("ix_auth_login_failures_key_at", "auth_login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_auth_login_failures_key_at", "auth_login_failures")
    for table in ("auth_login_failures", "auth_tokens", "auth_sessions", "auth_group_rights",
                  "auth_master"):
        op.drop_table(table)
