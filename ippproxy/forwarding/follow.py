"""Following a job at the destination to a terminal state (see worker.py, step 3).

Each round: reload our job (a Cancel-Job on our side shows up here and is passed
on as Cancel-Job to the destination), then Get-Job-Attributes of the remote job.
The remote state is mirrored: processing-stopped <-> processing, and a terminal
state ends the loop after job-impressions-completed / job-media-sheets-completed
are recorded. An unreachable destination is retried with back-off, the job stays
``processing`` (the printer has it; sending it again would print it twice).
"""

from __future__ import annotations

import logging

from ippproxy.ipp import Status
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore

from .backoff import Backoff
from .client import DestinationClient, RemoteJob
from .errors import DestinationRejected, DestinationUnavailable
from .wakeups import JobWakeups

log = logging.getLogger(__name__)


async def follow_remote(store: JobStore, client: DestinationClient, rec: JobRecord,
                        remote_id: int, *, wakeups: JobWakeups, backoff: Backoff,
                        poll_interval: float, note: str = "") -> int | None:
    """Until the remote job ends; ``wakeups`` cuts a wait short when our job changes,
    ``note`` (what was done to the document) goes into the completed job's message.
    Returns the remote job's final job-state when it was mirrored, else None."""
    failures = 0
    while True:
        ours = await store.get_by_uuid(rec.uuid)
        if ours is None:
            return None
        if ours.is_terminal:  # canceled (or aborted) on our side: stop the printer too
            await _cancel_remote(client, remote_id)
            return None
        try:
            remote = await client.get_job(remote_id)
        except DestinationUnavailable as exc:
            failures += 1
            delay = backoff.delay(failures)
            if failures == 1:
                await store.set_reasons(rec.uuid, ours.state_reasons,
                                        f"printer not answering ({exc.message}); job {remote_id}"
                                        " is at the printer, checking again")
            await wakeups.wait(rec.uuid, delay)
            continue
        except DestinationRejected as exc:
            if exc.status == Status.CLIENT_ERROR_NOT_FOUND:
                await store.transition(rec.uuid, JobEvent.ABORT,
                                       reasons=("aborted-by-system",),
                                       message=f"the printer no longer knows job {remote_id}")
                return None
            raise
        failures = 0
        if await _mirror(store, ours, remote, note):
            return remote.state
        await wakeups.wait(rec.uuid, poll_interval)


async def _mirror(store: JobStore, ours: JobRecord, remote: RemoteJob, done: str) -> bool:
    """Copy the remote state onto ours; True when the remote job is terminal. ``done``:
    what was done to the document (the conversion), for the completed job's message."""
    note = remote.message or ", ".join(r for r in remote.reasons if r != "none")
    if remote.state == JobState.PROCESSING_STOPPED:
        if ours.state == JobState.PROCESSING:
            await store.transition(ours.uuid, JobEvent.DESTINATION_STOPPED,
                                   reasons=("printer-stopped",),
                                   message=f"printer stopped: {note or 'no reason given'}")
        return False
    if not remote.terminal:
        if ours.state == JobState.PROCESSING_STOPPED:
            await store.transition(ours.uuid, JobEvent.DESTINATION_RESUMED,
                                   message=f"printing as job {remote.job_id}")
        return False
    # What the printer counted and how the job ended, in one write (one commit).
    if remote.state == JobState.COMPLETED:
        event, reasons = JobEvent.COMPLETE, None
        message = f"printed as job {remote.job_id}" + (f" ({done})" if done else "")
    elif remote.state == JobState.CANCELED:
        event, reasons = JobEvent.CANCEL, ("job-canceled-at-device",)
        message = f"canceled at the printer: {note}".rstrip(": ")
    else:
        event, reasons = JobEvent.ABORT, ("aborted-by-system",)
        message = f"the printer aborted the job: {note}".rstrip(": ")
    try:
        await store.transition(ours.uuid, event, reasons=reasons, message=message,
                               impressions=remote.impressions, sheets=remote.sheets)
    except InvalidTransition:
        # Ours ended meanwhile (Cancel-Job on our side): what the printer did is kept.
        await store.set_counts(ours.uuid, impressions=remote.impressions,
                               sheets=remote.sheets)
        raise
    return True


async def _cancel_remote(client: DestinationClient, remote_id: int) -> None:
    try:
        await client.cancel(remote_id)
    except (DestinationUnavailable, DestinationRejected) as exc:
        log.warning("could not cancel job %d at the printer: %s", remote_id, exc)
