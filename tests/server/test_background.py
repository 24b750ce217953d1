"""The server's background tasks stop in bounded time (server/background.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from ippproxy.server.background import stop_tasks


async def _obedient() -> None:
    await asyncio.sleep(3600)


async def _deaf(stop: asyncio.Event) -> None:
    """A loop that loses its cancellation (as a wait_for's timeout can swallow it)."""
    while not stop.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)


async def test_a_task_that_does_not_stop_is_named_and_left_behind(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    obedient = asyncio.create_task(_obedient(), name="obedient")
    deaf = asyncio.create_task(_deaf(stop), name="deaf")
    await asyncio.sleep(0)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="ippproxy.server.background"):
        left = await stop_tasks([obedient, deaf], timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert left == ["deaf"] and obedient.cancelled()
    assert "background task deaf did not stop" in caplog.text
    stop.set()
    await asyncio.wait_for(deaf, 2)


async def test_tasks_that_stop_and_one_that_failed() -> None:
    async def failed() -> None:
        raise RuntimeError("boom")

    broken = asyncio.create_task(failed(), name="broken")
    await asyncio.sleep(0)
    assert await stop_tasks([broken, asyncio.create_task(_obedient())]) == []
    assert await stop_tasks([]) == []
