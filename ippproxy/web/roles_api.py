"""``/api/v1/users/{name}/roles`` (a user's resolved roles and the level that decided
each) and ``/api/v1/groups/{name}/roles`` (a group's tri-states, the built-in
``internal-users``, ``external-users`` and ``all-users`` too), over
``services.user_roles``; every change audited with before and after by the service."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from pydantic import Field

from ippproxy.accounting.identity import canonical_name
from ippproxy.services.actor import Access, Section
from ippproxy.services.errors import NotFound
from ippproxy.services.user_roles import UserRoles
from ippproxy.web.api import Call, Operation
from ippproxy.web.models import Request, Response

RoleName = Literal["print-job-creator", "print-delegate", "print-delegator",
                   "release-approver", "web-cashier"]
StateName = Literal["enabled", "disabled", "indeterminate"]


class ResolvedRole(Response):
    state: StateName  # the user's own state
    granted: bool
    source: str  # "user", "group <name>", "internal-users", "external-users", "all-users", "default"


class UserRolesOut(Response):
    user: str
    roles: dict[RoleName, ResolvedRole]


class GroupRolesOut(Response):
    group: str
    roles: dict[RoleName, StateName]


class GroupRolesIn(Request):
    roles: Annotated[dict[RoleName, StateName], Field(min_length=1)]


def _roles(call: Call) -> UserRoles:
    if call.services.user_roles is None:
        raise NotFound("directory", "roles (accounting is off)")
    return call.services.user_roles


async def get_user_roles(call: Call) -> Any:
    name = call.path["name"]
    roles = await asyncio.to_thread(_roles(call).user_roles, call.who(), name)
    return {"user": canonical_name(name), "roles": roles}


async def get_group_roles(call: Call) -> Any:
    name = call.path["name"]
    return {"group": name,
            "roles": await asyncio.to_thread(_roles(call).group_roles, call.who(), name)}


async def set_group_roles(call: Call) -> Any:
    body: GroupRolesIn = call.body
    name = call.path["name"]
    roles = await asyncio.to_thread(_roles(call).set_group_roles, call.who(), name,
                                    {str(k): str(v) for k, v in body.roles.items()})
    return {"group": name, "roles": roles}


_NAME = {"name": "the user's or group's name (case does not matter); for groups also "
                 "internal-users, external-users or all-users"}
OPERATIONS = (
    Operation("GET", "/users/{name}/roles", get_user_roles,
              "A user's roles: granted or not, and which level decided", "users",
              Section.USERS, Access.READ, response=UserRolesOut, path_params=_NAME),
    Operation("GET", "/groups/{name}/roles", get_group_roles,
              "A group's role states (enabled, disabled, indeterminate)", "groups",
              Section.USERS, Access.READ, response=GroupRolesOut, path_params=_NAME),
    Operation("PUT", "/groups/{name}/roles", set_group_roles,
              "Set some of a group's role states (audited)", "groups", Section.USERS,
              Access.WRITE, body=GroupRolesIn, response=GroupRolesOut, path_params=_NAME),
)
