"""``/api/v1/users``, ``/groups`` (with their admin rights), ``/accounts`` and their
transactions, and balance adjustments (``services.users``, ``services.admins``)."""

from __future__ import annotations

import asyncio
from typing import Any

from ippproxy.accounting.directory import Page
from ippproxy.services.actor import Access, Section
from ippproxy.services.errors import NotFound
from ippproxy.services.user_list import make_filter
from ippproxy.services.users import Users
from ippproxy.web import models as m
from ippproxy.web.api import Call, Operation


def _users(call: Call) -> Users:
    if call.services.users is None:
        raise NotFound("directory", "users (accounting is off)")
    return call.services.users


def _page(q: m.PageQuery, sort: str) -> Page:
    return Page(offset=q.offset, limit=q.limit, sort=sort, descending=q.order == "desc")


def _paged(items: list[dict[str, Any]], total: int, q: m.PageQuery) -> dict[str, Any]:
    return {"items": items, "total": total, "offset": q.offset, "limit": q.limit}


async def list_users(call: Call) -> Any:
    q: m.UserQuery = call.query
    listing = call.services.user_list
    if listing is None:
        raise NotFound("directory", "users (accounting is off)")
    role = q.role if q.admin is None else ("admin" if q.admin else "user")
    flt = make_filter(search=q.search, group=q.group, type=q.type, role=role,
                      status=q.status)
    items, total = await listing.page(call.who(), _page(q, q.sort), flt)
    return _paged(items, total, q)


async def get_user(call: Call) -> Any:
    return await asyncio.to_thread(_users(call).get_user, call.who(), call.path["name"])


async def list_groups(call: Call) -> Any:
    return {"items": await asyncio.to_thread(_users(call).list_groups, call.who())}


def _rights_out(group: str, rights: dict[Section, Access]) -> dict[str, Any]:
    return {"group": group, "rights": {str(s): rights.get(s, Access.NONE).name.lower()
                                       for s in Section}}


async def get_group_rights(call: Call) -> Any:
    name = call.path["name"]
    rights = await asyncio.to_thread(call.services.admins.group_rights, call.who(), name)
    return _rights_out(name, rights)


async def set_group_rights(call: Call) -> Any:
    body: m.GroupRights = call.body
    name = call.path["name"]
    wanted = {Section(s): Access[a.upper()] for s, a in body.rights.items()}
    await asyncio.to_thread(call.services.admins.set_group_rights, call.who(), name, wanted)
    return _rights_out(name, wanted)


async def list_accounts(call: Call) -> Any:
    q: m.AccountQuery = call.query
    items, total = await asyncio.to_thread(_users(call).list_accounts, call.who(),
                                           _page(q, q.sort), kind=q.kind)
    return _paged(items, total, q)


async def get_account(call: Call) -> Any:
    return await asyncio.to_thread(_users(call).get_account, call.who(), call.path["id"])


async def list_transactions(call: Call) -> Any:
    q: m.TransactionQuery = call.query
    items, total = await asyncio.to_thread(_users(call).transactions, call.who(),
                                           call.path["id"], _page(q, q.sort), kind=q.kind)
    return _paged(items, total, q)


async def adjust_balance(call: Call) -> Any:
    body: m.Adjustment = call.body
    after = await asyncio.to_thread(_users(call).adjust, call.who(), call.path["id"],
                                    body.amount, body.reason, body.key)
    if call.services.notices is not None:   # the owner's clients are told (issue 17)
        await call.services.notices.balance_corrected(after, body.amount, body.reason)
    return after


_NAME = {"name": "the user's or group's name (case does not matter)"}
_ID = {"id": "the account's id"}
OPERATIONS = (
    Operation("GET", "/users", list_users, "List users", "users", Section.USERS,
              Access.READ, query=m.UserQuery, response=m.UserPage),
    Operation("GET", "/users/{name}", get_user, "One user", "users", Section.USERS,
              Access.READ, response=m.UserOut, path_params=_NAME),
    Operation("GET", "/groups", list_groups, "List groups", "groups", Section.USERS,
              Access.READ, response=m.GroupList),
    Operation("GET", "/groups/{name}/rights", get_group_rights,
              "The sections a group's members may administer", "groups", Section.USERS,
              Access.READ, response=m.GroupRightsOut, path_params=_NAME),
    Operation("PUT", "/groups/{name}/rights", set_group_rights,
              "Set the sections a group's members may administer (full admins only)",
              "groups", Section.USERS, Access.WRITE, body=m.GroupRights,
              response=m.GroupRightsOut, path_params=_NAME),
    Operation("GET", "/accounts", list_accounts, "List accounts", "accounts",
              Section.FINANCE, Access.READ, query=m.AccountQuery, response=m.AccountPage),
    Operation("GET", "/accounts/{id}", get_account, "One account", "accounts",
              Section.FINANCE, Access.READ, response=m.AccountOut, path_params=_ID),
    Operation("GET", "/accounts/{id}/transactions", list_transactions,
              "An account's ledger rows", "accounts", Section.FINANCE, Access.READ,
              query=m.TransactionQuery, response=m.TransactionPage, path_params=_ID),
    Operation("POST", "/accounts/{id}/adjustments", adjust_balance,
              "Adjust a balance, with a reason (a ledger row)", "accounts",
              Section.FINANCE, Access.WRITE, body=m.Adjustment, response=m.AccountOut,
              status=201, path_params=_ID),
)
