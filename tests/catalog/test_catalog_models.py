"""The catalog's schema: the migration creates exactly the models' tables, and goes down
and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

# Every package's tables, so that none looks removed to the comparison.
import ippproxy.accounting.models
import ippproxy.catalog.models
import ippproxy.jobs.models  # noqa: F401
from ippproxy.db import upgrade
from ippproxy.db.base import Base

TABLES = {"catalog_version", "catalog_queues", "catalog_cost_models", "catalog_rules",
          "catalog_options", "audit_log"}


def _diffs(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(ctx, Base.metadata)
                if any(t in repr(d) for t in TABLES) or "acct_groups" in repr(d)]


def test_migration_matches_models(engine: Engine) -> None:
    assert TABLES <= set(inspect(engine).get_table_names())
    assert _diffs(engine) == []


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from ippproxy.db.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005_queue_states")
    names = set(inspect(engine).get_table_names())
    assert not TABLES & names
    assert "multiplier" not in {c["name"] for c in inspect(engine).get_columns("acct_groups")}
    upgrade(engine)
    assert _diffs(engine) == []
