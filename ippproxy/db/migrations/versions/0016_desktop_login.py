"""Desktop logins (issue 17: ``ippproxy-client`` logs in as the desktop user where the admin
trusts that): a session made from the peer credentials of the local socket is marked, so
that it carries user rights only (ippproxy/services/authmodels.py, services/sessions.py).

Revision ID: 0016_desktop_login
Revises: 0014_user_list
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/services/authmodels.py
(tests/services/test_admin_auth.py compares them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_desktop_login"
down_revision = "0015_station_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("desktop", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("desktop")
