"""The services the admin pages call, set when the server's resources are open."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.events import EventHub
from ippproxy.services.job_control import JobControl
from ippproxy.services.printer_status import PrinterStatus
from ippproxy.services.reports import Reports


@dataclass(frozen=True)
class AdminServices:
    hub: EventHub
    reports: Reports
    printers: PrinterStatus
    jobs: JobControl


class AdminState:
    """Holds the services while the server runs (the composition root sets them)."""

    def __init__(self) -> None:
        self.services: AdminServices | None = None

    def get(self) -> AdminServices:
        if self.services is None:
            raise web.HTTPServiceUnavailable(text="the server is starting or stopping\n")
        return self.services


ADMIN = web.AppKey("ippproxy.admin", AdminState)


def services(request: web.Request) -> AdminServices:
    return request.app[ADMIN].get()
