"""The services the admin pages call, set when the server's resources are open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.cost_models import CostModelService
from ippproxy.services.destination_probe import DestinationProbe
from ippproxy.services.events import EventHub
from ippproxy.services.findme import FindMe
from ippproxy.services.job_prices import JobPrices
from ippproxy.services.jobs import Jobs
from ippproxy.services.printer_status import PrinterStatus
from ippproxy.services.queues import QueueService
from ippproxy.services.reports import Reports


@dataclass(frozen=True)
class AdminServices:
    hub: EventHub
    reports: Reports
    printers: PrinterStatus       # read only: the queues with their destinations' state
    queues: QueueService          # every change of a queue, audited
    cost_models: CostModelService  # the names a queue may use
    probe: DestinationProbe       # a destination's capabilities before its queue exists
    jobs: Jobs                    # cancel, release, audited
    prices: JobPrices | None      # None when accounting is off
    # This node takes a catalog change at once (the others within their poll interval).
    refresh: Callable[[], Awaitable[object]]
    findme: FindMe | None = None  # Find-Me releases (accounting on)


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
