"""Find-Me releases over REST (services/findme.py): a user releases their own held Find-Me
job at a printer of its group (``/api/v1/me/jobs/{uuid}/release-to``, and the printers it
may go to); an admin with write access to printers and jobs releases anyone's
(``/api/v1/jobs/{uuid}/release-to``). A printer outside the group is 422 and the job stays
held; a job not waiting on a Find-Me queue (released already) 409."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ippproxy.pipeline.findme_release import Released
from ippproxy.services.actor import Access, Section
from ippproxy.services.errors import NotFound
from ippproxy.services.findme import FindMe
from ippproxy.web import models as m
from ippproxy.web.api import Call, Operation
from ippproxy.web.jobs_api import job_out
from ippproxy.web.me_api import user_of
from ippproxy.web.me_jobs_api import MyJob, my_job
from ippproxy.web.models import Request, Response


class ReleaseTo(Request):
    printer: m.Name = Field(description="a printer (queue) of the job's Find-Me group")


class Release(Response):
    before: int | None = Field(description="the price reserved before, minor units")
    after: int | None = Field(description="the price at this printer, minor units")
    grayscale: bool = Field(description="converted to grayscale for a monochrome printer")
    one_sided: bool = Field(description="printed one-sided: the printer has no duplex")


class MyRelease(Release):
    job: MyJob


class AdminRelease(Release):
    job: m.JobOut


class FindMePrinters(Response):
    items: list[str] = Field(description="the printers the job may be released at")


def _findme(call: Call) -> FindMe:
    svc = call.services.findme
    if svc is None:    # accounting off: no Find-Me queues
        raise NotFound("Find-Me service", "jobs")
    return svc


def _out(done: Released, job: dict[str, Any]) -> dict[str, Any]:
    return {"job": job, "before": done.before, "after": done.after,
            "grayscale": done.grayscale, "one_sided": done.one_sided}


async def my_release_to(call: Call) -> Any:
    body: ReleaseTo = call.body
    done = await _findme(call).release_to(user_of(call), call.path["uuid"], body.printer)
    return _out(done, my_job(done.job))


async def my_findme_printers(call: Call) -> Any:
    side = call.services.userside
    if side is None:
        raise NotFound("account service", "me")
    job = await side.job(user_of(call), call.path["uuid"])
    return {"items": list(_findme(call).printers(job))}


async def admin_release_to(call: Call) -> Any:
    body: ReleaseTo = call.body
    done = await _findme(call).release_to(call.who(), call.path["uuid"], body.printer,
                                          as_admin=True)
    return _out(done, job_out(done.job))


_UUID = {"uuid": "the job's UUID"}
OPERATIONS = (
    Operation("GET", "/me/jobs/{uuid}/release-to", my_findme_printers,
              "The printers your held Find-Me job may be released at", "me",
              response=FindMePrinters, path_params=_UUID),
    Operation("POST", "/me/jobs/{uuid}/release-to", my_release_to,
              "Release your held Find-Me job at a printer: converted and priced there",
              "me", body=ReleaseTo, response=MyRelease, path_params=_UUID),
    Operation("POST", "/jobs/{uuid}/release-to", admin_release_to,
              "Release a held Find-Me job at a printer of its group", "jobs",
              Section.PRINTERS, Access.WRITE, body=ReleaseTo, response=AdminRelease,
              path_params=_UUID),
)
