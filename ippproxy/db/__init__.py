"""Database plumbing shared by the job store and accounting.

One SQLAlchemy ``Base`` (one MetaData) and one linear Alembic chain under
``ippproxy/db/migrations/versions``. Model modules (``ippproxy.jobs.models``,
``ippproxy.accounting.models``) import ``Base`` from here; this package imports
none of them, nor any other feature package: the migrations carry their own copy of the
schema.
"""

from ippproxy.db.base import Base
from ippproxy.db.checkpoint import Checkpointer
from ippproxy.db.engine import make_engine, reading, upgrade, upgrade_locked

__all__ = ["Base", "Checkpointer", "make_engine", "reading", "upgrade", "upgrade_locked"]
