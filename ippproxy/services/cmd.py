"""``ippproxy cmd`` for the catalog: queues, cost models, rules, options, groups, the audit
log, through the same services as the REST API and the admin pages, as the operator at the
server (``Actor.system(via=COMMAND)``: whoever can run it can read the database anyway).

    ippproxy cmd [--config FILE] [--json] queue add NAME destination=ipp://printer/ipp/print
    ippproxy cmd queue list | show NAME | set NAME KEY=VALUE... | delete NAME
    ippproxy cmd queue pause NAME [--message TEXT] | resume NAME | accept NAME | reject NAME
    ippproxy cmd queue purge NAME
    ippproxy cmd cost-model list | show NAME | set NAME KEY=VALUE... | delete NAME
    ippproxy cmd rule list | add NAME type=max-pages limit=50 [--position N] | set NAME ...
    ippproxy cmd rule move NAME POSITION | delete NAME
    ippproxy cmd option list | set KEY VALUE | clear KEY
    ippproxy cmd group list | set NAME KEY=VALUE... | delete NAME
    ippproxy cmd group quota NAME [period=monthly amount=5.00 cap=20.00]
    ippproxy cmd audit [--kind K] [--name N] [--actor A] [--limit N] [--before-id ID]

``KEY=VALUE`` uses the keys of the configuration file's tables; a value is read as TOML
(``limit=50``, ``printers=["a","b"]``, ``media=[{name="iso_a3_297x420mm", mono="0.20"}]``)
and, when it is not TOML, as a string (``info=Second floor``). ``set`` creates the object
when it does not exist. The database is the one ``--config`` names (the embedded default's
without it). An error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
import tomllib
from typing import Any

from ippproxy.accounting.cmdtext import render
from ippproxy.accounting.identity import os_user
from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.config import Config
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore

from .actor import Actor, Via
from .audit import AuditService
from .cost_models import CostModelService
from .errors import NotFound, ServiceError
from .groups import GroupService
from .options import OptionService
from .provisioning import export_config
from .queues import QueueService
from .rules import RuleService
from .views import Stored

GROUPS = ("queue", "cost-model", "rule", "option", "group", "audit")


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="group", required=True)
    q = sub.add_parser("queue").add_subparsers(dest="action", required=True)
    q.add_parser("list")
    for action in ("show", "delete", "resume", "accept", "purge"):
        q.add_parser(action).add_argument("name")
    for action in ("pause", "reject"):
        s = q.add_parser(action)
        s.add_argument("name")
        s.add_argument("--message", default="")
    for action in ("add", "set"):
        s = q.add_parser(action)
        s.add_argument("name")
        s.add_argument("values", nargs="*", metavar="KEY=VALUE")
    for group in ("cost-model", "group"):
        g = sub.add_parser(group).add_subparsers(dest="action", required=True)
        g.add_parser("list")
        if group == "group":
            s = g.add_parser("quota", help="show, or set with period= amount= cap=")
            s.add_argument("name")
            s.add_argument("values", nargs="*", metavar="KEY=VALUE")
        for action in ("show", "delete"):
            g.add_parser(action).add_argument("name")
        s = g.add_parser("set")
        s.add_argument("name")
        s.add_argument("values", nargs="*", metavar="KEY=VALUE")
    r = sub.add_parser("rule").add_subparsers(dest="action", required=True)
    r.add_parser("list")
    s = r.add_parser("move")
    s.add_argument("name")
    s.add_argument("position", type=int, help="1: the first rule")
    for action in ("show", "delete"):
        r.add_parser(action).add_argument("name")
    for action in ("add", "set"):
        s = r.add_parser(action)
        s.add_argument("name")
        s.add_argument("values", nargs="*", metavar="KEY=VALUE")
        if action == "add":
            s.add_argument("--position", type=int, help="1: the first rule (default: last)")
    o = sub.add_parser("option").add_subparsers(dest="action", required=True)
    o.add_parser("list")
    s = o.add_parser("set")
    s.add_argument("key")
    s.add_argument("value")
    o.add_parser("clear").add_argument("key")
    a = sub.add_parser("audit")
    for flag in ("--kind", "--name", "--actor", "--action"):
        a.add_argument(flag)
    a.add_argument("--limit", type=int, default=100)
    a.add_argument("--before-id", type=int)
    return p


def _operator() -> str:
    """Who runs the command, for the audit log: the OS user (accounting's ledger rows
    name the same one)."""
    return os_user()


def toml_value(text: str) -> Any:
    """``50`` -> 50, ``true`` -> True, ``["a"]`` -> ["a"]; not TOML: the text itself."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def pairs(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"expected KEY=VALUE, got {item!r}")
        out[key.strip()] = toml_value(value)
    return out


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):   # ISO 8601 in UTC with the offset
        zoned = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return zoned.astimezone(dt.UTC).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def _upsert(service: Any, actor: Actor, name: str, values: dict[str, Any]) -> Any:
    try:
        await service.get(actor, name)
    except NotFound:
        return await service.create(actor, {"name": name, **values})
    return await service.update(actor, name, values)


