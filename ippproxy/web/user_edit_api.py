"""``/api/v1/users/{name}``: edit (``PATCH``), the edit view with every field
(``GET .../properties``), a new UUID token, a new balance, delete, erase and the personal
data download; ``POST /api/v1/users`` creates an internal user (``services.user_edit``,
``services.user_life``; issue 18). A deleted user answers 409."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ippproxy.services.abstract_user import remove_held_documents
from ippproxy.services.actor import Access, Section
from ippproxy.services.errors import NotFound
from ippproxy.services.user_edit import UserChanges, UserEdit
from ippproxy.services.user_life import NewUser, UserLife
from ippproxy.web import user_edit_models as m
from ippproxy.web.api import Call, Operation


def edit_of(call: Call) -> UserEdit:
    if call.services.user_edit is None:
        raise NotFound("directory", "users (accounting is off)")
    return call.services.user_edit


def life_of(call: Call) -> UserLife:
    if call.services.user_life is None:
        raise NotFound("directory", "users (accounting is off)")
    return call.services.user_life


def changes(body: m.UserPatch) -> UserChanges:
    emails = " ".join(body.emails) if isinstance(body.emails, list) else body.emails
    return UserChanges(full_name=body.full_name, admin=body.admin, person=body.person,
                       disabled=body.disabled, emails=emails, card_number=body.card_number,
                       card_format=body.card_format, card_order=body.card_order,
                       id_number=body.id_number, pin=body.pin, password=body.password,
                       credit_source=body.credit_source, credit_limit=body.credit_limit)


async def get_user_properties(call: Call) -> Any:
    return await asyncio.to_thread(edit_of(call).details, call.who(), call.path["name"])


async def patch_user(call: Call) -> Any:
    after = await asyncio.to_thread(edit_of(call).update, call.who(), call.path["name"],
                                    changes(call.body))
    if call.body.person is False:  # abstract: its held documents are removed
        await remove_held_documents(call.services.jobs, call.who(), after["username"])
    return after


async def new_user_token(call: Call) -> Any:
    return await asyncio.to_thread(edit_of(call).new_token, call.who(), call.path["name"])


async def notify_balance(call: Call, username: str, balance: str) -> None:
    if call.services.notices is not None:
        await call.services.notices.balance_set(
            username, f"An administrator set your balance to {balance}.")


async def set_user_balance(call: Call) -> Any:
    body: m.BalanceSet = call.body
    after, posting = await asyncio.to_thread(edit_of(call).set_balance, call.who(),
                                             call.path["name"], body.balance, body.reason,
                                             body.key)
    if posting is not None:
        await notify_balance(call, after["username"], f"{after['balance']} "
                             f"({after['currency']} minor units)")
    return after


async def create_internal_user(call: Call) -> Any:
    body: m.NewInternalUser = call.body
    name = await asyncio.to_thread(life_of(call).create_internal, call.who(),
                                   NewUser(body.username, body.password, body.full_name,
                                           body.emails))
    return {"username": name}


async def delete_user(call: Call) -> Any:
    return await asyncio.to_thread(life_of(call).delete, call.who(), call.path["name"])


async def erase_user(call: Call) -> Any:
    return await asyncio.to_thread(life_of(call).erase, call.who(), call.path["name"])


def zip_response(data: bytes, username: str) -> web.Response:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                   for c in username)[:64]
    return web.Response(body=data, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="personal-data-{safe}.zip"',
        "Cache-Control": "no-store"})


async def export_user_data(call: Call) -> Any:
    name = call.path["name"]
    data = await asyncio.to_thread(life_of(call).export_zip, call.who(), name)
    return zip_response(data, name)


_NAME = {"name": "the user's name (case does not matter)"}
OPERATIONS = (
    Operation("GET", "/users/{name}/properties", get_user_properties,
              "Every editable field of a user", "users", Section.USERS, Access.READ,
              response=m.UserEditOut, path_params=_NAME),
    Operation("PATCH", "/users/{name}", patch_user, "Edit a user (fields left out stay)",
              "users", Section.USERS, Access.WRITE, body=m.UserPatch,
              response=m.UserEditOut, path_params=_NAME),
    Operation("POST", "/users/{name}/token", new_user_token,
              "A new UUID token (the old one stops working)", "users", Section.USERS,
              Access.WRITE, response=m.UserEditOut, path_params=_NAME),
    Operation("PUT", "/users/{name}/balance", set_user_balance,
              "Set the balance: a correction transaction with a reason", "users",
              Section.FINANCE, Access.WRITE, body=m.BalanceSet, response=m.UserEditOut,
              path_params=_NAME),
    Operation("POST", "/users", create_internal_user, "Create an internal user", "users",
              Section.USERS, Access.WRITE, body=m.NewInternalUser, response=m.Created,
              status=201),
    Operation("DELETE", "/users/{name}", delete_user,
              "Delete a user (logical while it has history)", "users", Section.USERS,
              Access.WRITE, response=m.Deleted, path_params=_NAME),
    Operation("POST", "/users/{name}/erasure", erase_user,
              "Erase a user's personal data (GDPR art. 17)", "users", Section.USERS,
              Access.WRITE, response=m.Erased, path_params=_NAME),
    Operation("GET", "/users/{name}/personal-data", export_user_data,
              "The user's personal data, one ZIP of JSON and CSV (GDPR art. 15, 20)",
              "users", Section.USERS, Access.READ, path_params=_NAME),
)
