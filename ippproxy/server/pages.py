"""GET resources the IPP attributes point at: the ``printer-more-info`` and ``job-more-info``
pages (RFC 8011 §5.4.7, §5.3.4: "more information about this printer / job" for people),
``printer-icons`` and ``printer-strings-uri`` (PWG 5100.13).

Both pages are plain status pages for whoever follows the link from a print dialog: the
admin pages (``/admin``) need an admin login, which the people printing do not have, so the
pages link there for admins rather than send everyone to a login form. Over plain HTTP the
request is redirected to HTTPS first (redirect.py).

The job page shows what Get-Jobs shows anybody (job-id, state, reasons, pages, times) and
the job's name, owner and state message only to its owner and admins when the queue keeps
jobs private (``private_jobs``, as ``job_attrs``/``ops/jobs.py`` do for IPP): a viewer proves
who they are with HTTP Basic or a token (authn.py); ``?login`` asks the browser for them.
A queue that wants credentials (``authentication = "basic"``) wants them for its job pages.

The icon is a generated one-colour PNG (RFC 2083 chunks written with zlib), so no binary
file ships.
"""

from __future__ import annotations

import datetime as dt
import html
import struct
import zlib
from functools import lru_cache
from urllib.parse import quote

from aiohttp import web

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.server import authn
from ippproxy.server.context import QueueRuntime
from ippproxy.server.http import CTX
from ippproxy.server.identity import Identity
from ippproxy.server.ops.common import stored_status
from ippproxy.server.printer_attrs import QueueStatus, build
from ippproxy.server.strings import CONTENT_TYPE, strings_file
from ippproxy.server.uris import JOB_ID_MAX, Origin

_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'"}


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@lru_cache(maxsize=1)
def icon_png(size: int = 128) -> bytes:
    row = b"\x00" + bytes((0x33, 0x66, 0x99)) * size          # filter byte + RGB pixels
    raw = row * size
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def _page(title: str, rows: list[tuple[str, str]], links: list[tuple[str, str]]) -> str:
    """A small HTML page: a title, a table of (label, text) rows, links (href, label)."""
    e = html.escape
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    nav = " · ".join(f'<a href="{e(href)}">{e(label)}</a>' for href, label in links)
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{e(title)}</title>'
            f"<h1>{e(title)}</h1><table>{body}</table><p>{nav}</p></html>")


def _when(t: dt.datetime | None) -> str:
    return "-" if t is None else t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _printer_state(q: QueueRuntime, processing: bool) -> str:
    """printer-state as a word (RFC 8011 §5.4.11)."""
    if q.paused:
        return "stopped"
    return "processing" if processing else "idle"


async def printer_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX].get()
    name = request.match_info.get("name", "")
    q = ctx.queues.get(name)
    if q is None:
        raise web.HTTPNotFound(text="no such queue\n")
    cfg = q.config
    status = await stored_status(ctx.store, q.name)
    rows = [("Queue", cfg.name), ("Location", cfg.location or "-"),
            ("State", _printer_state(q, status.processing)),
            ("Accepting jobs", "yes" if q.accepting else "no"),
            ("Jobs waiting", str(status.queued))]
    if q.state_message:
        rows.append(("Message", q.state_message))
    body = _page(cfg.info or cfg.name, rows,
                 [(f"/admin/printers#p-{quote(cfg.name)}", "Manage (administrators)"),
                  (f"/admin/jobs?queue={quote(cfg.name)}", "Jobs (administrators)")])
    return web.Response(text=body, content_type="text/html", headers=_HEADERS)


async def job_page(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX].get()
    name = request.match_info.get("name", "")
    raw_id = request.match_info.get("job", "")
    q = ctx.queues.get(name)
    job_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10 else 0
    if q is None or not 1 <= job_id <= JOB_ID_MAX:
        raise web.HTTPNotFound(text="no such job\n")
    who = await authn.authenticate(ctx, request, None)
    if isinstance(who, web.StreamResponse):
        return who                        # wrong credentials, throttled, or required
    if "login" in request.query and not who.proven:
        return authn.unauthorized()
    job = await ctx.store.get(q.name, job_id)
    if job is None:
        raise web.HTTPNotFound(text="no such job\n")
    body = _page(f"Job {job.job_id} on {q.name}", job_rows(job, q, who),
                 [(f"/printers/{quote(q.name)}", f"Printer {q.name}"),
                  (f"/admin/jobs?queue={quote(q.name)}&which=all", "Jobs (administrators)")]
                 + ([] if who.proven else [("?login", "Log in to see your job's name")]))
    return web.Response(text=body, content_type="text/html", headers=_HEADERS)


def job_rows(job: JobRecord, q: QueueRuntime, who: Identity) -> list[tuple[str, str]]:
    """What the job page shows ``who`` (see the module docstring)."""
    private = q.config.private_jobs and not who.admin and job.owner != who.name
    state = JobState(job.state).keyword
    reasons = [r for r in job.state_reasons if r != "none"]
    rows = [("Job", str(job.job_id)), ("Queue", q.name), ("State", state),
            ("Reasons", ", ".join(reasons) or "-")]
    if not private:
        rows[1:1] = [("Name", job.name or "untitled"), ("Owner", job.owner)]
        if job.state_message:
            rows.append(("Message", job.state_message))
    rows += [("Pages (counted)", "-" if job.impressions is None else str(job.impressions)),
             ("Pages printed", "-" if job.impressions_completed is None
              else str(job.impressions_completed)),
             ("Created", _when(job.created_at)), ("Completed", _when(job.completed_at))]
    return rows


async def icon(request: web.Request) -> web.Response:
    ctx = request.app[CTX].get()
    if request.match_info.get("name", "") not in ctx.queues:
        raise web.HTTPNotFound(text="no such queue\n")
    return web.Response(body=icon_png(), content_type="image/png")


async def strings(request: web.Request) -> web.Response:
    """printer-strings-uri: the labels of the queue's keywords (PWG 5100.13)."""
    ctx = request.app[CTX].get()
    q = ctx.queues.get(request.match_info.get("name", ""))
    if q is None or request.match_info.get("lang") != "en":
        raise web.HTTPNotFound(text="no such strings file\n")
    dest = await ctx.capabilities.printer_attributes(q.config)
    attrs = build(ctx, q, Origin(request.host), dest, QueueStatus(), [])
    return web.Response(text=strings_file(attrs), content_type=CONTENT_TYPE,
                        charset="utf-8")


def add_pages(app: web.Application) -> None:
    app.router.add_get("/printers/{name}", printer_page)
    app.router.add_get("/jobs/{name}/{job}", job_page)
    app.router.add_get("/icons/{name}.png", icon)
    app.router.add_get("/strings/{name}/{lang}.strings", strings)
