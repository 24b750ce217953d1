"""Provisioning: what the configuration file declares is applied to the database at start.

The file's ``[[cost_model]]``, ``[[group]]``, ``[[queue]]`` and ``[[rule]]`` tables are
created or updated and marked *provisioned*: the services refuse to change or delete them
(``Conflict`` naming the file, which the API answers with 409), the way Grafana treats its
provisioned dashboards. An object that was provisioned and is no longer in the file is
released (kept, and editable), not deleted: deleting a queue would cancel its jobs, which a
file edit should not do unseen. The file's rules come first, in the file's order, then
the rules made through the services; a rule without a ``name`` is called ``rule-<n>``, its
place among the file's rules. The embedded default's built-in queue is provisioned like
any other. Nothing changed, nothing written: several nodes starting on one database with
the same file make one change, not one each. Every change is audited as the system.

``export_config`` writes the catalog back as such a file (``ippproxy export-config``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ippproxy.accounting.groupsettings import list_groups, put_group, to_config
from ippproxy.catalog import Catalog, Kind, Tx
from ippproxy.catalog.export import to_toml
from ippproxy.catalog.store import spec
from ippproxy.config import Config, RuleConfig

from .actor import Access, Actor, Section
from .changes import audit, require, run
from .groups import to_settings


class _Unchanged(Exception):
    """Rolls back the version bump of a provisioning that found nothing to do."""


def named_rules(rules: tuple[RuleConfig, ...]) -> list[RuleConfig]:
    return [r if r.name else dataclasses.replace(r, name=f"rule-{i}")
            for i, r in enumerate(rules, start=1)]


class _Apply:
    def __init__(self, tx: Tx, actor: Actor) -> None:
        # ``changes``: objects provisioned or released (each audited); ``reordered``: the
        # rules' order changed (the file's first), which is written without an entry.
        self.tx, self.actor, self.changes, self.reordered = tx, actor, 0, False

    def note(self, action: str, kind: Kind, name: str, before: Any, after: Any) -> None:
        self.changes += 1
        audit(self.tx, self.actor, action, kind, name, before, after)

    def cost_models(self, config: Config) -> None:
        tx, snap_names = self.tx, {m.name for m in config.cost_models}
        for m in config.cost_models:
            found = tx.cost_model(m.name)
            if found != (m, True):
                tx.put_cost_model(m, provisioned=True)
                self.note("provision", Kind.COST_MODEL, m.name,
                          spec(found[0]) if found else None, spec(m))
        for name, provisioned in self._stored(Kind.COST_MODEL):
            if provisioned and name not in snap_names:
                kept = tx.cost_model(name)
                assert kept is not None
                tx.put_cost_model(kept[0], provisioned=False)
                self.note("release", Kind.COST_MODEL, name, None, None)

    def queues(self, config: Config) -> None:
        tx, names = self.tx, {q.name for q in config.queues}
        for q in config.queues:
            found = tx.queue(q.name)
            if found != (q, True):
                tx.put_queue(q, provisioned=True)
                self.note("provision", Kind.QUEUE, q.name,
                          spec(found[0]) if found else None, spec(q))
        for name, provisioned in self._stored(Kind.QUEUE):
            if provisioned and name not in names:
                stays = tx.queue(name)
                assert stays is not None
                tx.put_queue(stays[0], provisioned=False)
                self.note("release", Kind.QUEUE, name, None, None)

    def rules(self, config: Config) -> None:
        tx = self.tx
        declared = named_rules(config.rules)
        names = {r.name for r in declared}
        others = [r for r in tx.rules() if r.name not in names]
        order = [(r, True) for r in declared]
        order += [(r, False) for r in others]
        current = [(r, (tx.rule(r.name) or (r, False))[1]) for r in tx.rules()]
        released = [r.name for r, p in current if p and r.name not in names]
        if current == order and not released:
            return
        for i, (r, provisioned) in enumerate(order, start=1):
            found = tx.rule(r.name)
            tx.put_rule(r, provisioned=provisioned, position=i)
            if provisioned and found != (r, True):
                self.note("provision", Kind.RULE, r.name,
                          spec(found[0]) if found else None, spec(r))
        for name in released:
            self.note("release", Kind.RULE, name, None, None)
        self.reordered = True

    def groups(self, config: Config) -> None:
        exponent = config.accounting.minor_unit_digits
        stored = {g.name: g for g in list_groups(self.tx.conn)}
        declared = [to_settings(g, exponent, provisioned=True) for g in config.groups]
        for g in declared:
            before = stored.get(g.name)
            if before != g:
                put_group(self.tx.conn, g)
                self.note("provision", Kind.GROUP, g.name,
                          dataclasses.asdict(to_config(before, exponent)) if before else None,
                          dataclasses.asdict(to_config(g, exponent)))
        names = {g.name for g in declared}
        for g in stored.values():
            if g.provisioned and g.name not in names:
                put_group(self.tx.conn, dataclasses.replace(g, provisioned=False))
                self.note("release", Kind.GROUP, g.name, None, None)

    def _stored(self, kind: Kind) -> list[tuple[str, bool]]:
        names = self.tx.queue_names() if kind == Kind.QUEUE else self.tx.cost_model_names()
        out = []
        for n in names:
            found = self.tx.queue(n) if kind == Kind.QUEUE else self.tx.cost_model(n)
            out.append((n, bool(found and found[1])))
        return out


def provision_sync(catalog: Catalog, config: Config, actor: Actor) -> int:
    """Apply the file's objects; returns how many were provisioned or released."""
    try:
        with catalog.change() as tx:
            apply = _Apply(tx, actor)
            apply.cost_models(config)
            apply.groups(config)
            apply.queues(config)
            apply.rules(config)
            if not apply.changes and not apply.reordered:
                raise _Unchanged
            return apply.changes
    except _Unchanged:
        return 0


async def provision(catalog: Catalog, config: Config, actor: Actor | None = None) -> int:
    actor = actor or Actor.system()
    require(actor, Section.PRINTERS, Access.WRITE)
    require(actor, Section.FINANCE, Access.WRITE)
    require(actor, Section.USERS, Access.WRITE)
    return await run(lambda: provision_sync(catalog, config, actor))


async def export_config(catalog: Catalog, config: Config, actor: Actor) -> str:
    """The catalog as provisioning TOML (``ippproxy check-config`` accepts it)."""
    for section in (Section.PRINTERS, Section.FINANCE, Section.USERS, Section.OPTIONS):
        require(actor, section, Access.READ)
    exponent = config.accounting.minor_unit_digits

    def read() -> str:
        snap = catalog.snapshot()
        groups = catalog.read(lambda tx: list_groups(tx.conn))
        return to_toml(snap, [to_config(g, exponent) for g in groups])
    return await run(read)
