"""Cost models: the prices of a page (per media, mono and colour), the duplex discount and
the job fee. Amounts are decimal strings in the major unit (``"0.10"``), checked as the
configuration file's ``[[cost_model]]`` tables are. A model a queue uses, or the
``accounting.default_cost_model`` option names, cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from ippproxy.catalog import Catalog, Kind
from ippproxy.catalog.options import REFERENCES_COST_MODEL
from ippproxy.catalog.store import spec
from ippproxy.config import CostModelConfig, cost_model_from_dict

from .actor import Access, Actor, Section
from .changes import audit, check, not_provisioned, require, run
from .errors import Conflict, Invalid, NotFound
from .views import Stored


class CostModelService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def list(self, actor: Actor) -> list[Stored[CostModelConfig]]:
        """Every model and whether it is provisioned."""
        require(actor, Section.FINANCE, Access.READ)
        snap = await run(self.catalog.snapshot)
        return [Stored(m, snap.is_provisioned(Kind.COST_MODEL, m.name))
                for m in snap.cost_models]

    async def get(self, actor: Actor, name: str) -> Stored[CostModelConfig]:
        for found in await self.list(actor):
            if found.config.name == name:
                return found
        raise NotFound("cost model", name)

    async def create(self, actor: Actor, fields: dict[str, Any]) -> CostModelConfig:
        require(actor, Section.FINANCE, Access.WRITE)

        def work() -> CostModelConfig:
            with self.catalog.change() as tx:
                m = check("cost_model", cost_model_from_dict, fields)
                if tx.cost_model(m.name) is not None:
                    raise Conflict(f"a cost model named {m.name!r} exists")
                tx.put_cost_model(m)
                audit(tx, actor, "create", Kind.COST_MODEL, m.name, after=spec(m))
                return m
        return await run(work)

    async def update(self, actor: Actor, name: str, changes: dict[str, Any]
                     ) -> CostModelConfig:
        require(actor, Section.FINANCE, Access.WRITE)
        if "name" in changes and changes["name"] != name:
            raise Invalid("name", "a cost model cannot be renamed: create a new one")

        def work() -> CostModelConfig:
            with self.catalog.change() as tx:
                found = tx.cost_model(name)
                if found is None:
                    raise NotFound("cost model", name)
                before, provisioned = found
                not_provisioned(Kind.COST_MODEL, name, provisioned)
                m = check("cost_model", cost_model_from_dict, {**spec(before), **changes})
                tx.put_cost_model(m)
                audit(tx, actor, "update", Kind.COST_MODEL, name, spec(before), spec(m))
                return m
        return await run(work)

    async def delete(self, actor: Actor, name: str) -> None:
        require(actor, Section.FINANCE, Access.WRITE)

        def work() -> None:
            with self.catalog.change() as tx:
                found = tx.cost_model(name)
                if found is None:
                    raise NotFound("cost model", name)
                before, provisioned = found
                not_provisioned(Kind.COST_MODEL, name, provisioned)
                queues = tx.queues_using(name)
                if queues:
                    raise Conflict(f"cost model {name!r} is used by queue(s) "
                                   f"{', '.join(queues)}")
                if tx.option(REFERENCES_COST_MODEL) == name:
                    raise Conflict(f"cost model {name!r} is the option "
                                   f"{REFERENCES_COST_MODEL}")
                tx.delete_cost_model(name)
                audit(tx, actor, "delete", Kind.COST_MODEL, name, before=spec(before))
        await run(work)
