"""Tables of the catalog: the configuration objects kept in the database, the change
counter every node polls, and the audit log of admin changes.

``catalog_queues``, ``catalog_cost_models`` and ``catalog_rules`` hold one object each,
its fields as JSON in ``spec`` (the keys of its ``[[queue]]``/``[[cost_model]]``/``[[rule]]``
table, so a field added to the config type needs no migration) beside the columns that are
looked up (name, destination, cost model, order) and ``provisioned`` (declared by the
configuration file: read-only through the services). ``catalog_options`` holds the config
keys set in the database. ``catalog_version`` is one row whose ``version`` is bumped in the
same transaction as every change (the watchers read it). ``audit_log``: who changed what,
before and after.

The schema is created by ``ippproxy/db/migrations/versions/0006_catalog.py``; the two must
stay identical (``tests/catalog/test_catalog_models.py`` compares them). Only the catalog
package reads these tables (``tests/test_table_ownership.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
)

from ippproxy.db.base import Base, UTCDateTime

catalog_version_t = Table(
    "catalog_version", Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

catalog_queues_t = Table(
    "catalog_queues", Base.metadata,
    Column("name", String(127), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("destination", String(2048), nullable=False),
    Column("cost_model", String(127), nullable=False),
    Column("provisioned", Boolean, nullable=False),
    Column("spec", JSON, nullable=False),
)

catalog_cost_models_t = Table(
    "catalog_cost_models", Base.metadata,
    Column("name", String(127), primary_key=True),
    Column("provisioned", Boolean, nullable=False),
    Column("spec", JSON, nullable=False),
)

catalog_rules_t = Table(
    "catalog_rules", Base.metadata,
    Column("name", String(127), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("provisioned", Boolean, nullable=False),
    Column("spec", JSON, nullable=False),
)

catalog_options_t = Table(
    "catalog_options", Base.metadata,
    Column("key", String(127), primary_key=True),
    Column("value", JSON, nullable=False),
)

audit_log_t = Table(
    "audit_log", Base.metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("via", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_kind_name", "kind", "name"),
    Index("ix_audit_log_actor", "actor"),
)
