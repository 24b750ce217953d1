"""The catalog's transactions, snapshot, audit log and watcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import tomllib

import pytest

from ippproxy.catalog import AuditQuery, Catalog, CatalogWatcher, Kind, Snapshot
from ippproxy.catalog.export import to_toml
from ippproxy.config import (
    Config,
    CostModelConfig,
    GroupConfig,
    MediaPriceConfig,
    QueueConfig,
    RuleConfig,
    from_dict,
)

QUEUE = QueueConfig(name="front", destination="ipp://10.0.0.5/ipp/print", info="Hall",
                    cost_model="a4", force_duplex=True)
MODEL = CostModelConfig(name="a4", mono="0.10", color="0.50", duplex_discount="0.1",
                        media=(MediaPriceConfig("iso_a3_297x420mm", "0.20", "1.00"),))
RULE = RuleConfig(type="paper-sizes", name="no-a3", printers=("front",),
                  values=("iso_a4_210x297mm",))


def fill(catalog: Catalog) -> None:
    with catalog.change() as tx:
        tx.put_cost_model(MODEL, provisioned=True)
        tx.put_queue(QUEUE)
        tx.put_rule(RULE)
        tx.set_option("accounting.unknown_users", "refuse")
        tx.audit(actor="alice", via="token", action="create", kind=Kind.QUEUE, name="front",
                 after={"name": "front"})


def test_a_change_bumps_the_version_and_the_snapshot_holds_the_objects(
        catalog: Catalog) -> None:
    before = catalog.version()
    fill(catalog)
    snap = catalog.snapshot()
    assert snap.version == catalog.version() == before + 1
    assert snap.queues == (QUEUE,) and snap.cost_models == (MODEL,) and snap.rules == (RULE,)
    assert snap.options == (("accounting.unknown_users", "refuse"),)
    assert snap.is_provisioned(Kind.COST_MODEL, "a4")
    assert not snap.is_provisioned(Kind.QUEUE, "front")


def test_a_failed_change_leaves_nothing_behind(catalog: Catalog) -> None:
    before = catalog.version()
    with pytest.raises(RuntimeError), catalog.change() as tx:
        tx.put_queue(QUEUE)
        tx.audit(actor="a", via="token", action="create", kind=Kind.QUEUE, name="front")
        raise RuntimeError("refused half-way")
    assert catalog.version() == before
    assert catalog.snapshot().queues == ()
    assert catalog.audit_log(AuditQuery()) == []


def test_apply_puts_the_catalog_in_place_of_the_file(catalog: Catalog) -> None:
    fill(catalog)
    file = from_dict({"accounting": {"unknown_users": "create", "currency": "CHF"},
                      "queue": [{"name": "from-file"}]})
    live = catalog.snapshot().apply(file)
    assert [q.name for q in live.queues] == ["front"]
    assert live.cost_models == (MODEL,) and live.rules == (RULE,)
    assert live.accounting.unknown_users == "refuse"     # the database wins
    assert live.accounting.currency == "CHF"             # node settings stay the file's
    assert live.server == file.server


def test_queues_keep_the_order_they_were_added_in(catalog: Catalog) -> None:
    for name in ("zeta", "alpha", "mid"):
        with catalog.change() as tx:
            tx.put_queue(QueueConfig(name=name))
    with catalog.change() as tx:
        tx.put_queue(QueueConfig(name="alpha", info="changed"))
    assert [q.name for q in catalog.snapshot().queues] == ["zeta", "alpha", "mid"]


def test_audit_log_filters_and_pages(catalog: Catalog) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(7):
        c = Catalog(catalog.engine, clock=lambda i=i: t0 + dt.timedelta(minutes=i))
        with c.change() as tx:
            tx.audit(actor="alice" if i % 2 else "bob", via="session", action="update",
                     kind=Kind.QUEUE if i < 5 else Kind.RULE, name=f"o{i}",
                     before={"n": i}, after={"n": i + 1})
    everything = catalog.audit_log(AuditQuery())
    assert [e.name for e in everything] == [f"o{i}" for i in reversed(range(7))]
    assert everything[0].at == t0 + dt.timedelta(minutes=6)
    assert everything[0].before == {"n": 6} and everything[0].after == {"n": 7}
    page1 = catalog.audit_log(AuditQuery(limit=3))
    page2 = catalog.audit_log(AuditQuery(limit=3, before_id=page1[-1].id))
    assert [e.name for e in page1 + page2] == [e.name for e in everything[:6]]
    assert {e.actor for e in catalog.audit_log(AuditQuery(actor="alice"))} == {"alice"}
    assert [e.name for e in catalog.audit_log(AuditQuery(kind="rule"))] == ["o6", "o5"]
    window = catalog.audit_log(AuditQuery(since=t0 + dt.timedelta(minutes=2),
                                          until=t0 + dt.timedelta(minutes=4)))
    assert [e.name for e in window] == ["o3", "o2"]


def test_an_audit_entry_as_a_unit_of_the_callers_transaction(catalog: Catalog) -> None:
    # services/auditsink.py runs it in the engine's group commit: kept with the caller's
    # commit, gone with its rollback, and the catalog's version is not bumped.
    version = catalog.version()
    unit = catalog.recording(actor="ann", via="session", action="job.account",
                             kind=Kind.JOB, name="u-1", after={"account": "personal"})
    with pytest.raises(RuntimeError), catalog.engine.begin() as conn:
        unit(conn)
        raise RuntimeError("the caller's transaction fails")
    assert catalog.audit_log(AuditQuery()) == []
    with catalog.engine.begin() as conn:
        unit(conn)
    [e] = catalog.audit_log(AuditQuery())
    assert (e.actor, e.action, e.kind, e.name, e.after) == (
        "ann", "job.account", "job", "u-1", {"account": "personal"})
    assert catalog.version() == version


def test_the_watcher_publishes_each_new_version_once(catalog: Catalog) -> None:
    seen: list[Snapshot] = []

    async def main() -> None:
        async def changed(s: Snapshot) -> None:
            seen.append(s)

        watcher = CatalogWatcher(catalog, await asyncio.to_thread(catalog.snapshot), 0.02,
                                 changed)
        assert not await watcher.poll()            # nothing changed yet
        watcher.start()
        await asyncio.to_thread(fill, catalog)
        for _ in range(500):
            if seen:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)                   # a few more ticks: no second publish
        await watcher.stop()

    asyncio.run(main())
    assert len(seen) == 1
    assert seen[0].queues == (QUEUE,) and seen[0].version == catalog.version()


def test_looks_asked_for_at_once_hand_over_each_change_once(catalog: Catalog) -> None:
    """The admin pages poll right after a change while the periodic look may be running:
    one look at a time, so a snapshot is handed over once and never after a newer one."""
    seen: list[int] = []

    async def main() -> None:
        async def changed(s: Snapshot) -> None:
            await asyncio.sleep(0.05)              # the server, forwarder and pipeline
            seen.append(s.version)

        watcher = CatalogWatcher(catalog, await asyncio.to_thread(catalog.snapshot), 60.0,
                                 changed)
        await asyncio.to_thread(fill, catalog)
        published = await asyncio.gather(*(watcher.poll() for _ in range(4)))
        assert sorted(published) == [False, False, False, True]

    asyncio.run(main())
    assert seen == [catalog.version()]


def test_a_failed_hand_over_is_retried(catalog: Catalog) -> None:
    calls: list[int] = []

    async def main() -> None:
        async def changed(s: Snapshot) -> None:
            calls.append(s.version)
            if len(calls) == 1:
                raise RuntimeError("the builtin printer's port is taken")

        watcher = CatalogWatcher(catalog, await asyncio.to_thread(catalog.snapshot), 0.02,
                                 changed)
        await asyncio.to_thread(fill, catalog)
        with pytest.raises(RuntimeError):
            await watcher.poll()
        assert await watcher.poll()                # the same version, handed over again
        assert not await watcher.poll()

    asyncio.run(main())
    assert calls == [catalog.version()] * 2


def test_export_is_a_config_file_that_gives_the_same_objects(catalog: Catalog) -> None:
    fill(catalog)
    groups = [GroupConfig(name="staff", multiplier="0.5", initial_balance="5.00")]
    text = to_toml(catalog.snapshot(), groups)
    cfg = from_dict(tomllib.loads(text))
    assert cfg.queues == (QUEUE,) and cfg.cost_models == (MODEL,) and cfg.rules == (RULE,)
    assert cfg.groups == tuple(groups)
    assert cfg.accounting.unknown_users == "refuse"
    assert Config().queues != cfg.queues
