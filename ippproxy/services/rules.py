"""Rules: the ordered ``[[rule]]`` list the pipeline's policy chain is built from (deny,
hold or force options per printer and group). Each has a name; a new rule goes last unless
a ``position`` (1 = first) is given. A rule may name only queues that exist.
"""

from __future__ import annotations

from typing import Any

from ippproxy.catalog import Catalog, Kind, Tx
from ippproxy.catalog.store import spec
from ippproxy.config import RuleConfig, rule_from_dict

from .actor import Access, Actor, Section
from .changes import audit, check, not_provisioned, require, run
from .errors import Conflict, Invalid, NotFound
from .views import Stored


class RuleService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def list(self, actor: Actor) -> list[Stored[RuleConfig]]:
        """The rules in the order they apply, and whether each is provisioned."""
        require(actor, Section.PRINTERS, Access.READ)
        snap = await run(self.catalog.snapshot)
        return [Stored(r, snap.is_provisioned(Kind.RULE, r.name)) for r in snap.rules]

    async def get(self, actor: Actor, name: str) -> Stored[RuleConfig]:
        for found in await self.list(actor):
            if found.config.name == name:
                return found
        raise NotFound("rule", name)

    @staticmethod
    def _checked(tx: Tx, raw: dict[str, Any]) -> RuleConfig:
        if not raw.get("name"):
            raise Invalid("name", "required")
        r = check("rule", rule_from_dict, raw)
        queues = set(tx.queue_names())
        for p in r.printers:
            if p not in queues:
                raise Invalid("printers", f"no queue named {p!r}")
        return r

    async def create(self, actor: Actor, fields: dict[str, Any],
                     position: int | None = None) -> RuleConfig:
        require(actor, Section.PRINTERS, Access.WRITE)
        if position is not None and position < 1:
            raise Invalid("position", "1 or more (1: the first rule)")

        def work() -> RuleConfig:
            with self.catalog.change() as tx:
                r = self._checked(tx, fields)
                if tx.rule(r.name) is not None:
                    raise Conflict(f"a rule named {r.name!r} exists")
                if position is None:
                    tx.put_rule(r)
                else:
                    self._insert_at(tx, r, position)
                audit(tx, actor, "create", Kind.RULE, r.name, after=spec(r))
                return r
        return await run(work)

    async def move(self, actor: Actor, name: str, position: int) -> tuple[str, ...]:
        """Put the rule at ``position`` (1: first; past the end: last); the new order."""
        require(actor, Section.PRINTERS, Access.WRITE)
        if position < 1:
            raise Invalid("position", "1 or more (1: the first rule)")

        def work() -> tuple[str, ...]:
            with self.catalog.change() as tx:
                before = [r.name for r in tx.rules()]
                found = tx.rule(name)
                if found is None:
                    raise NotFound("rule", name)
                not_provisioned(Kind.RULE, name, found[1])
                tx.delete_rule(name)
                self._insert_at(tx, found[0], position)
                after = tuple(r.name for r in tx.rules())
                audit(tx, actor, "move", Kind.RULE, name, {"order": before}, {"order": after})
                return after
        return await run(work)

    @staticmethod
    def _insert_at(tx: Tx, rule: RuleConfig, position: int) -> None:
        """Renumber the rules with ``rule`` at ``position`` (1-based)."""
        rules = tx.rules()
        rules.insert(min(position, len(rules) + 1) - 1, rule)
        provisioned = {r.name: (tx.rule(r.name) or (r, False))[1] for r in rules}
        for i, r in enumerate(rules, start=1):
            tx.put_rule(r, provisioned=provisioned[r.name], position=i)

    async def update(self, actor: Actor, name: str, changes: dict[str, Any]) -> RuleConfig:
        require(actor, Section.PRINTERS, Access.WRITE)
        if "name" in changes and changes["name"] != name:
            raise Invalid("name", "a rule cannot be renamed: create a new one")

        def work() -> RuleConfig:
            with self.catalog.change() as tx:
                found = tx.rule(name)
                if found is None:
                    raise NotFound("rule", name)
                before, provisioned = found
                not_provisioned(Kind.RULE, name, provisioned)
                r = self._checked(tx, {**spec(before), **changes})
                tx.put_rule(r)
                audit(tx, actor, "update", Kind.RULE, name, spec(before), spec(r))
                return r
        return await run(work)

    async def delete(self, actor: Actor, name: str) -> None:
        require(actor, Section.PRINTERS, Access.WRITE)

        def work() -> None:
            with self.catalog.change() as tx:
                found = tx.rule(name)
                if found is None:
                    raise NotFound("rule", name)
                before, provisioned = found
                not_provisioned(Kind.RULE, name, provisioned)
                tx.delete_rule(name)
                audit(tx, actor, "delete", Kind.RULE, name, before=spec(before))
        await run(work)
