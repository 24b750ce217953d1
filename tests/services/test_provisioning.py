"""Provisioning the configuration file's objects into the catalog at start, and
``export-config`` round-tripping them (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

from ippproxy.catalog import AuditQuery, Catalog, Kind
from ippproxy.config import Config, from_dict
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore
from ippproxy.services.cost_models import CostModelService
from ippproxy.services.errors import Conflict
from ippproxy.services.groups import GroupService
from ippproxy.services.options import OptionService
from ippproxy.services.provisioning import export_config, provision
from ippproxy.services.queues import QueueService
from ippproxy.services.rules import RuleService

from .conftest import ADMIN

FILE = {
    "accounting": {"enabled": True},
    "cost_model": [{"name": "page", "mono": "0.10", "color": "0.40",
                    "media": [{"name": "iso_a3_297x420mm", "mono": "0.20"}]}],
    "group": [{"name": "Staff", "multiplier": "0.5", "initial_balance": "3.00"}],
    "queue": [{"name": "lobby", "cost_model": "page", "info": "Lobby"},
              {"name": "lab", "destination": "ipp://192.0.2.7/ipp/print"}],
    "rule": [{"type": "max-pages", "limit": 100},
             {"type": "force-duplex", "printers": ["lab"], "name": "duplex-lab"}],
}


async def test_the_files_objects_are_provisioned_once(catalog: Catalog) -> None:
    cfg = from_dict(FILE)
    assert await provision(catalog, cfg) == 6
    snap = catalog.snapshot()
    assert [q.name for q in snap.queues] == ["lobby", "lab"]
    assert [r.name for r in snap.rules] == ["rule-1", "duplex-lab"]
    assert all(snap.is_provisioned(Kind.QUEUE, q.name) for q in snap.queues)
    assert snap.is_provisioned(Kind.COST_MODEL, "page")
    version = catalog.version()
    assert await provision(catalog, cfg) == 0           # nothing to do: nothing written
    assert catalog.version() == version
    entries = catalog.audit_log(AuditQuery(action="provision"))
    assert {e.via for e in entries} == {"system"} and len(entries) == 6


async def test_two_nodes_starting_together_provision_once(catalog: Catalog) -> None:
    cfg = from_dict(FILE)
    results = await asyncio.gather(provision(catalog, cfg), provision(catalog, cfg))
    assert sorted(results) == [0, 6]
    assert len(catalog.audit_log(AuditQuery(action="provision"))) == 6


async def test_a_changed_file_updates_and_a_removed_object_is_released(
        catalog: Catalog, store: JobStore) -> None:
    cfg = from_dict(FILE)
    await provision(catalog, cfg)
    await RuleService(catalog).create(ADMIN, {"name": "mine", "type": "max-copies",
                                              "limit": 3})
    changed = dict(FILE, queue=[{"name": "lobby", "cost_model": "page", "info": "Foyer"}],
                   rule=[{"type": "max-pages", "limit": 100}])
    await provision(catalog, from_dict(changed))
    snap = catalog.snapshot()
    lobby = snap.queue("lobby")
    assert lobby is not None and lobby.info == "Foyer"
    assert not snap.is_provisioned(Kind.QUEUE, "lab")     # kept, editable now
    assert [r.name for r in snap.rules] == ["rule-1", "duplex-lab", "mine"]
    assert not snap.is_provisioned(Kind.RULE, "duplex-lab")
    queues = QueueService(catalog, store, cfg)
    await queues.update(ADMIN, "lab", {"info": "released"})
    [update] = catalog.audit_log(AuditQuery(name="lobby", action="provision", limit=1))
    assert update.before["info"] == "Lobby" and update.after["info"] == "Foyer"


async def test_the_embedded_default_provisions_its_builtin_queue(catalog: Catalog,
                                                                  store: JobStore) -> None:
    await provision(catalog, Config())
    [view] = await QueueService(catalog, store, Config()).list(ADMIN)
    assert view.config.name == "default" and view.config.destination == "builtin"
    assert view.provisioned


async def test_export_round_trips(catalog: Catalog, store: JobStore, tmp_path: Path) -> None:
    cfg = from_dict(FILE)
    await provision(catalog, cfg)
    await QueueService(catalog, store, cfg).create(ADMIN, {
        "name": "annex", "destination": "ipps://printer.example/ipp/print",
        "location": "Annex \"B\"", "force_grayscale": True, "cost_model": "page"})
    await CostModelService(catalog).create(ADMIN, {"name": "colour", "job_fee": "0.05"})
    await GroupService(catalog, cfg).create(ADMIN, {"name": "students", "restricted": False})
    await OptionService(catalog, cfg).set(ADMIN, "accounting.unknown_users", "refuse")
    text = await export_config(catalog, cfg, ADMIN)

    exported = from_dict(tomllib.loads(text))          # what `check-config` runs
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    try:
        again = Catalog(other)
        await provision(again, exported)
        first, second = catalog.snapshot(), again.snapshot()
        assert second.queues == first.queues
        assert second.cost_models == first.cost_models
        assert second.rules == first.rules
        assert (second.apply(exported).accounting.unknown_users
                == first.apply(cfg).accounting.unknown_users == "refuse")
        groups = await GroupService(again, exported).list(ADMIN)
        assert [g.config for g in groups] == [
            g.config for g in await GroupService(catalog, cfg).list(ADMIN)]
        assert await export_config(again, exported, ADMIN) != ""
        # Everything the export declares is provisioned (read-only) where it was applied.
        try:
            await QueueService(again, store, exported).update(ADMIN, "annex", {"info": "x"})
        except Conflict:
            pass
        else:
            raise AssertionError("an exported queue applied as provisioning is read-only")
    finally:
        other.dispose()
