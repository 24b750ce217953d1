"""The user list downloaded with the page's selection: ``/admin/users.csv`` streams one
line per user as the batches come (``services.user_export.csv_line``, a batch per write);
``/admin/users.pdf`` is drawn in a worker thread into a temporary file (reportlab,
``services.user_export.write_pdf``), fed a batch at a time from the event loop, then
sent from the file: memory stays bounded whatever the number of users. Both need read
access to users (the service checks it before the first byte).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.user_export import csv_header, csv_line, write_pdf
from ippproxy.web.pages.guard import page
from ippproxy.web.pages.users import listing, selected, selection


def _name(kind: str) -> str:
    return f"users-{dt.datetime.now(dt.UTC).strftime('%Y%m%d-%H%M%S')}.{kind}"


def _describe(chosen: dict[str, str]) -> str:
    said = [f"{k} {v}" for k, v in chosen.items() if v and k not in ("order",)]
    return "Selection: " + ", ".join(said) + (", descending" if chosen["order"] == "desc"
                                               else "")


async def _first(batches: AsyncIterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The first batch, read before the response starts: a refusal is still an error
    page, not a cut-off download."""
    return await anext(batches, [])


@page
async def users_csv(request: web.Request, actor: Actor) -> web.StreamResponse:
    flt, sort, desc = selected(selection(request))
    batches = listing(request).batches(actor, flt, sort, desc)
    first = await _first(batches)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{_name("csv")}"',
        "X-Content-Type-Options": "nosniff"})
    await response.prepare(request)

    await response.write(csv_header().encode())
    batch = first
    while batch:
        await response.write("".join(csv_line(item) for item in batch).encode())
        batch = await _first(batches)
    await response.write_eof()
    return response


@page
async def users_pdf(request: web.Request, actor: Actor) -> web.StreamResponse:
    chosen = selection(request)
    flt, sort, desc = selected(chosen)
    batches = listing(request).batches(actor, flt, sort, desc)
    first = await _first(batches)
    loop = asyncio.get_running_loop()

    def rows() -> Iterator[dict[str, Any]]:
        yield from first
        while batch := asyncio.run_coroutine_threadsafe(_first(batches), loop).result():
            yield from batch

    fd, path = tempfile.mkstemp(prefix="ippproxy-users-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as out:
            await asyncio.to_thread(write_pdf, rows(), out, selection=_describe(chosen),
                                    made=dt.datetime.now(dt.UTC))
        response = web.FileResponse(path, headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{_name("pdf")}"',
            "X-Content-Type-Options": "nosniff"})
        await response.prepare(request)
        return response
    finally:
        os.unlink(path)
