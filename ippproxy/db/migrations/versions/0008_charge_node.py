"""Job charges know the node that reserved them and whether the job shows its amount.

Revision ID: 0008_charge_node
Revises: 0007_admin_auth
Hand-written; portable to SQLite and PostgreSQL. Must match ippproxy/accounting/models.py
(tests/accounting/test_acct_models.py compares them).

* ``node``: the ``storage.node`` that reserved the charge ("" for a single node; NULL for
  charges from before this revision). A reservation whose job was never stored is an
  orphan: its own node releases it at start, the others after ``accounting.orphan_lease``
  (pipeline/settle.py).
* ``recorded``: the settled or refunded amount was written back into the job
  (``ippproxy-cost-charged``). False on old rows too: the settlement sweep checks each
  once and repairs the job that lacks it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_charge_node"
down_revision = "0007_admin_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acct_job_charges") as batch:
        batch.add_column(sa.Column("node", sa.String(255), nullable=True))
        batch.add_column(sa.Column("recorded", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_index("ix_acct_job_charges_unrecorded", "acct_job_charges", ["job_uuid"],
                    sqlite_where=sa.text("recorded = 0"),
                    postgresql_where=sa.text("NOT recorded"))


def downgrade() -> None:
    op.drop_index("ix_acct_job_charges_unrecorded", table_name="acct_job_charges")
    with op.batch_alter_table("acct_job_charges") as batch:
        batch.drop_column("recorded")
        batch.drop_column("node")
