"""Groups' settings (price multiplier, what a new member starts with) and quotas, and the
options kept in the database (``services.groups``, ``services.options``). A provisioned
group answers 409 with the reason to a change of its settings; its quota is not the file's
and may change."""

from __future__ import annotations

from typing import Any

from ippproxy.config import GroupConfig
from ippproxy.services.actor import Access, Section
from ippproxy.services.options import OptionView
from ippproxy.services.views import Stored
from ippproxy.web import catalog_models as c
from ippproxy.web.api import Call, Operation


def _group(s: Stored[GroupConfig]) -> dict[str, Any]:
    g = s.config
    return {"name": g.name, "multiplier": g.multiplier, "initial_balance": g.initial_balance,
            "restricted": g.restricted, "credit_limit": g.credit_limit,
            "provisioned": s.provisioned}


async def list_group_settings(call: Call) -> Any:
    return {"items": [_group(s) for s in await call.services.catalog.groups.list(call.who())]}


async def get_group_settings(call: Call) -> Any:
    return _group(await call.services.catalog.groups.get(call.who(), call.path["name"]))


async def create_group(call: Call) -> Any:
    body: c.GroupCreate = call.body
    g = await call.services.catalog.groups.create(call.who(), body.model_dump(exclude_none=True))
    return _group(await call.services.catalog.groups.get(call.who(), g.name))


async def update_group_settings(call: Call) -> Any:
    body: c.GroupFields = call.body
    g = await call.services.catalog.groups.update(call.who(), call.path["name"],
                                                  body.model_dump(exclude_none=True))
    return _group(await call.services.catalog.groups.get(call.who(), g.name))


async def delete_group(call: Call) -> Any:
    await call.services.catalog.groups.delete(call.who(), call.path["name"])


async def get_quota(call: Call) -> Any:
    name = call.path["name"]
    return {"group": name, **await call.services.catalog.groups.quota(call.who(), name)}


async def set_quota(call: Call) -> Any:
    body: c.Quota = call.body
    name = call.path["name"]
    return {"group": name, **await call.services.catalog.groups.set_quota(
        call.who(), name, body.period, body.amount, body.cap)}


def _option(o: OptionView) -> dict[str, Any]:
    return {"key": o.key, "value": o.value, "default": o.default, "set_here": o.set_here}


async def list_options(call: Call) -> Any:
    return {"items": [_option(o) for o in await call.services.catalog.options.list(call.who())]}


async def get_option(call: Call) -> Any:
    return _option(await call.services.catalog.options.get(call.who(), call.path["name"]))


async def set_option(call: Call) -> Any:
    body: c.OptionSet = call.body
    return _option(await call.services.catalog.options.set(call.who(), call.path["name"],
                                                           body.value))


async def clear_option(call: Call) -> Any:
    return _option(await call.services.catalog.options.clear(call.who(), call.path["name"]))


_GROUP = {"name": "the group's name (case does not matter)"}
_KEY = {"name": "the option's key, e.g. accounting.unknown_users"}
_U, _F, _O = Section.USERS, Section.FINANCE, Section.OPTIONS
OPERATIONS = (
    Operation("GET", "/group-settings", list_group_settings,
              "Every group's price multiplier and new-member settings", "groups", _U,
              Access.READ, response=c.GroupSettingsList),
    Operation("POST", "/groups", create_group, "Add a group with its settings", "groups", _U,
              Access.WRITE, body=c.GroupCreate, response=c.GroupSettingsOut, status=201),
    Operation("GET", "/groups/{name}/settings", get_group_settings, "A group's settings",
              "groups", _U, Access.READ, response=c.GroupSettingsOut, path_params=_GROUP),
    Operation("PATCH", "/groups/{name}/settings", update_group_settings,
              "Change a group's settings (not a provisioned one)", "groups", _U,
              Access.WRITE, body=c.GroupFields, response=c.GroupSettingsOut,
              path_params=_GROUP),
    Operation("DELETE", "/groups/{name}", delete_group,
              "Delete a group (its users and their accounts stay)", "groups", _U,
              Access.WRITE, path_params=_GROUP),
    Operation("GET", "/groups/{name}/quota", get_quota, "A group's quota", "groups", _F,
              Access.READ, response=c.QuotaOut, path_params=_GROUP),
    Operation("PUT", "/groups/{name}/quota", set_quota,
              "Give each member an amount per period, up to a cap", "groups", _F,
              Access.WRITE, body=c.Quota, response=c.QuotaOut, path_params=_GROUP),
    Operation("GET", "/options", list_options, "The options and where each value comes from",
              "options", _O, Access.READ, response=c.OptionList),
    Operation("GET", "/options/{name}", get_option, "One option", "options", _O, Access.READ,
              response=c.OptionOut, path_params=_KEY),
    Operation("PUT", "/options/{name}", set_option, "Set an option on every node", "options",
              _O, Access.WRITE, body=c.OptionSet, response=c.OptionOut, path_params=_KEY),
    Operation("DELETE", "/options/{name}", clear_option,
              "Clear an option: back to the configuration file's value", "options", _O,
              Access.WRITE, response=c.OptionOut, path_params=_KEY),
)
