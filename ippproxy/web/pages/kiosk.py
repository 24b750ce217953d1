"""The release station's short sessions on the web side (issue 17 §6): one per person at
the device, bound to one printer, ended after each use (a release or a cancel) and after
``release.station_idle`` seconds without a request. They are kept in the database shared by
every node (services/station.py ``StationSessions``): behind a load balancer a station's
next request may reach another node.

A session's id comes from ``secrets`` and travels in an HttpOnly, Secure, SameSite=Strict
cookie whose path is the station's URL; its CSRF token is a second secret the forms send
back. Before anyone is identified, the forms carry a token that must equal the one in the
form cookie (double submit): a page of another site cannot post a login or a PIN here.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ippproxy.config import Config
from ippproxy.services.station import StationSessions
from ippproxy.web.state import services_of

COOKIE = "ippproxy_station"
FORM_COOKIE = "ippproxy_station_form"


def idle(config: Config) -> int:
    """Whole seconds a station session may be idle (the page reloads itself then)."""
    return max(1, int(config.release.station_idle))


def sessions(request: web.Request, config: Config, printer: str) -> StationSessions:
    svc = services_of(request)
    return StationSessions(svc.admins, svc.sessions, printer, float(idle(config)))


def same(sent: object, expected: str) -> bool:
    return (isinstance(sent, str) and bool(expected)
            and hmac.compare_digest(sent.encode(), expected.encode()))


def set_cookie(response: web.StreamResponse, name: str, value: str, path: str,
               seconds: int) -> None:
    response.set_cookie(name, value, path=path, secure=True, httponly=True,
                        samesite="Strict", max_age=seconds * 4)


def clear_cookie(response: web.StreamResponse, name: str, path: str) -> None:
    response.del_cookie(name, path=path, secure=True, httponly=True, samesite="Strict")
