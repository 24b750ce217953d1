"""The release station's short sessions (issue 17 §6): one per person at the device,
bound to one printer, ended after each use (a release or a cancel) and after ``IDLE``
seconds without a request. Kept in this node's memory only: a station talks to one node,
and a restart ends every session (the person identifies again).

A session's id comes from ``secrets`` and travels in an HttpOnly, Secure, SameSite=Strict
cookie whose path is the station's URL; its CSRF token is a second secret the forms send
back. Before anyone is identified, the forms carry a token that must equal the one in the
form cookie (double submit): a page of another site cannot post a login or a PIN here.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from aiohttp import web

from ippproxy.services.actor import Actor

IDLE = 90.0                       # seconds without a request that end a session
MAX_SESSIONS = 1000
COOKIE = "ippproxy_station"
FORM_COOKIE = "ippproxy_station_form"


@dataclass(frozen=True)
class Kiosk:
    actor: Actor
    printer: str
    csrf: str
    expires: float


class KioskSessions:
    def __init__(self, idle: float = IDLE, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle, self.clock = idle, clock
        self._open: dict[str, Kiosk] = {}

    def open(self, actor: Actor, printer: str) -> tuple[str, Kiosk]:
        now = self.clock()
        self._open = {k: v for k, v in self._open.items() if v.expires > now}
        while len(self._open) >= MAX_SESSIONS:
            self._open.pop(next(iter(self._open)))
        sid = secrets.token_urlsafe(32)
        kiosk = Kiosk(actor, printer, secrets.token_urlsafe(32), now + self.idle)
        self._open[sid] = kiosk
        return sid, kiosk

    def get(self, sid: str | None, printer: str) -> Kiosk | None:
        """The live session of this printer (its idle time restarted), else None."""
        kiosk = self._open.get(sid or "")
        now = self.clock()
        if kiosk is None or kiosk.printer != printer or kiosk.expires <= now:
            self._open.pop(sid or "", None)
            return None
        kiosk = replace(kiosk, expires=now + self.idle)
        self._open[sid or ""] = kiosk
        return kiosk

    def end(self, sid: str | None) -> None:
        self._open.pop(sid or "", None)


def same(sent: object, expected: str) -> bool:
    return (isinstance(sent, str) and bool(expected)
            and hmac.compare_digest(sent.encode(), expected.encode()))


def set_cookie(response: web.StreamResponse, name: str, value: str, path: str) -> None:
    response.set_cookie(name, value, path=path, secure=True, httponly=True,
                        samesite="Strict", max_age=int(IDLE * 4))


def clear_cookie(response: web.StreamResponse, name: str, path: str) -> None:
    response.del_cookie(name, path=path, secure=True, httponly=True, samesite="Strict")


KIOSKS: web.AppKey[KioskSessions] = web.AppKey("ippproxy.kiosks", KioskSessions)
