"""Migration 0008_charge_node on a database with charges, down and up again (SQLite and
PostgreSQL): rows from before it have no node (NULL) and are not recorded, so the
settlement sweep checks each once (pipeline/settle.py)."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from ippproxy.accounting import AccountingService, AccountingSettings, JobCounts, Outcome
from ippproxy.accounting.cost import CostModel, MediaPrice, Pricing
from ippproxy.db import upgrade
from ippproxy.db.engine import MIGRATIONS


def downgrade(engine: Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_charges_survive_0008_down_and_up(engine: Engine) -> None:
    pricing = Pricing(default=CostModel(default=MediaPrice(mono=10)))  # type: ignore[arg-type]
    svc = AccountingService(engine, pricing, AccountingSettings(node="n1", new_user_balance=100))
    reserved, settled = uuid.uuid4(), uuid.uuid4()
    for job in (reserved, settled):
        svc.reserve(job, username="ann", printer="p", counts=JobCounts.simple(2))
    svc.settle(settled, Outcome.COMPLETED, None)
    assert [(r.job_uuid, r.node) for r in svc.reserved_charges()] == [(reserved, "n1")]
    assert svc.unrecorded_charges() == [settled]
    svc.mark_recorded([settled])
    assert svc.unrecorded_charges() == []

    downgrade(engine, "0007_admin_auth")
    upgrade(engine)
    engine.dispose()  # no cached statements of the old table
    assert [(r.job_uuid, r.node) for r in svc.reserved_charges()] == [(reserved, None)]
    assert svc.unrecorded_charges() == [settled]     # checked once more by the sweep
    charge = svc.get(settled)
    assert charge is not None and charge.charged == 20
