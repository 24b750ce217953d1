"""The dashboard: the figures of the moment, the live activity, the charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.events import EventKind
from ippproxy.web.pages import charts
from ippproxy.web.pages.guard import csrf_token, page
from ippproxy.web.pages.state import services

CHART_DAYS = 14
SHARE_DAYS = 30


async def _summary(request: web.Request, actor: Actor) -> dict[str, Any]:
    return {"summary": await services(request).reports.summary(actor)}


@page
async def dashboard(request: web.Request, actor: Actor) -> web.StreamResponse:
    """The figures and the live activity at once; the charts follow (htmx, ``charts``):
    their sums over weeks of history must not hold the page up."""
    svc = services(request)
    context = {
        "actor": actor, "csrf": csrf_token(request), "nav": "dashboard",
        **await _summary(request, actor),
        "recent": list(reversed(svc.hub.recent)),
        "kinds": [str(k) for k in EventKind],
        "printers": await svc.printers.list(actor),
    }
    return aiohttp_jinja2.render_template("dashboard.html", request, context)


async def _charts(request: web.Request, actor: Actor) -> dict[str, Any]:
    reports = services(request).reports
    today = reports.clock().date()
    days = [today - dt.timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    daily = await reports.daily_pages(actor, CHART_DAYS)
    share = await reports.colour_share(actor, SHARE_DAYS)
    users = (await reports.top_users(actor, SHARE_DAYS)
             if actor.may(Section.USERS, Access.READ) else None)
    return {
        "actor": actor, "csrf": csrf_token(request), "nav": "dashboard",
        "daily": daily, "daily_svg": charts.daily_pages(daily, days),
        "share": share, "share_svg": charts.colour_share(share),
        "users": users, "users_svg": charts.top_users(users) if users is not None else None,
        "chart_days": CHART_DAYS, "share_days": SHARE_DAYS,
    }


@page
async def charts_fragment(request: web.Request, actor: Actor) -> web.StreamResponse:
    return aiohttp_jinja2.render_template("_charts.html", request,
                                          await _charts(request, actor))


@page
async def charts_page(request: web.Request, actor: Actor) -> web.StreamResponse:
    """The charts as a page of their own (without JavaScript)."""
    return aiohttp_jinja2.render_template("charts.html", request,
                                          await _charts(request, actor))


@page
async def summary_fragment(request: web.Request, actor: Actor) -> web.StreamResponse:
    """The figures alone, which the dashboard reloads (htmx) when an event arrives."""
    return aiohttp_jinja2.render_template("_summary.html", request,
                                          await _summary(request, actor))
