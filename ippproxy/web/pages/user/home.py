"""``GET /user/``: the user's balances, the low-credit warning, their jobs that wait for
them (choose an account, print or cancel, cancel; the place of the Release button), the
recent notices, and the live questions (user.js, the ``/api/v1/me/events`` stream)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import NotFound
from ippproxy.services.myledger import MyLedger
from ippproxy.services.userside import UserSide
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.pages.user.jobview import JobView, view
from ippproxy.web.pages.user.state import denials, ledger, side
from ippproxy.web.state import services_of

RECENT = 50


@dataclass(frozen=True)
class Balance:
    code: str | None
    name: str
    balance: str
    low: bool


@dataclass(frozen=True)
class Notice:
    at: str
    kind: str      # "correction", "job", "policy", "denied"
    text: str


def needs(request: web.Request) -> tuple[UserSide, MyLedger]:
    s, led = side(request), ledger(request)
    if s is None or led is None:
        raise NotFound("account service", "accounting is off on this server")
    return s, led


async def my_jobs(request: web.Request, actor: Actor, limit: int) -> list[JobView]:
    s, led = needs(request)
    jobs = await s.jobs(actor, limit=limit)
    costs = await asyncio.to_thread(led.charged, [j.uuid for j in jobs])
    notices = services_of(request).notices
    release = services_of(request).release
    timeout = notices.popup_timeout() if notices is not None else None
    out = []
    for j in jobs:
        estimate = (j.analysis or {}).get("estimate")
        amount = costs.get(j.uuid, estimate if isinstance(estimate, int) else None)
        out.append(view(j, "" if amount is None else led.money(amount), timeout,
                        release is not None and release.waits(j)))
    return out


@user_page
async def home(request: web.Request, actor: Actor) -> web.StreamResponse:
    s, led = needs(request)
    notices = services_of(request).notices
    threshold = notices.low_credit() if notices is not None else None
    accounts = await asyncio.to_thread(s.accounts, actor)
    balances = [Balance(a.code, a.name, led.money(a.balance, a.currency),
                        a.code is None and threshold is not None and a.balance < threshold)
                for a in accounts]
    jobs = await my_jobs(request, actor, RECENT)
    page = await asyncio.to_thread(led.transactions, actor, limit=RECENT)
    told = [Notice(str(r["created_at"]), "correction",
                   f"Balance corrected by {led.money(r['amount'])}: {r['reason']}")
            for r in page.rows if r["kind"] == "adjust"]
    told += [Notice(j.created_at.isoformat(), "job",
                    f"Job {j.job_id} ({j.name}) is {j.state}: {j.message}")
             for j in jobs if j.message]
    told += [Notice(j.created_at.isoformat(), "policy", f"Job {j.job_id} ({j.name}): {j.policy}")
             for j in jobs if j.policy and j.policy not in j.message]
    refused = denials(request)
    if refused is not None:
        told += [Notice(d.at.isoformat(), "denied", f"A job to {d.printer} was refused: "
                        f"{d.reason}") for d in await asyncio.to_thread(refused.recent, actor)]
    told.sort(key=lambda n: n.at, reverse=True)
    return render(request, "home.html", actor, "home", {
        "balances": balances, "low": any(b.low for b in balances),
        "threshold": None if threshold is None else led.money(threshold),
        "waiting": [j for j in jobs if j.held], "notices": told[:20],
        "choices": accounts, "live": notices is not None,
        "currency": led.currency, "exponent": led.exponent})
