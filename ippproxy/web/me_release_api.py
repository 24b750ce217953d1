"""``/api/v1/me/held`` and ``/api/v1/me/jobs/{uuid}/release|cancel``: a logged-in user's
jobs held for release, releasing them and cancelling them (issue 17 §6,
services/release.py). The service checks the rights: the owner on a secure queue, anyone
on a release-any queue, an approver on an approval queue (an approver's cancel refuses the
job); anyone else is 403, a job that waits for no release 409, a printer that cannot print
409 with the reason (the job stays held)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ippproxy.services.errors import NotFound
from ippproxy.services.release import Release
from ippproxy.web.api import Call, Operation
from ippproxy.web.me_api import user_of
from ippproxy.web.me_jobs_api import MyJob, my_job
from ippproxy.web.models import Request, Response, Time


class HeldQuery(Request):
    printer: Annotated[str, Field(max_length=127)] | None = None


class HeldJobs(Response):
    items: list[MyJob]


class Awaiting(Response):
    """A job waiting for the asker's approval: who, where, how much; never its name
    (no user sees another user's job names or documents)."""

    uuid: str
    printer: str
    job_id: int
    owner: str
    created_at: Time
    pages: int | None = Field(description="impressions counted at intake")
    estimate: int | None = Field(description="the price at intake, minor units")


class AwaitingJobs(Response):
    items: list[Awaiting]


def _release(call: Call) -> Release:
    svc = call.services.release
    if svc is None:
        raise NotFound("release service", "me")
    return svc


async def list_held(call: Call) -> Any:
    q: HeldQuery = call.query
    return {"items": [my_job(j) for j in await _release(call).held(user_of(call), q.printer)]}


async def list_awaiting(call: Call) -> Any:
    found = await _release(call).awaiting(user_of(call))
    return {"items": [{"uuid": j.uuid, "printer": j.queue, "job_id": j.job_id,
                       "owner": j.owner, "created_at": j.created_at,
                       "pages": j.impressions,
                       "estimate": (j.analysis or {}).get("estimate")} for j in found]}


async def release_job(call: Call) -> Any:
    return my_job(await _release(call).release(user_of(call), call.path["uuid"]))


async def cancel_job(call: Call) -> Any:
    return my_job(await _release(call).cancel(user_of(call), call.path["uuid"]))


OPERATIONS = (
    Operation("GET", "/me/held", list_held, "Your jobs held for release, oldest first", "me",
              query=HeldQuery, response=HeldJobs),
    Operation("GET", "/me/approvals", list_awaiting,
              "Jobs waiting for your approval (on approval printers you approve for)", "me",
              response=AwaitingJobs),
    Operation("POST", "/me/jobs/{uuid}/release", release_job,
              "Release a job held for release (yours; any on a release-any printer; "
              "as an approver on an approval printer)", "me", response=MyJob,
              path_params={"uuid": "the job's UUID"}),
    Operation("POST", "/me/jobs/{uuid}/cancel", cancel_job,
              "Cancel a held job (refunded); an approver's cancel refuses it", "me",
              response=MyJob, path_params={"uuid": "the job's UUID"}),
)
