"""The release station (issue 17 §6): a kiosk page at ``/release/<printer>``, beside the
printer, without the admin app's chrome. A person identifies by card number (with their
own PIN where ``release.station_card_needs_pin`` asks for it), by user name or ID number
and their own PIN, by user name and password, or by a job's PIN (which releases that one
job, and only that: the job PIN box never takes a user's PIN, the user PIN boxes never a
job's); then sees their jobs held for release on this printer (name, pages, price),
releases one or all, or cancels one (its reservation refunded). The session ends after each
use and after ``release.station_idle`` seconds idle (the page reloads itself then, and no
node knows the session any more: they share it through the database, kiosk.py).

Every operation is the release service's (services/release.py: rights, the printer's state,
audit); identification is ``services.station`` (the login throttle, audit). A release the
printer refuses (media-empty, media-jam, door-open, unreachable) shows the reason; the job
stays held. The forms are CSRF-protected (kiosk.py); text from jobs is escaped (Jinja
autoescape). The pages are public to the web side's authentication (they prove who is
there themselves) and, like every web page, served over HTTPS only (server/redirect.py).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from ippproxy.config import Config
from ippproxy.jobs.records import JobRecord
from ippproxy.services.actor import Actor, Via
from ippproxy.services.errors import Conflict, Forbidden, NotFound
from ippproxy.services.job_pin import valid_typed_pin
from ippproxy.services.release import Release
from ippproxy.services.release_rules import pin_job
from ippproxy.services.station import StationLogin, StationSession
from ippproxy.web.auth import mark_public
from ippproxy.web.pages.kiosk import (
    COOKIE,
    FORM_COOKIE,
    clear_cookie,
    idle,
    same,
    sessions,
    set_cookie,
)
from ippproxy.web.state import services_of

MAX_FIELD = 1024
# Nothing about which part was wrong, nor whether the user has a PIN at all.
NO_USER_PIN = "Wrong name or PIN. No PIN of your own? Use your password."
NO_CARD_PIN = "Wrong card number or PIN. No PIN of your own? Use your name and password."


def _release(request: web.Request) -> tuple[Release, str]:
    release = services_of(request).release
    printer = request.match_info["printer"]
    if release is None or release.config().queue(printer) is None:
        raise web.HTTPNotFound(text="no such printer\n")
    return release, printer


def _path(printer: str) -> str:
    return f"/release/{quote(printer, safe='')}"


def _render(request: web.Request, printer: str, context: dict[str, Any],
            status: int) -> web.Response:
    config = _config(request)
    response = aiohttp_jinja2.render_template("station.html", request, {
        "printer": printer, "path": _path(printer), "idle": idle(config), "message": "",
        "ok": False, "card_needs_pin": config.release.station_card_needs_pin, **context},
        status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _identify(request: web.Request, printer: str, message: str = "", *, ok: bool = False,
              status: int = 200, ended: bool = False) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = _render(request, printer, {"mode": "identify", "form_token": token,
                                          "message": message, "ok": ok}, status)
    set_cookie(response, FORM_COOKIE, token, _path(printer), idle(_config(request)))
    if ended:
        clear_cookie(response, COOKIE, _path(printer))
    return response


def _throttled(request: web.Request, printer: str, wait: float) -> web.Response:
    """429 with how long to wait, in words and in ``Retry-After`` (RFC 6585 §4)."""
    response = _identify(request, printer, _wait(wait), status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def _view(job: JobRecord) -> dict[str, Any]:
    attrs = (job.analysis or {}).get("attributes") or {}
    return {"uuid": job.uuid, "id": job.job_id, "name": job.name or "untitled",
            "pages": attrs.get("job-impressions"), "cost": attrs.get("ippproxy-cost-estimate"),
            "at": job.created_at.strftime("%H:%M"), "pin": pin_job(job)}


def _config(request: web.Request) -> Config:
    return _release(request)[0].config()


async def _jobs(request: web.Request, release: Release, printer: str, kiosk: StationSession,
                message: str = "") -> web.Response:
    held = await release.held(kiosk.actor, printer)
    return _render(request, printer, {
        "mode": "jobs", "who": kiosk.actor.name, "csrf": kiosk.csrf, "message": message,
        "jobs": [_view(j) for j in held]}, 200)


@mark_public
async def station_page(request: web.Request) -> web.StreamResponse:
    release, printer = _release(request)
    kiosk = await asyncio.to_thread(sessions(request, release.config(), printer).get,
                                    request.cookies.get(COOKIE))
    if kiosk is None:
        return _identify(request, printer)
    return await _jobs(request, release, printer, kiosk)


def _wait(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"Too many wrong attempts. Try again in {minutes} minute{'s' * (minutes > 1)}."


@mark_public
async def station_login(request: web.Request) -> web.StreamResponse:
    release, printer = _release(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    if not same(form.get("form_token"), request.cookies.get(FORM_COOKIE, "")):
        return _identify(request, printer, "The page expired. Please try again.", status=403)
    if any(len(v) > MAX_FIELD for v in form.values()):
        return _identify(request, printer, "That is too long.", status=422)
    svc, config = services_of(request), release.config()
    needs_pin = config.release.station_card_needs_pin
    login = StationLogin(svc.admins, svc.throttle, printer, card_needs_pin=needs_pin)
    address, how = request.remote or "", form.get("how", "")
    if how == "pin":
        return await _by_pin(request, release, login, printer, form.get("pin", ""), address)
    if how == "card":
        pin = form.get("card_pin") or None
        if needs_pin and pin is None:
            return _identify(request, printer, "Enter your PIN with your card.", status=422)
        result = await asyncio.to_thread(login.card, form.get("card", "").strip(), pin,
                                         address)
        wrong = NO_CARD_PIN if pin else "That card is not known."
    elif how == "user-pin":
        if not form.get("user_pin"):
            return _identify(request, printer, "Enter your PIN.", status=422)
        result = await asyncio.to_thread(login.user_pin, form.get("pin_user", "").strip(),
                                         form.get("user_pin", ""), address)
        wrong = NO_USER_PIN
    elif how == "password":
        result = await asyncio.to_thread(login.password, form.get("username", ""),
                                         form.get("password", ""), address)
        wrong = "Wrong name or password."
    else:
        return _identify(request, printer, "Choose how to identify.", status=422)
    if isinstance(result, float):
        return _throttled(request, printer, result)
    if result is None:
        return _identify(request, printer, wrong, status=401)
    sid, kiosk = await asyncio.to_thread(sessions(request, config, printer).open, result,
                                         address)
    response = await _jobs(request, release, printer, kiosk)
    set_cookie(response, COOKIE, sid, _path(printer), idle(config))
    return response


async def _by_pin(request: web.Request, release: Release, login: StationLogin, printer: str,
                  pin: str, address: str) -> web.Response:
    wait = await asyncio.to_thread(login.pin_wait, address)
    if wait > 0:
        return _throttled(request, printer, wait)
    if not valid_typed_pin(pin):
        return _identify(request, printer, "A PIN is 4 digits.", status=422)
    try:
        job = await release.release_pin(Actor(f"pin@{printer}", Via.SESSION), printer, pin)
    except Forbidden:
        await asyncio.to_thread(login.pin_failed, address)
        return _identify(request, printer, "No job on this printer has that PIN.",
                         status=401)
    except Conflict as e:
        return _identify(request, printer, e.detail, status=409)
    return _identify(request, printer, f"Job {job.job_id} ({job.name or 'untitled'}) "
                     "is printing.", ok=True)


@mark_public
async def station_act(request: web.Request) -> web.StreamResponse:
    release, printer = _release(request)
    kiosks = sessions(request, release.config(), printer)
    sid = request.cookies.get(COOKIE)
    kiosk = await asyncio.to_thread(kiosks.get, sid)
    if kiosk is None:
        return _identify(request, printer, "Your session ended. Please identify again.",
                         status=401, ended=True)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    if not same(form.get("csrf_token"), kiosk.csrf):
        return _identify(request, printer, "The page expired. Please try again.",
                         status=403, ended=True)
    await asyncio.to_thread(kiosks.end, sid)      # one use per session
    action, uuid = form.get("action", ""), form.get("job", "")
    try:
        if action in ("release", "cancel"):
            # The station acts on what it shows: the identified user's own jobs held at
            # this printer, whatever rights the user has elsewhere (an admin's PIN or card
            # at a station is not the admin app).
            mine = {j.uuid for j in await release.held(kiosk.actor, printer)}
            if uuid not in mine:
                raise NotFound(f"job of yours held at {printer}", uuid or "-")
        if action == "release":
            job = await release.release(kiosk.actor, uuid)
            message = f"Job {job.job_id} ({job.name or 'untitled'}) is printing."
        elif action == "release-all":
            out = await release.release_all(kiosk.actor, printer)
            message = f"{len(out.released)} job(s) printing." + "".join(
                f" {why}." for _, why in out.refused)
            if out.refused and not out.released:
                return _identify(request, printer, message.strip(), status=409, ended=True)
        elif action == "cancel":
            job = await release.cancel(kiosk.actor, uuid)
            message = f"Job {job.job_id} canceled; nothing is charged for it."
        else:
            message = "Signed out."
    except (Conflict, Forbidden, NotFound) as e:
        return _identify(request, printer, e.detail, status=409, ended=True)
    return _identify(request, printer, message, ok=True, ended=True)


def add_station_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/release/{printer}", station_page)
    r.add_post("/release/{printer}/login", station_login)
    r.add_post("/release/{printer}/act", station_act)
