"""``/api/v1/jobs``: every job, filtered by user, printer, state and time, sorted, paged;
one job; cancel, hold, release and move (``services.jobs``)."""

from __future__ import annotations

from typing import Any

from ippproxy.jobs.records import JobRecord
from ippproxy.services.actor import Access, Section
from ippproxy.services.jobs import JobFilter
from ippproxy.web import models as m
from ippproxy.web.api import Call, Operation


def job_out(j: JobRecord) -> dict[str, Any]:
    return {"uuid": j.uuid, "printer": j.queue, "job_id": j.job_id,
            "state": j.state.keyword, "state_reasons": list(j.state_reasons),
            "state_message": j.state_message, "owner": j.owner, "name": j.name,
            "document_format": j.document_format, "size": j.size, "priority": j.priority,
            "hold_until": j.hold_until, "impressions_completed": j.impressions_completed,
            "created_at": j.created_at, "processing_at": j.processing_at,
            "completed_at": j.completed_at}


async def list_jobs(call: Call) -> Any:
    q: m.JobQuery = call.query
    f = JobFilter(user=q.user, printer=q.printer, states=tuple(q.state), since=q.since,
                  until=q.until, sort=q.sort, descending=q.order == "desc", offset=q.offset,
                  limit=q.limit)
    jobs, total = await call.services.jobs.list(call.who(), f)
    return {"items": [job_out(j) for j in jobs], "total": total, "offset": q.offset,
            "limit": q.limit}


async def get_job(call: Call) -> Any:
    return job_out(await call.services.jobs.get(call.who(), call.path["uuid"]))


async def cancel_job(call: Call) -> Any:
    return job_out(await call.services.jobs.cancel(call.who(), call.path["uuid"]))


async def hold_job(call: Call) -> Any:
    return job_out(await call.services.jobs.hold(call.who(), call.path["uuid"]))


async def release_job(call: Call) -> Any:
    return job_out(await call.services.jobs.release(call.who(), call.path["uuid"]))


async def move_job(call: Call) -> Any:
    body: m.JobMove = call.body
    return job_out(await call.services.jobs.move(call.who(), call.path["uuid"], body.printer))


_UUID = {"uuid": "the job's UUID"}
OPERATIONS = (
    Operation("GET", "/jobs", list_jobs, "List jobs of every state", "jobs",
              Section.PRINTERS, Access.READ, query=m.JobQuery, response=m.JobPage),
    Operation("GET", "/jobs/{uuid}", get_job, "One job", "jobs", Section.PRINTERS,
              Access.READ, response=m.JobOut, path_params=_UUID),
    Operation("POST", "/jobs/{uuid}/cancel", cancel_job, "Cancel a job", "jobs",
              Section.PRINTERS, Access.WRITE, response=m.JobOut, path_params=_UUID),
    Operation("POST", "/jobs/{uuid}/hold", hold_job, "Hold a job", "jobs",
              Section.PRINTERS, Access.WRITE, response=m.JobOut, path_params=_UUID),
    Operation("POST", "/jobs/{uuid}/release", release_job, "Release a held job", "jobs",
              Section.PRINTERS, Access.WRITE, response=m.JobOut, path_params=_UUID),
    Operation("POST", "/jobs/{uuid}/move", move_job,
              "Move a pending or held job to another printer", "jobs", Section.PRINTERS,
              Access.WRITE, body=m.JobMove, response=m.JobOut, path_params=_UUID),
)
