"""Alembic environment: runs on the connection handed over by ``ippproxy.db.upgrade``.

The migrations carry their own copy of the schema (as Alembic migrations do), so this
package imports no model module (``ippproxy.db`` is below every feature package). To
autogenerate or compare, the caller hands the full metadata over in
``config.attributes["target_metadata"]`` (``ippproxy.db.Base.metadata`` once the model
modules are imported); a plain upgrade needs none.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via ippproxy.db.upgrade
    raise RuntimeError("run migrations through ippproxy.db.upgrade(engine)")
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
