"""The admin's user list (SavaPage §4.4.1): the selected users a page at a time, each with
its pagometer; every selected user for a download; and the reset of every pagometer.

Users, their accounts and the pagometer's period come from the accounting package
(``accounting.userlist``), the pagometer's figures from the job store's own query
(``JobReports.usage``): neither reads the other's tables. Reading needs read access to
users; a reset needs write access and is audited (``user.reset-pagometers``).
Blocking database work runs in a thread; the job store's reads are its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine

from ippproxy.accounting import userlist
from ippproxy.accounting.directory import Page
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import format_money
from ippproxy.accounting.txn import in_transaction
from ippproxy.accounting.userlist import UserFilter
from ippproxy.jobs.reports import JobReports
from ippproxy.jobs.usage import Usage
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Forbidden, Invalid
from ippproxy.services.users import MAX_LIMIT

MAX_SEARCH = 255
BATCH = 1000


def _require(actor: Actor, access: Access) -> None:
    if not actor.may(Section.USERS, access):
        raise Forbidden(f"{access.name.lower()} access to {Section.USERS} is needed")


def _choice(field: str, value: str | None, allowed: tuple[str, ...]) -> Any:
    """A selection's value; "" or "any" (or None) is the either choice."""
    if value in (None, "", "any"):
        return None
    if value not in allowed:
        raise Invalid(field, f"one of {', '.join(allowed)} or any")
    return value


def make_filter(*, search: str | None = None, group: str | None = None,
                type: str | None = None, role: str | None = None,
                status: str | None = "live") -> UserFilter:
    """The selection from text (a form, a query string, a command line), checked."""
    text = (search or "").strip()
    if len(text) > MAX_SEARCH or any(not c.isprintable() for c in text):
        raise Invalid("search", f"at most {MAX_SEARCH} printable characters")
    g = (group or "").strip()
    if g:
        try:
            g = canonical_name(g)
        except ValueError as e:
            raise Invalid("group", str(e)) from None
    return UserFilter(search=text or None, group=g or None,
                      type=_choice("type", type, userlist.TYPES),
                      role=_choice("role", role, userlist.ROLES),
                      status=_choice("status", status, userlist.STATUSES))


def check_sort(sort: str) -> str:
    if sort and sort not in userlist.SORTS:
        raise Invalid("sort", f"one of {', '.join(userlist.SORTS)}")
    return sort or "username"


class UserList:
    def __init__(self, engine: Engine, audit: AuditSink, reports: JobReports,
                 exponent: int = 2) -> None:
        self.engine = engine
        self.audit = audit
        self.reports = reports
        self.exponent = exponent  # the currency's minor unit digits, for balance_text


    def money(self, minor: int, currency: str) -> str:
        """An amount in minor units as the pages show it ("12.50 EUR")."""
        return format_money(minor, currency, self.exponent)
    async def _with_usage(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        since = {i["username"]: i["pagometer_since"] for i in items if not i["deleted"]}
        found = await self.reports.usage(since)
        for i in items:
            # A deleted user's name may belong to a new user now: no figures of theirs.
            u = found.get(i["username"], Usage()) if not i["deleted"] else Usage()
            i["pagometer"] = {**asdict(u), "pages": u.pages}
            i["balance_text"] = format_money(i["balance"], i["currency"], self.exponent)
        return items

    def _read_page(self, page: Page, flt: UserFilter) -> tuple[list[dict[str, Any]], int]:
        with self.engine.connect() as conn:
            return userlist.users_page(conn, page, flt)

    async def page(self, actor: Actor, page: Page, flt: UserFilter
                   ) -> tuple[list[dict[str, Any]], int]:
        """One page of the selection, each user with a ``pagometer``, and the total."""
        _require(actor, Access.READ)
        if not 1 <= page.limit <= MAX_LIMIT:
            raise Invalid("limit", f"between 1 and {MAX_LIMIT}")
        if page.offset < 0:
            raise Invalid("offset", "zero or more")
        check_sort(page.sort)
        items, total = await asyncio.to_thread(self._read_page, page, flt)
        return await self._with_usage(items), total

    async def page_at(self, actor: Actor, flt: UserFilter, *, offset: int, limit: int,
                      sort: str = "username", descending: bool = False
                      ) -> tuple[list[dict[str, Any]], int]:
        """``page`` for callers that do not build a ``Page`` (the admin pages)."""
        return await self.page(actor, Page(offset, limit, sort, descending), flt)

    def _read_batch(self, flt: UserFilter, sort: str, descending: bool,
                    after: tuple[Any, str] | None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            batch = userlist.users_batch(conn, flt, sort, descending, after, BATCH)
        return batch

    async def batches(self, actor: Actor, flt: UserFilter, sort: str = "username",
                      descending: bool = False) -> AsyncIterator[list[dict[str, Any]]]:
        """Every selected user in order, with pagometers, a batch at a time (bounded
        memory whatever the number of users)."""
        _require(actor, Access.READ)
        sort = check_sort(sort)
        after: tuple[Any, str] | None = None
        while batch := await asyncio.to_thread(self._read_batch, flt, sort, descending,
                                               after):
            after = (batch[-1]["_key"], batch[-1]["id"])
            for item in batch:
                del item["_key"]
            yield await self._with_usage(batch)

    async def every(self, actor: Actor, flt: UserFilter, sort: str = "username",
                    descending: bool = False) -> AsyncIterator[dict[str, Any]]:
        async for batch in self.batches(actor, flt, sort, descending):
            for item in batch:
                yield item

    async def last_reset(self, actor: Actor) -> dt.datetime | None:
        _require(actor, Access.READ)

        def read() -> dt.datetime | None:
            with self.engine.connect() as conn:
                return userlist.last_reset(conn)
        return await asyncio.to_thread(read)

    async def reset_pagometers(self, actor: Actor) -> dt.datetime:
        """Every user's pagometer starts again now; audited."""
        _require(actor, Access.WRITE)
        before = await self.last_reset(actor)
        when = await asyncio.to_thread(
            in_transaction, self.engine,
            lambda conn: userlist.reset_pagometers(conn, actor.name))
        self.audit.record(entry(actor, "user.reset-pagometers", "user:*",
                                {"since": before.isoformat() if before else None},
                                {"since": when.isoformat()}))
        return when


