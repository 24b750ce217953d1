"""Jobs refused by a rule: shown live, and recorded where every node sees them.

A denied job is never stored (the intake refuses it before the job exists), so the job
store cannot count it. The intake's hook (``job_denied``, on the event loop) publishes it to
this node's live activity (``EventHub``) and writes an audit entry ``job.deny`` (the queue,
the user as the actor, the rule's reason) to the audit log that all nodes share, in a
worker thread: the dashboard's "Denied" figure counts those entries (``since``), so every
node shows every node's denials, and the audit log lists them; the live event is published
once the entry is written. A failed write is logged, never raised into the intake.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditEntry, AuditSink, entry
from ippproxy.services.events import EventHub

log = logging.getLogger(__name__)

ACTION = "job.deny"
MAX_REASON = 500

# (action, since) -> how many audit entries of that action there are since then
Count = Callable[[str, dt.datetime], int]


class Denials:
    def __init__(self, hub: EventHub, audit: AuditSink, count: Count) -> None:
        self.hub = hub
        self.audit = audit
        self.count = count
        self._writing: set[asyncio.Future[None]] = set()

    def job_denied(self, queue: str, user: str, message: str) -> None:
        """The intake hook: a job refused by a rule. The live event follows the audit
        write, so a dashboard that reloads its figures on the event counts it."""
        e = entry(Actor(user or "unknown", Via.IPP), ACTION, f"queue:{queue}", None,
                  {"reason": message[:MAX_REASON]})
        write = asyncio.get_running_loop().run_in_executor(None, self._record, e)
        self._writing.add(write)

        def written(done: asyncio.Future[None]) -> None:
            self._writing.discard(done)
            self.hub.job_denied(queue, user, message)
        write.add_done_callback(written)

    def _record(self, e: AuditEntry) -> None:
        try:
            self.audit.record(e)
        except Exception:
            log.exception("could not record a denied job in the audit log")

    async def since(self, when: dt.datetime) -> int:
        """Jobs denied since ``when``, on every node."""
        return await asyncio.to_thread(self.count, ACTION, when)

    async def drain(self) -> None:
        """Wait for the audit writes under way (at shutdown, and for tests)."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)
