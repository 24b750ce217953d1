"""Jobs: active, held and history, a page at a time, with each job's price; cancel and
release (a Find-Me job: at a printer of its group, services.findme) through the jobs service (``services.jobs.Jobs``: checked, audited, the forwarder
and settlement told)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ippproxy.jobs.reports import WHICH
from ippproxy.jobs.state import JobState
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Invalid
from ippproxy.services.jobs import STATE_NAMES
from ippproxy.web.pages.guard import checked_form, csrf_token, page
from ippproxy.web.pages.state import services

_CANCELABLE = {int(JobState.PENDING), int(JobState.PENDING_HELD), int(JobState.PROCESSING),
               int(JobState.PROCESSING_STOPPED)}


def state_name(state: int) -> str:
    names = {int(v): k for k, v in STATE_NAMES.items()}
    return names.get(state, str(state))


@page
async def job_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    q = request.query
    which = q.get("which", "active")
    queue = q.get("queue") or None
    owner = q.get("owner") or None
    admin = services(request)
    result = await admin.reports.job_page(
        actor, which, after=q.get("after") or None, queue=queue, owner=owner)
    prices = ({} if admin.prices is None
              else await admin.prices.of(actor, [j.uuid for j in result.jobs]))
    # A pending job of a paused queue waits for it: RFC 8011 §5.3.8 'printer-stopped'
    # (the job's printer is stopped), as CUPS reports it.
    stopped = ({v.config.name for v in await admin.queues.list(actor) if v.paused}
               if which != "history" else set())
    return aiohttp_jinja2.render_template("jobs.html", request, {
        "actor": actor, "csrf": csrf_token(request), "nav": "jobs", "which": which,
        "tabs": WHICH, "page": result, "prices": prices, "stopped": stopped,
        "pending": int(JobState.PENDING), "priced": admin.prices is not None, "queue": queue or "", "owner": owner or "",
        "state_name": state_name, "cancelable": _CANCELABLE, "held": int(JobState.PENDING_HELD),
        "may_change": actor.may(Section.PRINTERS, Access.WRITE),
        "findme": {j.queue: admin.findme.group(j.queue) for j in result.jobs}
        if admin.findme is not None else {},
        "back": request.path_qs})


def _back(form: dict[str, str]) -> str:
    """Where to go after the change: a page of the job list, never another site."""
    back = form.get("back", "")
    return back if back.startswith("/admin/jobs") and "//" not in back else "/admin/jobs"


@page
async def job_action(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    uuid = request.match_info["uuid"]
    action = request.match_info["action"]
    control = services(request).jobs
    if len(uuid) > 36:
        raise Invalid("uuid", "not a job's UUID")
    if action == "cancel":
        await control.cancel(actor, uuid)
    elif action == "release":
        await control.release(actor, uuid)
    else:
        raise Invalid("action", "must be cancel or release")
    raise web.HTTPSeeOther(_back(form))


@page
async def job_release_to(request: web.Request, actor: Actor) -> web.StreamResponse:
    """A held Find-Me job released at the printer chosen (services.findme)."""
    form = await checked_form(request)
    findme = services(request).findme
    if findme is None:
        raise Invalid("printer", "Find-Me needs accounting")
    await findme.release_to(actor, request.match_info["uuid"][:64], form.get("printer", ""),
                            as_admin=True)
    raise web.HTTPSeeOther(_back(form))
