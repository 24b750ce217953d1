"""Release station sessions in the shared session table (issue 17 §6): ``auth_sessions``
gets a ``scope`` ("" for the web app's logins, ``station:<printer>`` for a release
station's), so that a station's next request may reach any node sharing the database
(ippproxy/services/sessions.py, ippproxy/services/station.py).

Revision ID: 0015_station_scope
Revises: 0014_user_list
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/services/authmodels.py
(tests/services/test_admin_auth.py compares them). Existing rows are the web app's.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_station_scope"
down_revision = "0014_user_list"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as b:
        b.add_column(sa.Column("scope", sa.String(300), nullable=False, server_default=""))


def downgrade() -> None:
    op.execute("DELETE FROM auth_sessions WHERE scope != ''")
    with op.batch_alter_table("auth_sessions") as b:
        b.drop_column("scope")
