"""Periodic upkeep of the queues' jobs, run by the composition root as a background task.

* Create-Job without its last document for longer than ``multiple-operation-time-out``
  (``server.multiple_operation_timeout``)
  (RFC 8011 §5.4.31 / PWG 5100.7): aborted (``multiple-operation-time-out-action`` is
  ``abort-job``), so an abandoned job never blocks anything;
* finished jobs older than ``server.job_history_seconds`` are purged with their spooled
  documents (their job-ids stay used);
* held jobs whose hold-until time has come are released;
* with accounting, jobs held for an account choice past ``accounting.popup_timeout`` are
  canceled, nothing charged (pipeline/unanswered.py);
* jobs held for release (hold/release queues, PIN jobs) past ``accounting.release_expiry``
  are canceled, their reservations refunded, audited (services/release.py).
Each pass is guarded: a failure is logged and the next pass runs as usual.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from ippproxy.pipeline.unanswered import cancel_unanswered
from ippproxy.server.context import ServerContext

log = logging.getLogger(__name__)

INTERVAL = 10.0


async def run_once(ctx: ServerContext) -> None:
    store = ctx.store
    now = store.clock()
    aborted = await store.abort_incomplete(
        now - dt.timedelta(seconds=ctx.config.server.multiple_operation_timeout))
    for job in aborted:
        ctx.notifier.job_changed(job.uuid)
    released = await store.release_expired_holds(now)
    for job in released:
        ctx.notifier.job_changed(job.uuid)
    if ctx.config.accounting.enabled:
        for job in await cancel_unanswered(store, ctx.config.accounting.popup_timeout, now):
            ctx.notifier.job_changed(job.uuid)
    if ctx.release is not None:
        await ctx.release.expire(now)       # it tells the notifier and the audit log
    purged = await store.purge_history(now - dt.timedelta(
        seconds=ctx.config.server.job_history_seconds))
    for name in purged.spool_names:
        await asyncio.to_thread(ctx.spool.delete, name)
    if aborted or released or purged.job_uuids:
        log.info("housekeeping: %d aborted, %d released, %d purged", len(aborted),
                 len(released), len(purged.job_uuids))


async def run_forever(ctx: ServerContext, interval: float = INTERVAL) -> None:
    while True:
        try:
            await run_once(ctx)
        except Exception:
            log.exception("housekeeping pass failed")
        await asyncio.sleep(interval)
