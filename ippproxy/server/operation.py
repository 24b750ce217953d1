"""The shape of one entry in the dispatch table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from ippproxy.server.context import OpRequest
from ippproxy.server.response import Reply

Handler = Callable[[OpRequest], Awaitable[Reply]]


@dataclass(frozen=True)
class OpSpec:
    name: str
    handler: Handler
    # "printer": needs a queue; "job": needs a queue and a job-id (or a job-uri);
    # "server": addressed at the server (CUPS-Get-Printers), a printer-uri is optional.
    target: Literal["printer", "job", "server"] = "printer"
    admin: bool = False
    # Addressed at the server's root (CUPS: ``ipp://host/``), it acts on every queue
    # (Get-Jobs, Cancel-Jobs, Cancel-My-Jobs, Purge-Jobs; cupsnames.py): the handler gets no queue.
    every_queue: bool = False
    # A job submission: counted in ``ServerContext.receiving`` while it runs.
    intake: bool = False
