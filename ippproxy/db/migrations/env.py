"""Alembic environment: runs on the connection handed over by ``ippproxy.db.upgrade``."""

from alembic import context

# Import every model module so autogenerate sees all tables.
import ippproxy.jobs.models
from ippproxy.db.base import Base

try:  # accounting arrives in its own migration
    import ippproxy.accounting.models  # noqa: F401
except ImportError:  # pragma: no cover
    pass

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via ippproxy.db.upgrade
    raise RuntimeError("run migrations through ippproxy.db.upgrade(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
