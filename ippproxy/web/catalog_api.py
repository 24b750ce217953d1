"""``/api/v1/cost-models`` and ``/api/v1/rules`` (with their order): list, get, create,
update, delete, move (``services.cost_models``, ``services.rules``). A provisioned object
answers 409 with the reason to any change."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ippproxy.catalog.store import spec
from ippproxy.services.actor import Access, Section
from ippproxy.web import catalog_models as c
from ippproxy.web.api import Call, Operation
from ippproxy.web.listing import page


# -- cost models --------------------------------------------------------------------------
async def list_cost_models(call: Call) -> Any:
    q: c.NamedQuery = call.query
    found = await call.services.catalog.cost_models.list(call.who())
    return page([{**spec(s.config), "provisioned": s.provisioned} for s in found], q, "name")


async def _cost_model(call: Call, name: str) -> dict[str, Any]:
    s = await call.services.catalog.cost_models.get(call.who(), name)
    return {**spec(s.config), "provisioned": s.provisioned}


def _fields(body: BaseModel) -> dict[str, Any]:
    fields: dict[str, Any] = body.model_dump(exclude_none=True)
    return fields


async def get_cost_model(call: Call) -> Any:
    return await _cost_model(call, call.path["name"])


async def create_cost_model(call: Call) -> Any:
    m = await call.services.catalog.cost_models.create(call.who(), _fields(call.body))
    return await _cost_model(call, m.name)


async def update_cost_model(call: Call) -> Any:
    name = call.path["name"]
    await call.services.catalog.cost_models.update(call.who(), name, _fields(call.body))
    return await _cost_model(call, name)


async def delete_cost_model(call: Call) -> Any:
    await call.services.catalog.cost_models.delete(call.who(), call.path["name"])


# -- rules --------------------------------------------------------------------------------
async def _rules(call: Call) -> list[dict[str, Any]]:
    found = await call.services.catalog.rules.list(call.who())
    return [{**spec(s.config), "position": i, "provisioned": s.provisioned}
            for i, s in enumerate(found, start=1)]


async def _rule(call: Call, name: str) -> dict[str, Any]:
    for r in await _rules(call):
        if r["name"] == name:
            return r
    await call.services.catalog.rules.get(call.who(), name)  # 404
    raise AssertionError("listed rules and get disagree")  # pragma: no cover


async def list_rules(call: Call) -> Any:
    return page(await _rules(call), call.query)


async def get_rule(call: Call) -> Any:
    return await _rule(call, call.path["name"])


async def create_rule(call: Call) -> Any:
    body: c.RuleCreate = call.body
    fields = body.model_dump(exclude_none=True, exclude={"position"})
    r = await call.services.catalog.rules.create(call.who(), fields, body.position)
    return await _rule(call, r.name)


async def update_rule(call: Call) -> Any:
    name = call.path["name"]
    await call.services.catalog.rules.update(call.who(), name, _fields(call.body))
    return await _rule(call, name)


async def move_rule(call: Call) -> Any:
    body: c.RuleMove = call.body
    order = await call.services.catalog.rules.move(call.who(), call.path["name"],
                                                   body.position)
    return {"order": list(order)}


async def delete_rule(call: Call) -> Any:
    await call.services.catalog.rules.delete(call.who(), call.path["name"])


_NAME = {"name": "the object's name"}
_F, _P = Section.FINANCE, Section.PRINTERS
OPERATIONS = (
    Operation("GET", "/cost-models", list_cost_models, "List cost models", "cost-models",
              _F, Access.READ, query=c.NamedQuery, response=c.CostModelPage),
    Operation("GET", "/cost-models/{name}", get_cost_model, "One cost model", "cost-models",
              _F, Access.READ, response=c.CostModelOut, path_params=_NAME),
    Operation("POST", "/cost-models", create_cost_model,
              "Add a cost model (page prices, media prices, duplex discount, job fee)",
              "cost-models", _F, Access.WRITE, body=c.CostModelCreate,
              response=c.CostModelOut, status=201),
    Operation("PATCH", "/cost-models/{name}", update_cost_model,
              "Change a cost model (not a provisioned one)", "cost-models", _F,
              Access.WRITE, body=c.CostModelFields, response=c.CostModelOut,
              path_params=_NAME),
    Operation("DELETE", "/cost-models/{name}", delete_cost_model,
              "Delete a cost model no queue or option uses", "cost-models", _F,
              Access.WRITE, path_params=_NAME),
    Operation("GET", "/rules", list_rules, "List rules in the order they apply", "rules",
              _P, Access.READ, query=c.NamedQuery, response=c.RulePage),
    Operation("GET", "/rules/{name}", get_rule, "One rule", "rules", _P, Access.READ,
              response=c.RuleOut, path_params=_NAME),
    Operation("POST", "/rules", create_rule, "Add a rule (last, or at a position)", "rules",
              _P, Access.WRITE, body=c.RuleCreate, response=c.RuleOut, status=201),
    Operation("PATCH", "/rules/{name}", update_rule, "Change a rule (not a provisioned one)",
              "rules", _P, Access.WRITE, body=c.RuleUpdate, response=c.RuleOut,
              path_params=_NAME),
    Operation("POST", "/rules/{name}/move", move_rule, "Move a rule to a position",
              "rules", _P, Access.WRITE, body=c.RuleMove, response=c.RuleOrder,
              path_params=_NAME),
    Operation("DELETE", "/rules/{name}", delete_rule, "Delete a rule", "rules", _P,
              Access.WRITE, path_params=_NAME),
)
