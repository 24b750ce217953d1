"""Options: the config keys kept in the database (``ippproxy.catalog.options.OPTIONS``).

The configuration file's value is the default; setting an option overrides it on every
node within the watcher's interval, clearing it goes back to the file's value. Values are
checked as the file's are; ``accounting.default_cost_model`` must name a cost model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ippproxy.catalog import Catalog, Kind
from ippproxy.catalog import options as keys
from ippproxy.config import Config, ConfigError

from .actor import Access, Actor, Section
from .changes import audit, invalid, require, run
from .errors import Invalid, NotFound


@dataclass(frozen=True)
class OptionView:
    key: str
    value: Any
    default: Any          # the configuration file's value
    set_here: bool        # True: the database overrides the file


class OptionService:
    def __init__(self, catalog: Catalog, config: Config) -> None:
        self.catalog, self.config = catalog, config

    def _default(self, key: str) -> Any:
        section, name = key.split(".", 1)
        return getattr(getattr(self.config, section), name)

    async def list(self, actor: Actor) -> list[OptionView]:
        require(actor, Section.OPTIONS, Access.READ)
        stored = dict((await run(self.catalog.snapshot)).options)
        return [OptionView(k, stored.get(k, self._default(k)), self._default(k), k in stored)
                for k in sorted(keys.OPTIONS)]

    async def get(self, actor: Actor, key: str) -> OptionView:
        for o in await self.list(actor):
            if o.key == key:
                return o
        raise NotFound("option", key)

    async def set(self, actor: Actor, key: str, value: Any) -> OptionView:
        require(actor, Section.OPTIONS, Access.WRITE)
        try:
            value = keys.check(key, value)
        except keys.UnknownOption as e:
            raise NotFound("option", key) from e
        except ConfigError as e:
            raise Invalid("value", invalid(e, key).reason) from e

        def work() -> None:
            with self.catalog.change() as tx:
                if key == keys.REFERENCES_COST_MODEL and value and tx.cost_model(value) is None:
                    raise Invalid("value", f"no cost model named {value!r}")
                before = tx.option(key)
                tx.set_option(key, value)
                audit(tx, actor, "set", Kind.OPTION, key, before, value)
        await run(work)
        return OptionView(key, value, self._default(key), True)

    async def clear(self, actor: Actor, key: str) -> OptionView:
        """Back to the configuration file's value."""
        require(actor, Section.OPTIONS, Access.WRITE)
        if key not in keys.OPTIONS:
            raise NotFound("option", key)

        def work() -> None:
            with self.catalog.change() as tx:
                before = tx.option(key)
                tx.clear_option(key)
                audit(tx, actor, "clear", Kind.OPTION, key, before, None)
        await run(work)
        return OptionView(key, self._default(key), self._default(key), False)
