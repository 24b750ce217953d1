"""The routes of the user web app under ``/user/`` (its templates are ``templates/user/``,
its static files served with the admin app's under ``/admin/static/``)."""

from __future__ import annotations

from aiohttp import web

from ippproxy.web.pages.user import client, held, history, home, login, security, urls
from ippproxy.web.pages.user.state import USER_APP, UserAppState


async def _to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/user/")


def add_user_pages(app: web.Application) -> None:
    app[USER_APP] = UserAppState()
    r = app.router
    r.add_get("/user", _to_home)
    r.add_get("/user/", home.home)
    r.add_get("/user/login", login.login_page)
    r.add_post("/user/login", login.login_submit)
    r.add_post("/user/logout", login.logout)
    r.add_get("/user/jobs", history.jobs)
    r.add_get("/user/transactions", history.transactions)
    r.add_post("/user/jobs/{uuid}/{action:cancel|account|as-user|confirm|release}",
               held.job_action)
    r.add_get("/user/printers", urls.printer_urls)
    r.add_post("/user/printers", urls.create)
    r.add_post("/user/printers/{id}/revoke", urls.revoke)
    r.add_get("/user/security", security.security)
    r.add_post("/user/security/{action:begin|confirm|disable}", security.change)
    r.add_get("/user/client", client.client_page)
    r.add_get("/user/client/{filename}", client.download)
