"""The admin pages' routes, templates and static files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ippproxy.web.identity import PUBLIC
from ippproxy.web.pages import (
    cashier,
    dashboard,
    directory,
    jobs,
    live,
    login,
    roles,
    transactions,
    user_downloads,
    users,
)
from ippproxy.web.pages.catalog_routes import NAV, add_catalog_pages
from ippproxy.web.pages.printers import add_printer_routes
from ippproxy.web.pages.state import ADMIN, AdminState
from ippproxy.web.pages.station import add_station_routes
from ippproxy.web.pages.user.routes import add_user_pages
from ippproxy.web.pages.users_edit import add_user_edit_pages

WEB = Path(__file__).resolve().parents[1]
STATIC = WEB / "static"
# The files served under /admin/static/, by name: nothing else is reachable there.
STATIC_FILES = {"htmx.min.js": "text/javascript", "htmx.LICENSE": "text/plain",
                "admin.js": "text/javascript", "admin.css": "text/css",
                "user.js": "text/javascript", "user.css": "text/css",
                "station.css": "text/css"}  # the user app's


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    kind = STATIC_FILES.get(name)
    if kind is None:
        raise web.HTTPNotFound(text="no such file\n")
    body = (STATIC / name).read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304)
    return web.Response(body=body, content_type=kind, charset="utf-8", headers={
        "ETag": f'"{etag}"', "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


setattr(static, PUBLIC, True)


async def _close_streams(app: web.Application) -> None:
    admin = app[ADMIN].services
    if admin is not None:
        admin.hub.close()


def add_admin_pages(app: web.Application) -> None:
    app[ADMIN] = AdminState()
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(WEB / "templates"),
                               autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["static"] = lambda name: f"/admin/static/{name}"
    env.globals["catalog_nav"] = NAV
    r = app.router
    r.add_get("/admin", dashboard.dashboard)
    r.add_get("/admin/", dashboard.dashboard)
    r.add_get("/admin/fragments/summary", dashboard.summary_fragment)
    r.add_get("/admin/fragments/charts", dashboard.charts_fragment)
    r.add_get("/admin/charts", dashboard.charts_page)
    r.add_get("/admin/events", live.events)
    r.add_get("/admin/jobs", jobs.job_list)
    r.add_post("/admin/jobs/{uuid}/{action:cancel|release}", jobs.job_action)
    r.add_post("/admin/jobs/{uuid}/release-to", jobs.job_release_to)
    add_printer_routes(r)
    r.add_get("/admin/users", users.user_list)
    r.add_get("/admin/users.csv", user_downloads.users_csv)
    r.add_get("/admin/users.pdf", user_downloads.users_pdf)
    r.add_get("/admin/accounts/{id}/transactions", transactions.account_transactions)
    r.add_post("/admin/users/reset-pagometers", users.reset_pagometers)
    r.add_get("/admin/login", login.login_page)
    r.add_post("/admin/login", login.login_submit)
    r.add_get("/admin/static/{name}", static)
    add_catalog_pages(r)
    r.add_get("/admin/directory", directory.directory_page)
    r.add_post("/admin/directory/apply", directory.directory_apply)
    r.add_get("/admin/roles", roles.roles_page)
    r.add_post("/admin/roles/{name}", roles.roles_save)
    r.add_get("/cashier", cashier.cashier_page)
    r.add_post("/cashier/deposit", cashier.cashier_deposit)
    r.add_get("/cashier/receipts/{token}", cashier.cashier_receipt)
    add_station_routes(app)
    add_user_edit_pages(r)
    app.on_shutdown.append(_close_streams)
    add_user_pages(app)   # the user web app at /user/ (issue 17 §8), same templates
