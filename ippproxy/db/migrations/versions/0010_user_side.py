"""The user's side (issue 17): personal printer URLs (ippproxy/services/authmodels.py).

Revision ID: 0010_user_side
Revises: 0009_admin_reports
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/services/authmodels.py
(tests/services/test_admin_auth.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_user_side"
down_revision = "0009_admin_reports"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_printer_urls",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_printer_urls"),
        sa.UniqueConstraint("secret_hash", name="uq_auth_printer_urls_secret_hash"),
    )
    op.create_index("ix_auth_printer_urls_principal", "auth_printer_urls", ["principal"])


def downgrade() -> None:
    op.drop_index("ix_auth_printer_urls_principal", "auth_printer_urls")
    op.drop_table("auth_printer_urls")
