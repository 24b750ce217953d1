"""The server's background tasks stopped at shutdown, in bounded time.

A task is cancelled and awaited. One that does not end (a loop that lost its
cancellation: on Python 3.11 ``asyncio.wait_for`` can return, or raise TimeoutError, when
a cancel comes at the moment its wait ends) must not keep the server from stopping: it
is named in the log and left behind after ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)
STOP_TIMEOUT = 5.0


async def stop_tasks(tasks: Sequence[asyncio.Task[object]],
                     timeout: float = STOP_TIMEOUT) -> list[str]:
    """Cancel ``tasks`` and wait for them, at most ``timeout`` seconds; the names of
    those still running then (logged)."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in done:          # retrieved, so that none is reported as never retrieved
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("background task %s ended with %r", task.get_name(), error)
    names = sorted(task.get_name() for task in pending)
    for name in names:
        log.error("background task %s did not stop when cancelled; left behind", name)
    return names
