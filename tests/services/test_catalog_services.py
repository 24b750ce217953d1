"""Cost models, rules, options, groups and the audit log through their services, without
HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.config import Config, from_dict
from ippproxy.jobs.store import JobStore
from ippproxy.services.audit import AuditService
from ippproxy.services.cost_models import CostModelService
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.groups import GroupService
from ippproxy.services.options import OptionService
from ippproxy.services.provisioning import provision
from ippproxy.services.queues import QueueService
from ippproxy.services.rules import RuleService

from .conftest import ADMIN, NOBODY, OPERATOR


async def test_cost_models(catalog: Catalog, store: JobStore, config: Config) -> None:
    models = CostModelService(catalog)
    m = await models.create(ADMIN, {"name": "A4 mono", "mono": "0.10", "media": [
        {"name": "iso_a3_297x420mm", "mono": "0.20", "color": "0.80"}]})
    assert m.media[0].color == "0.80"
    for fields, field in (({"name": "x", "mono": "-1"}, "mono"),
                          ({"name": "x", "mono": "0.1.2"}, "mono"),
                          ({"name": "x", "duplex_discount": "1.5"}, "duplex_discount"),
                          ({"name": "x", "media": [{"mono": "1"}]}, "media[0].name"),
                          ({"name": " x"}, "name")):
        with pytest.raises(Invalid) as e:
            await models.create(ADMIN, fields)
        assert e.value.field == field
    with pytest.raises(Forbidden):
        await models.create(OPERATOR, {"name": "y"})          # finance: read only
    assert [x.config.name for x in await models.list(OPERATOR)] == ["A4 mono"]
    updated = await models.update(ADMIN, "A4 mono", {"mono": "0.12"})
    assert updated.mono == "0.12" and updated.media == m.media
    await QueueService(catalog, store, config).create(ADMIN, {"name": "q",
                                                              "cost_model": "A4 mono"})
    with pytest.raises(Conflict, match="used by queue"):
        await models.delete(ADMIN, "A4 mono")
    await models.create(ADMIN, {"name": "default"})
    await OptionService(catalog, config).set(ADMIN, "accounting.default_cost_model",
                                             "default")
    with pytest.raises(Conflict, match="default_cost_model"):
        await models.delete(ADMIN, "default")
    await OptionService(catalog, config).clear(ADMIN, "accounting.default_cost_model")
    await models.delete(ADMIN, "default")
    with pytest.raises(NotFound):
        await models.get(ADMIN, "default")


async def test_rules_keep_their_order_and_name_existing_queues(
        catalog: Catalog, store: JobStore, config: Config) -> None:
    rules = RuleService(catalog)
    await QueueService(catalog, store, config).create(ADMIN, {"name": "front"})
    await rules.create(ADMIN, {"name": "pages", "type": "max-pages", "limit": 50})
    await rules.create(ADMIN, {"name": "copies", "type": "max-copies", "limit": 5})
    await rules.create(ADMIN, {"name": "grey", "type": "force-grayscale",
                               "printers": ["front"]}, position=1)
    assert [r.config.name for r in await rules.list(ADMIN)] == ["grey", "pages", "copies"]
    for fields, field in (({"name": "x", "type": "max-pages"}, "limit"),
                          ({"name": "x", "type": "no-such-rule"}, "type"),
                          ({"name": "x", "type": "force-duplex", "printers": ["nope"]},
                           "printers"),
                          ({"type": "force-duplex"}, "name")):
        with pytest.raises(Invalid) as e:
            await rules.create(ADMIN, fields)
        assert e.value.field == field
    r = await rules.update(ADMIN, "pages", {"limit": 20})
    assert r.limit == 20
    assert [r.config.name for r in await rules.list(ADMIN)] == ["grey", "pages", "copies"]
    assert await rules.move(ADMIN, "grey", 3) == ("pages", "copies", "grey")
    assert await rules.move(ADMIN, "copies", 1) == ("copies", "pages", "grey")
    assert await rules.move(ADMIN, "copies", 99) == ("pages", "grey", "copies")
    with pytest.raises(Invalid):
        await rules.move(ADMIN, "copies", 0)
    [moved] = catalog.audit_log(AuditQuery(action="move", limit=1))
    assert moved.after == {"order": ["pages", "grey", "copies"]}
    await rules.delete(ADMIN, "grey")
    assert [r.config.name for r in await rules.list(ADMIN)] == ["pages", "copies"]
    with pytest.raises(Forbidden):
        await rules.delete(NOBODY, "pages")


async def test_options_are_typed_and_fall_back_to_the_file(catalog: Catalog) -> None:
    file = from_dict({"accounting": {"unknown_users": "refuse", "initial_balance": "2.00"}})
    options = OptionService(catalog, file)
    view = await options.get(ADMIN, "accounting.unknown_users")
    assert view.value == "refuse" and not view.set_here
    await options.set(ADMIN, "accounting.unknown_users", "create")
    await options.set(ADMIN, "accounting.restricted", "false")   # as a command line gives it
    await options.set(ADMIN, "accounting.initial_balance", "5.50")
    live = catalog.snapshot().apply(file)
    assert live.accounting.unknown_users == "create"
    assert live.accounting.restricted is False
    assert live.accounting.initial_balance == "5.50"
    for key, value in (("accounting.unknown_users", "maybe"),
                       ("accounting.initial_balance", "-1"),
                       ("accounting.restricted", "perhaps"),
                       ("analysis.unknown_pages", 3),
                       ("accounting.default_cost_model", "missing")):
        with pytest.raises(Invalid) as e:
            await options.set(ADMIN, key, value)
        assert e.value.field == "value"
    with pytest.raises(NotFound):
        await options.set(ADMIN, "server.port", 1)
    with pytest.raises(Forbidden):
        await options.set(OPERATOR, "accounting.unknown_users", "create")
    view = await options.clear(ADMIN, "accounting.unknown_users")
    assert view.value == "refuse" and not view.set_here
    assert catalog.snapshot().apply(file).accounting.unknown_users == "refuse"


async def test_groups_live_in_accounting_and_are_audited(catalog: Catalog,
                                                         config: Config) -> None:
    groups = GroupService(catalog, config)
    g = await groups.create(ADMIN, {"name": "Staff", "multiplier": "0.5",
                                    "initial_balance": "10.00", "restricted": False})
    assert (g.name, g.multiplier, g.initial_balance, g.restricted) == (
        "staff", "0.5", "10.00", False)
    with pytest.raises(Conflict):
        await groups.create(ADMIN, {"name": "STAFF"})
    with pytest.raises(Invalid) as e:
        await groups.create(ADMIN, {"name": "x", "initial_balance": "0.001"})
    assert e.value.field == "initial_balance"
    with pytest.raises(Forbidden):
        await groups.create(OPERATOR, {"name": "y"})
    assert (await groups.update(ADMIN, "staff", {"multiplier": "0.25"})).multiplier == "0.25"
    await provision(catalog, from_dict({"group": [{"name": "teachers"}]}))
    with pytest.raises(Conflict, match="provisioned"):
        await groups.update(ADMIN, "teachers", {"multiplier": "0"})
    await groups.delete(ADMIN, "staff")
    assert [(x.config.name, x.provisioned) for x in await groups.list(ADMIN)] == [("teachers", True)]
    actions = [(e.action, e.name) for e in catalog.audit_log(AuditQuery(kind="group"))]
    assert actions == [("delete", "staff"), ("provision", "teachers"),
                       ("update", "staff"), ("create", "staff")]


async def test_group_quotas(catalog: Catalog, config: Config) -> None:
    groups = GroupService(catalog, config)
    await provision(catalog, from_dict({"group": [{"name": "staff"}]}))
    assert await groups.quota(OPERATOR, "staff") == {"period": "", "amount": "0.00",
                                                     "cap": None}
    # Quotas are not in the file: a provisioned group's quota can be set.
    after = await groups.set_quota(ADMIN, "staff", "monthly", "5.00", "20")
    assert after == {"period": "monthly", "amount": "5.00", "cap": "20.00"}
    assert await groups.quota(ADMIN, "staff") == after
    for args, field in ((("yearly", "1"), "period"), (("daily", "-1"), "amount"),
                        (("daily", "1", "0.001"), "cap")):
        with pytest.raises(Invalid) as e:
            await groups.set_quota(ADMIN, "staff", *args)
        assert e.value.field == field
    with pytest.raises(Forbidden):
        await groups.set_quota(OPERATOR, "staff", "")
    with pytest.raises(NotFound):
        await groups.set_quota(ADMIN, "nobody", "")
    [entry] = catalog.audit_log(AuditQuery(action="set-quota"))
    assert entry.before["period"] == "" and entry.after["cap"] == "20.00"
    await provision(catalog, from_dict({"group": [{"name": "staff", "multiplier": "0.5"}]}))
    assert (await groups.quota(ADMIN, "staff"))["period"] == "monthly"   # provisioning kept it


async def test_audit_service_needs_the_audit_right_and_sane_queries(catalog: Catalog) -> None:
    audit = AuditService(catalog)
    await CostModelService(catalog).create(ADMIN, {"name": "m"})
    [entry] = await audit.list(ADMIN)
    assert (entry.actor, entry.action, entry.kind, entry.name) == ("alice", "create",
                                                                    "cost_model", "m")
    with pytest.raises(Forbidden):
        await audit.list(OPERATOR)
    with pytest.raises(Invalid):
        await audit.list(ADMIN, AuditQuery(limit=0))
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(Invalid):
        await audit.list(ADMIN, AuditQuery(since=now, until=now))
