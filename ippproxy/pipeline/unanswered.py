"""Jobs whose account question went unanswered (issue 17): a job held
``account-info-needed`` (payer.py) longer than ``accounting.popup_timeout`` seconds after it
was submitted is canceled, with that reason and a job-state-message saying so; nothing was
reserved for it, so nothing is charged, and its documents go with the job history. The
server's housekeeping calls ``cancel_unanswered`` on every pass; each cancel is one
transition in the store (a job answered or released meanwhile is left alone).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.payer import PayerReason

log = logging.getLogger(__name__)
BATCH = 500


async def cancel_unanswered(store: JobStore, timeout: float,
                            now: dt.datetime | None = None) -> list[JobRecord]:
    """Cancel the held jobs whose account question is older than ``timeout`` seconds."""
    cutoff = (now or store.clock()) - dt.timedelta(seconds=timeout)
    minutes = max(1, round(timeout / 60))
    canceled = []
    async for job in _held_before(store, cutoff):
        if PayerReason.INFO_NEEDED not in job.state_reasons:
            continue
        try:
            canceled.append(await store.transition(
                job.uuid, JobEvent.CANCEL, reasons=(PayerReason.INFO_NEEDED.value,),
                message=f"no account was chosen within {minutes} minute(s): the job was "
                        "deleted and nothing was charged"))
        except InvalidTransition:   # released or canceled meanwhile
            continue
        log.info("job %s of %s on %s canceled: no account chosen in time", job.uuid,
                 job.owner, job.queue)
    return canceled


async def _held_before(store: JobStore, cutoff: dt.datetime) -> AsyncIterator[JobRecord]:
    """Every job held since before ``cutoff``, oldest first, a page at a time."""
    offset = 0
    while True:
        page, _ = await store.search_jobs(JobQuery(
            states=(JobState.PENDING_HELD,), until=cutoff, sort="created_at",
            descending=False, offset=offset, limit=BATCH))
        for job in page:
            yield job
        if len(page) < BATCH:
            return
        offset += BATCH
