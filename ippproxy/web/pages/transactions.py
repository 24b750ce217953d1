"""One account's transactions for the admin (the user list's Transactions button): its
ledger rows, newest first, a page at a time, each with its amount, the balance after, kind,
reason, actor and job; read through ``services.users.Users.transactions``, which needs read
access to finance (deny by default: a session without it gets the guard's error page)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import NotFound
from ippproxy.web.pages.forms import render
from ippproxy.web.pages.guard import page
from ippproxy.web.state import services_of

PER_PAGE = 50


def _offset(request: web.Request) -> int:
    text = request.query.get("offset", "0")[:12]
    return int(text) if text.isdigit() else 0


@page
async def account_transactions(request: web.Request, actor: Actor) -> web.StreamResponse:
    svc = services_of(request)
    users = svc.users
    if users is None:
        raise NotFound("account service", "accounting is off on this server")
    account_id = request.match_info["id"]
    offset = _offset(request)
    account = await asyncio.to_thread(users.get_account, actor, account_id)
    rows, total = await asyncio.to_thread(
        lambda: users.newest_transactions(actor, account_id, offset=offset, limit=PER_PAGE))
    listing = svc.user_list
    if listing is None:
        raise NotFound("account service", "accounting is off on this server")

    def money(v: int) -> str:
        return listing.money(v, account["currency"])

    shown: list[dict[str, Any]] = [{**r, "amount_text": money(r["amount"]),
                                    "after_text": money(r["balance_after"])} for r in rows]
    base = f"/admin/accounts/{account['id']}/transactions"
    return render(request, "transactions.html", actor, "users", {
        "account": account, "balance": money(account["balance"]), "rows": shown,
        "total": total,
        "older": f"{base}?offset={offset + PER_PAGE}" if offset + PER_PAGE < total else None,
        "newer": f"{base}?offset={max(0, offset - PER_PAGE)}" if offset > 0 else None})
