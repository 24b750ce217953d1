"""Out-of-process control of the virtual printer (its command line is ``__main__.py``).

``POST /control`` with JSON ``{"state": "jam"}`` (see ``printer.STATES``) or
``{"lose_next_response": "Print-Job"}``; ``GET /control`` answers a JSON
summary. The control endpoint listens on its own port so it stays reachable
while the printer is "offline".
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ippproxy.ipp import JobState, PrinterState
from ippproxy.virtualprinter.model import PrinterModel

_PRINTER: web.AppKey[PrinterModel] = web.AppKey("printer")


def summary(printer: PrinterModel) -> dict[str, Any]:
    state, reasons, _ = printer.printer_state()
    return {
        "uri": printer.uri, "online": printer.online, "fault": printer.fault,
        "accepting": printer.accepting, "printer-state": PrinterState.keyword_of(state),
        "printer-state-reasons": list(reasons),
        "jobs": [{"job-id": j.job_id, "job-uuid": j.uuid, "job-name": j.name,
                  "job-state": JobState.keyword_of(j.state), "pages": j.pages,
                  "copies": j.copies, "sides": j.sides,
                  "job-impressions-completed": j.impressions_completed,
                  "job-media-sheets-completed": j.sheets_completed}
                 for j in printer.jobs.values()],
    }


async def _get(request: web.Request) -> web.Response:
    return web.json_response(summary(request.app[_PRINTER]))


async def _post(request: web.Request) -> web.Response:
    printer = request.app[_PRINTER]
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body is not JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    state, lose = body.get("state"), body.get("lose_next_response")
    if state is None and lose is None:
        return web.json_response({"error": "expected 'state' or 'lose_next_response'"},
                                 status=400)
    if lose is not None:
        if lose not in ("Print-Job", "Create-Job", "Send-Document"):
            return web.json_response({"error": f"cannot lose {lose!r}"}, status=400)
        printer.lose_next_response(lose)
    if state is not None:
        try:
            await printer.set_state(str(state))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(summary(printer))


def control_app(printer: PrinterModel) -> web.Application:
    app = web.Application()
    app[_PRINTER] = printer
    app.router.add_get("/control", _get)
    app.router.add_post("/control", _post)
    return app
