"""Waiting on the job store in tests: poll a job until its record satisfies a test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.store import JobStore


async def wait_for_job(store: JobStore, uuid: str, pred: Callable[[JobRecord], bool],
                       timeout: float) -> JobRecord:
    """The job's record once ``pred`` holds; TimeoutError after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            rec = await store.get_by_uuid(uuid)
            assert rec is not None
            if pred(rec):
                return rec
            await asyncio.sleep(0.02)
