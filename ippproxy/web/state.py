"""The services the web side calls, filled in by the composition root when the server has
opened its database (until then every web request answers 503)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.admins import Admins
from ippproxy.services.jobs import Jobs
from ippproxy.services.sessions import Sessions
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens
from ippproxy.services.users import Users


@dataclass(frozen=True)
class WebServices:
    admins: Admins
    sessions: Sessions
    tokens: Tokens
    throttle: LoginThrottle
    jobs: Jobs
    users: Users | None  # None when accounting is off


class WebState:
    def __init__(self) -> None:
        self.services: WebServices | None = None

    def get(self) -> WebServices:
        if self.services is None:
            raise web.HTTPServiceUnavailable(text="the server is starting")
        return self.services


WEB: web.AppKey[WebState] = web.AppKey("ippproxy.web", WebState)


def services_of(request: web.Request) -> WebServices:
    return request.app[WEB].get()
