"""``GET /user/jobs`` (the user's own jobs: name, printer, pages, colour pages, cost,
state) and ``GET /user/transactions`` (their personal account's ledger rows, a page at a
time: ``?before=`` the ledger id of the last row shown, ``?limit=`` rows a page)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Invalid
from ippproxy.services.myledger import MAX_PAGE, PAGE
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.pages.user.home import my_jobs, needs

JOBS = 200


@user_page
async def jobs(request: web.Request, actor: Actor) -> web.StreamResponse:
    s, _ = needs(request)
    found = await my_jobs(request, actor, JOBS)
    choices = (await asyncio.to_thread(s.accounts, actor)
               if any(j.asks_account for j in found) else [])
    return render(request, "jobs.html", actor, "jobs", {"jobs": found, "choices": choices})


@user_page
async def transactions(request: web.Request, actor: Actor) -> web.StreamResponse:
    _, led = needs(request)
    raw = request.query.get("before", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise Invalid("before", "the ledger id of a row shown (a whole number)")
    size = request.query.get("limit", str(PAGE))
    if not (size.isascii() and size.isdigit() and 1 <= int(size) <= MAX_PAGE):
        raise Invalid("limit", f"a whole number from 1 to {MAX_PAGE}")
    page = await asyncio.to_thread(led.transactions, actor,
                                   before=int(raw) if raw else None, limit=int(size))
    rows = [{**r, "amount_text": led.money(r["amount"]),
             "balance_text": led.money(r["balance_after"])} for r in page.rows]
    return render(request, "transactions.html", actor, "transactions",
                  {"rows": rows, "next_before": page.next_before, "first": not raw,
                   "limit": int(size)})
