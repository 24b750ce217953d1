"""A user cancels their own job before it prints (issue 17 §8: the user web app's held
jobs), no HTTP.

Only a job that has not started printing (``pending``, ``pending-held``; RFC 8011
§5.3.7) is the owner's to cancel here; another user's job is ``NotFound`` (nobody learns
of it), one that moved on is ``Conflict``. Nothing is charged: a job held for its payer
was never charged, and a reserved charge of a job canceled before it printed is refunded
by the settlement (as for every canceled job, ``accounting/settlement.py``).
"""

from __future__ import annotations

import asyncio

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.services.actor import Actor
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Conflict
from ippproxy.services.userside import UserSide

CANCELABLE = frozenset({JobState.PENDING, JobState.PENDING_HELD})


async def cancel_own(side: UserSide, actor: Actor, uuid: str) -> JobRecord:
    job = await side.job(actor, uuid)       # NotFound unless it is the actor's
    if job.state not in CANCELABLE:
        raise Conflict(f"job {job.job_id} is {job.state.keyword}: only a job that has not "
                       "started printing can be canceled here")
    try:
        new = await side.store.transition(job.uuid, JobEvent.CANCEL,
                                          reasons=("job-canceled-by-user",),
                                          message="canceled by its owner before printing")
    except InvalidTransition:
        raise Conflict(f"job {job.job_id} changed meanwhile; reload the page") from None
    side.notifier.job_changed(job.uuid)
    await asyncio.to_thread(side.audit.record, entry(
        actor, "job.cancel", f"job:{job.uuid}", {"state": job.state.keyword},
        {"state": new.state.keyword}))
    return new
