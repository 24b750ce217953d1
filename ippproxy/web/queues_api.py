"""``/api/v1/queues``: the printers (queues) with their destination's live state and
markers, paused/accepting and provisioned; create from a destination URI, update, delete;
pause, resume, accept, reject and purge (``services.queues``, ``services.printer_status``).

A provisioned queue (declared by the configuration file) answers 409 with the reason to an
update or a delete; its operating state (pause, accept) may change, as over IPP."""

from __future__ import annotations

from typing import Any

from ippproxy.catalog.store import spec
from ippproxy.config import QueueConfig
from ippproxy.services.actor import Access, Section
from ippproxy.services.printer_status import PrinterView
from ippproxy.services.queues import QueueView
from ippproxy.web import queue_models as c
from ippproxy.web.api import Call, Operation
from ippproxy.web.listing import page


def _live(p: PrinterView | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"reachable": p.reachable, "state": p.state, "reasons": list(p.reasons),
            "message": p.message, "active_jobs": p.active_jobs,
            "markers": [{"name": m.name, "colour": m.colour, "level": m.level,
                         "kind": m.kind} for m in p.markers]}


def queue_out(v: QueueView, live: PrinterView | None) -> dict[str, Any]:
    return {**spec(v.config), "provisioned": v.provisioned, "paused": v.paused,
            "accepting": v.accepting, "state_message": v.state_message, "live": _live(live)}


async def _views(call: Call) -> list[dict[str, Any]]:
    svc = call.services.catalog
    views = await svc.queues.list(call.who())
    live = {p.name: p for p in await svc.printers.list(call.who())}
    return [queue_out(v, live.get(v.config.name)) for v in views]


async def _one(call: Call, name: str) -> dict[str, Any]:
    for v in await _views(call):
        if v["name"] == name:
            return v
    view = await call.services.catalog.queues.get(call.who(), name)  # 404 if none
    return queue_out(view, None)


async def list_queues(call: Call) -> Any:
    q: c.QueueQuery = call.query
    return page(await _views(call), q, q.sort, lambda v: (
        (q.paused is None or v["paused"] == q.paused)
        and (q.provisioned is None or v["provisioned"] == q.provisioned)))


async def get_queue(call: Call) -> Any:
    return await _one(call, call.path["name"])


def _fields(body: c.QueueCreate | c.QueueUpdate) -> dict[str, Any]:
    return body.model_dump(exclude_none=True)


async def create_queue(call: Call) -> Any:
    body: c.QueueCreate = call.body
    created: QueueConfig = await call.services.catalog.queues.create(call.who(), _fields(body))
    return await _one(call, created.name)


async def update_queue(call: Call) -> Any:
    body: c.QueueUpdate = call.body
    name = call.path["name"]
    await call.services.catalog.queues.update(call.who(), name, _fields(body))
    return await _one(call, name)


async def delete_queue(call: Call) -> Any:
    return {"canceled": await call.services.catalog.queues.delete(call.who(),
                                                                  call.path["name"])}


async def pause_queue(call: Call) -> Any:
    name = call.path["name"]
    await call.services.catalog.queues.pause(call.who(), name)
    return await _one(call, name)


async def resume_queue(call: Call) -> Any:
    name = call.path["name"]
    await call.services.catalog.queues.resume(call.who(), name)
    return await _one(call, name)


async def accept_queue(call: Call) -> Any:
    name = call.path["name"]
    await call.services.catalog.queues.set_accepting(call.who(), name, True)
    return await _one(call, name)


async def reject_queue(call: Call) -> Any:
    body: c.StateMessage = call.body
    name = call.path["name"]
    await call.services.catalog.queues.set_accepting(call.who(), name, False, body.message)
    return await _one(call, name)


async def purge_queue(call: Call) -> Any:
    return {"canceled": await call.services.catalog.queues.purge(call.who(),
                                                                 call.path["name"])}


_NAME = {"name": "the queue's name"}
_P = Section.PRINTERS


def _action(path: str, run: Any, summary: str, **kw: Any) -> Operation:
    return Operation("POST", "/queues/{name}/" + path, run, summary, "queues", _P,
                     Access.WRITE, response=kw.pop("response", c.QueueOut),
                     path_params=_NAME, **kw)


OPERATIONS = (
    Operation("GET", "/queues", list_queues,
              "List queues with their destination's live state", "queues", _P,
              Access.READ, query=c.QueueQuery, response=c.QueuePage),
    Operation("GET", "/queues/{name}", get_queue, "One queue", "queues", _P, Access.READ,
              response=c.QueueOut, path_params=_NAME),
    Operation("POST", "/queues", create_queue, "Add a queue for a destination URI", "queues",
              _P, Access.WRITE, body=c.QueueCreate, response=c.QueueOut, status=201),
    Operation("PATCH", "/queues/{name}", update_queue,
              "Change a queue's settings (not a provisioned one)", "queues", _P,
              Access.WRITE, body=c.QueueUpdate, response=c.QueueOut, path_params=_NAME),
    Operation("DELETE", "/queues/{name}", delete_queue,
              "Delete a queue; its unfinished jobs are canceled", "queues", _P,
              Access.WRITE, response=c.Canceled, path_params=_NAME),
    _action("pause", pause_queue, "Pause: no job goes to the printer (Pause-Printer)"),
    _action("resume", resume_queue, "Resume a paused queue (Resume-Printer)"),
    _action("accept", accept_queue, "Accept new jobs (Enable-Printer)"),
    _action("reject", reject_queue, "Refuse new jobs (Disable-Printer)",
            body=c.StateMessage),
    _action("purge", purge_queue, "Cancel every unfinished job (Purge-Jobs)",
            response=c.Canceled),
)