async def _run(a: argparse.Namespace, config: Config) -> Any:
    engine = make_engine(config.storage.database)
    try:
        await asyncio.to_thread(upgrade, engine)
        catalog = Catalog(engine)
        actor = Actor.system(name=f"cmd:{_operator()}", via=Via.COMMAND)
        if a.group == "queue":
            async with JobStore(engine) as store:
                return await _queue(a, QueueService(catalog, store, config), actor)
        if a.group == "cost-model":
            return await _objects(a, CostModelService(catalog), actor)
        if a.group == "group":
            groups = GroupService(catalog, config)
            if a.action == "quota":
                return await _quota(a, groups, actor)
            return await _objects(a, groups, actor)
        if a.group == "rule":
            rules = RuleService(catalog)
            if a.action == "add":
                return await rules.create(actor, {"name": a.name, **pairs(a.values)},
                                          a.position)
            if a.action == "move":
                return {"order": await rules.move(actor, a.name, a.position)}
            return await _objects(a, rules, actor)
        if a.group == "option":
            options = OptionService(catalog, config)
            if a.action == "list":
                return await options.list(actor)
            if a.action == "set":
                return await options.set(actor, a.key, toml_value(a.value))
            return await options.clear(actor, a.key)
        query = AuditQuery(actor=a.actor, kind=a.kind, name=a.name, action=a.action,
                           before_id=a.before_id, limit=a.limit)
        return await AuditService(catalog).list(actor, query)
    finally:
        engine.dispose()


async def _queue(a: argparse.Namespace, queues: QueueService, actor: Actor) -> Any:
    match a.action:
        case "list":
            return await queues.list(actor)
        case "show":
            return await queues.get(actor, a.name)
        case "add":
            return await queues.create(actor, {"name": a.name, **pairs(a.values)})
        case "set":
            return await queues.update(actor, a.name, pairs(a.values))
        case "delete":
            return {"deleted": a.name, "jobs_canceled": await queues.delete(actor, a.name)}
        case "pause":
            return await queues.pause(actor, a.name, a.message)
        case "resume":
            return await queues.resume(actor, a.name)
        case "accept":
            return await queues.set_accepting(actor, a.name, True)
        case "reject":
            return await queues.set_accepting(actor, a.name, False, a.message)
        case _:
            return {"purged": a.name, "jobs_canceled": await queues.purge(actor, a.name)}


async def _quota(a: argparse.Namespace, groups: GroupService, actor: Actor) -> Any:
    values = {k: str(v) for k, v in pairs(a.values).items()}
    if not values:
        return await groups.quota(actor, a.name)
    unknown = set(values) - {"period", "amount", "cap"}
    if unknown:
        raise UsageError(f"quota keys are period, amount and cap, not {', '.join(unknown)}")
    return await groups.set_quota(actor, a.name, values.get("period", ""),
                                  values.get("amount", "0"), values.get("cap"))


async def _objects(a: argparse.Namespace, service: Any, actor: Actor) -> Any:
    match a.action:
        case "list":
            return [_flag(x) for x in await service.list(actor)]
        case "show":
            return _flag(await service.get(actor, a.name))
        case "set":
            return await _upsert(service, actor, a.name, pairs(a.values))
        case _:
            await service.delete(actor, a.name)
            return {"deleted": a.name}


def _flag(found: Stored[Any]) -> dict[str, Any]:
    return {**plain(found.config), "provisioned": found.provisioned}


def _flat(row: Any) -> dict[str, Any]:
    """One object with a nested object's keys inline (a queue's state beside its keys)."""
    flat: dict[str, Any] = {}
    for k, v in (row.items() if isinstance(row, dict) else [("value", row)]):
        flat.update(v if isinstance(v, dict) else {k: v})
    return flat


def _text(result: Any, config: Config) -> str:
    """For people: a list as an aligned table, one object as ``key: value`` lines."""
    rows = plain(result)
    a = config.accounting
    flat: Any = [_flat(r) for r in rows] if isinstance(rows, list) else _flat(rows)
    return render(flat, a.currency, a.minor_unit_digits)


def queues_authenticate(config: Config, database: str) -> bool:
    """Whether a queue asks its users for a password (``authentication = "basic"``), in
    the file or in the catalog of ``database``: then a new user needs one."""
    if any(q.authentication == "basic" for q in config.queues):
        return True
    engine = make_engine(database)
    try:
        upgrade(engine)
        snapshot = Catalog(engine).snapshot()
    finally:
        engine.dispose()
    return any(q.authentication == "basic" for q in snapshot.queues)


def export_text(config: Config) -> str:
    """The database's catalog as provisioning TOML (``ippproxy export-config``)."""
    async def export() -> str:
        engine = make_engine(config.storage.database)
        try:
            await asyncio.to_thread(upgrade, engine)
            return await export_config(Catalog(engine), config,
                                       Actor.system(name="export-config", via=Via.COMMAND))
        finally:
            engine.dispose()
    return asyncio.run(export())


def main(argv: list[str], config: Config) -> int:
    parser = _parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        result = asyncio.run(_run(a, config))
    except (ServiceError, UsageError) as e:
        detail = e.detail if isinstance(e, ServiceError) else str(e)
        print(f"ippproxy cmd: {type(e).__name__.lower()}: {detail}", file=sys.stderr)
        return 2
    print(json.dumps(plain(result), indent=2) if a.json else _text(result, config))
    return 0
