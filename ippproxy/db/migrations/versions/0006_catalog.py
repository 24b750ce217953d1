"""The catalog: queues, cost models, rules and options kept in the database, the change
counter the nodes poll, the audit log (ippproxy/catalog/models.py); and the group settings
accounting lacked: the price ``multiplier`` and ``provisioned`` (ippproxy/accounting/models.py).

Revision ID: 0006_catalog
Revises: 0005_queue_states
Hand-written; portable to SQLite and PostgreSQL. Must match the models
(tests/catalog/test_catalog_models.py and tests/accounting/test_acct_models.py compare them).
Existing installs start with an empty catalog; the configuration file's objects are
provisioned into it at the next start (ippproxy/services/provisioning.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_catalog"
down_revision = "0005_queue_states"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_version"),
    )
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, 0)")
    op.create_table(
        "catalog_queues",
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(2048), nullable=False),
        sa.Column("cost_model", sa.String(127), nullable=False),
        sa.Column("provisioned", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalog_queues"),
    )
    op.create_table(
        "catalog_cost_models",
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("provisioned", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalog_cost_models"),
    )
    op.create_table(
        "catalog_rules",
        sa.Column("name", sa.String(127), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provisioned", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalog_rules"),
    )
    op.create_table(
        "catalog_options",
        sa.Column("key", sa.String(127), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_catalog_options"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_kind_name", "audit_log", ["kind", "name"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    with op.batch_alter_table("acct_groups") as batch:
        batch.add_column(sa.Column("multiplier", sa.String(32), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("provisioned", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("acct_groups") as batch:
        batch.drop_column("provisioned")
        batch.drop_column("multiplier")
    for index in ("ix_audit_log_actor", "ix_audit_log_kind_name", "ix_audit_log_at"):
        op.drop_index(index, table_name="audit_log")
    for table in ("audit_log", "catalog_options", "catalog_rules", "catalog_cost_models",
                  "catalog_queues", "catalog_version"):
        op.drop_table(table)
