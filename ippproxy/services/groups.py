"""Groups' settings: the price multiplier and what a user created into the group starts
with (balance, restricted, credit limit). They live in accounting's groups table (members,
accounts and quotas stay accounting's business); a change and its audit entry are written
in one transaction, and the catalog's version bump tells every node to re-read the
multipliers. Amounts are decimal strings in the major unit, as in ``[[group]]``.
"""

from __future__ import annotations

from typing import Any

from ippproxy.accounting import groupsettings
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.groupsettings import (
    GroupQuota,
    GroupSettings,
    delete_group,
    get_group,
    get_quota,
    list_groups,
    put_group,
    set_quota,
    to_config,
)
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import parse_money
from ippproxy.accounting.quota import Period
from ippproxy.catalog import Catalog, Kind
from ippproxy.config import Config, GroupConfig, group_from_dict

from .actor import Access, Actor, Section
from .changes import audit, check, not_provisioned, require, run
from .errors import Conflict, Invalid, NotFound
from .views import Stored


def to_settings(g: GroupConfig, exponent: int, provisioned: bool = False) -> GroupSettings:
    try:
        return groupsettings.to_settings(g, exponent, provisioned)
    except ValueError as e:
        raise Invalid("initial_balance", str(e)) from e


def _known(name: str) -> str:
    """``name`` canonical; one that cannot be a group's name (control characters, empty)
    names no group."""
    try:
        return canonical_name(name)
    except ValueError:
        raise NotFound("group", name) from None


def _record(g: GroupConfig) -> dict[str, Any]:
    return {"name": g.name, "multiplier": g.multiplier, "initial_balance": g.initial_balance,
            "restricted": g.restricted, "credit_limit": g.credit_limit}


class GroupService:
    def __init__(self, catalog: Catalog, config: Config) -> None:
        self.catalog = catalog
        self.exponent = config.accounting.minor_unit_digits

    async def list(self, actor: Actor) -> list[Stored[GroupConfig]]:
        require(actor, Section.USERS, Access.READ)
        rows = await run(lambda: self.catalog.read(lambda tx: list_groups(tx.conn)))
        return [Stored(to_config(g, self.exponent), g.provisioned) for g in rows]

    async def get(self, actor: Actor, name: str) -> Stored[GroupConfig]:
        wanted = _known(name)
        for found in await self.list(actor):
            if found.config.name == wanted:
                return found
        raise NotFound("group", name)

    def _checked(self, raw: dict[str, Any]) -> GroupSettings:
        g = check("group", group_from_dict, raw)
        try:
            canonical_name(g.name)
        except ValueError as e:
            raise Invalid("name", str(e)) from e
        return to_settings(g, self.exponent)

    async def create(self, actor: Actor, fields: dict[str, Any]) -> GroupConfig:
        require(actor, Section.USERS, Access.WRITE)

        def work() -> GroupConfig:
            with self.catalog.change() as tx:
                g = self._checked(fields)
                if get_group(tx.conn, g.name) is not None:
                    raise Conflict(f"a group named {g.name!r} exists")
                put_group(tx.conn, g)
                out = to_config(g, self.exponent)
                audit(tx, actor, "create", Kind.GROUP, g.name, after=_record(out))
                return out
        return await run(work)

    async def update(self, actor: Actor, name: str, changes: dict[str, Any]) -> GroupConfig:
        require(actor, Section.USERS, Access.WRITE)
        name = _known(name)

        def work() -> GroupConfig:
            with self.catalog.change() as tx:
                found = get_group(tx.conn, name)
                if found is None:
                    raise NotFound("group", name)
                not_provisioned(Kind.GROUP, found.name, found.provisioned)
                before = to_config(found, self.exponent)
                if "name" in changes and canonical_name(str(changes["name"])) != found.name:
                    raise Invalid("name", "a group cannot be renamed")
                g = self._checked({**_record(before), **changes, "name": found.name})
                put_group(tx.conn, g)
                after = to_config(g, self.exponent)
                audit(tx, actor, "update", Kind.GROUP, g.name, _record(before), _record(after))
                return after
        return await run(work)

    # -- quotas (scheduled allocations, accounting/quota.py) --------------------------------
    def _quota_record(self, q: GroupQuota) -> dict[str, Any]:
        return {"period": q.period, "amount": groupsettings.amount(q.amount, self.exponent),
                "cap": None if q.cap is None else groupsettings.amount(q.cap, self.exponent)}

    def _minor(self, field: str, text: str) -> int:
        try:
            value = parse_money(text, self.exponent)
        except ValueError as e:
            raise Invalid(field, str(e)) from e
        if value < 0:
            raise Invalid(field, "must not be negative")
        return value

    async def quota(self, actor: Actor, name: str) -> dict[str, Any]:
        """The group's quota: ``period``, ``amount`` and ``cap`` (decimal strings)."""
        require(actor, Section.FINANCE, Access.READ)
        name = _known(name)
        found = await run(lambda: self.catalog.read(lambda tx: get_quota(tx.conn, name)))
        if found is None:
            raise NotFound("group", name)
        return self._quota_record(found)

    async def set_quota(self, actor: Actor, name: str, period: str, amount: str = "0",
                        cap: str | None = None) -> dict[str, Any]:
        """Give each member ``amount`` once per ``period`` ("" for none), never above
        ``cap``. The configuration file does not declare quotas: this works on provisioned
        groups too, and ``export-config`` does not carry it."""
        require(actor, Section.FINANCE, Access.WRITE)
        name = _known(name)
        if period and period not in {p.value for p in Period}:
            raise Invalid("period", "one of daily, weekly, monthly, or empty for none")
        quota = GroupQuota(period, self._minor("amount", amount),
                           None if cap in (None, "") else self._minor("cap", str(cap)))

        def work() -> dict[str, Any]:
            with self.catalog.change() as tx:
                before = get_quota(tx.conn, name)
                if before is None:
                    raise NotFound("group", name)
                set_quota(tx.conn, name, quota)
                after = self._quota_record(quota)
                audit(tx, actor, "set-quota", Kind.GROUP, canonical_name(name),
                      self._quota_record(before), after)
                return after
        return await run(work)

    async def delete(self, actor: Actor, name: str) -> None:
        """The group and its memberships go; its users and their accounts stay."""
        require(actor, Section.USERS, Access.WRITE)
        name = _known(name)

        def work() -> None:
            with self.catalog.change() as tx:
                found = get_group(tx.conn, name)
                if found is None:
                    raise NotFound("group", name)
                not_provisioned(Kind.GROUP, found.name, found.provisioned)
                try:
                    delete_group(tx.conn, found.name)
                except AccountingError as e:
                    raise Conflict(str(e)) from e
                audit(tx, actor, "delete", Kind.GROUP, found.name,
                      before=_record(to_config(found, self.exponent)))
        await run(work)
