"""Jobs whose account question went unanswered (issue 17): a job held
``account-info-needed`` (payer.py) longer than ``accounting.popup_timeout`` seconds after it
was submitted is canceled, with that reason and a job-state-message saying so; nothing was
reserved for it, so nothing is charged, and its documents go with the job history. So is a
job of a "popup" queue whose user never confirmed who printed it
(``ippproxy-identity-needed``, identity.py). The
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
from ippproxy.pipeline.identity import IDENTITY_NEEDED
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
        if PayerReason.INFO_NEEDED in job.state_reasons:
            reason, what = PayerReason.INFO_NEEDED.value, "no account was chosen"
        elif IDENTITY_NEEDED in job.state_reasons:
            reason, what = IDENTITY_NEEDED, "nobody confirmed who printed it"
        else:
            continue
        try:
            canceled.append(await store.transition(
                job.uuid, JobEvent.CANCEL, reasons=(reason,),
                message=f"{what} within {minutes} minute(s): the job was deleted and "
                        "nothing was charged"))
        except InvalidTransition:   # released or canceled meanwhile
            continue
        log.info("job %s of %s on %s canceled: %s in time", job.uuid,
                 job.owner, job.queue, what)
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
