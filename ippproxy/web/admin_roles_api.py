"""``/api/v1/users/{name}/admin`` and ``/groups/{name}/admin`` (the admin role, granted
or taken back by a full admin) and ``/session/password`` (one's own password, the master
account's included), over ``services.admin_roles``."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Access, Section
from ippproxy.services.admin_roles import AdminRoles
from ippproxy.web import models as m
from ippproxy.web.api import Call, Operation
from ippproxy.web.auth import clear_session_cookie
from ippproxy.web.users_api import get_user


def _roles(call: Call) -> AdminRoles:
    return AdminRoles(call.services.admins)


async def set_user_admin(call: Call) -> Any:
    body: m.AdminRole = call.body
    await asyncio.to_thread(_roles(call).set_user_admin, call.who(), call.path["name"],
                            body.admin)
    return await get_user(call)


async def set_group_admin(call: Call) -> Any:
    body: m.AdminRole = call.body
    name = call.path["name"]
    rights = await asyncio.to_thread(_roles(call).set_group_admin, call.who(), name,
                                     body.admin)
    return {"group": name, "rights": {str(s): rights[s].name.lower() for s in Section}}


async def change_password(call: Call) -> Any:
    """The password changed, every session of the principal ends (this one too): log in
    again with the new one."""
    body: m.PasswordChange = call.body
    principal = await asyncio.to_thread(_roles(call).change_own_password, call.who(),
                                        body.current_password, body.new_password)
    await asyncio.to_thread(call.services.sessions.end_all, principal)
    response = web.Response(status=204)
    clear_session_cookie(response)
    return response


_NAME = {"name": "the user's or group's name (case does not matter)"}
OPERATIONS = (
    Operation("PUT", "/users/{name}/admin", set_user_admin,
              "Grant or take back a user's admin role (full admins only)", "users",
              Section.USERS, Access.WRITE, body=m.AdminRole, response=m.UserOut,
              path_params=_NAME),
    Operation("PUT", "/groups/{name}/admin", set_group_admin,
              "Make a group's members full admins of every section, or of none (full "
              "admins only)", "groups", Section.USERS, Access.WRITE, body=m.AdminRole,
              response=m.GroupRightsOut, path_params=_NAME),
    Operation("POST", "/session/password", change_password,
              "Change one's own password (the master account's too), proving the current "
              "one; every session of the account ends", "session", body=m.PasswordChange),
)
