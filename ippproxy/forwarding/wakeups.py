"""Per-job wake-ups: a task following or converting a job sleeps until the job changes.

The server tells the Forwarder when a job changed (a Cancel-Job, a release); the task
working on that job (following it at the printer, follow.py, or converting its document,
outgoing.py) then looks at it at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib


class JobWakeups:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def watch(self, job_uuid: str) -> None:
        """From now on ``changed(job_uuid)`` wakes a :meth:`wait` on the job."""
        self._events[job_uuid] = asyncio.Event()

    def forget(self, job_uuid: str) -> None:
        self._events.pop(job_uuid, None)

    def changed(self, job_uuid: str) -> None:
        ev = self._events.get(job_uuid)
        if ev is not None:
            ev.set()

    async def wait(self, job_uuid: str, timeout: float) -> None:
        """Sleep ``timeout`` seconds, or less if ``changed(job_uuid)`` is called."""
        ev = self._events.get(job_uuid)
        if ev is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await ev.wait()
        ev.clear()
