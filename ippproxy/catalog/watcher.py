"""Every node sees a change: poll the catalog's version, publish a new snapshot when it moves.

The poll is one primary-key read every ``interval`` seconds (``catalog.watch_interval``).
When the version differs from the last published snapshot's, the whole snapshot is read in
one transaction and handed to ``on_change`` (the composition root reconfigures the server,
the forwarder and the pipeline with it). A failed read is logged and retried at the next
tick: a database hiccup never stops the watching. A snapshot whose hand-over failed is
handed over again at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .snapshot import Snapshot
from .store import Catalog

log = logging.getLogger(__name__)


class CatalogWatcher:
    def __init__(self, catalog: Catalog, current: Snapshot, interval: float,
                 on_change: Callable[[Snapshot], Awaitable[None]]) -> None:
        self.catalog, self.current, self.interval = catalog, current, interval
        self.on_change = on_change
        self._task: asyncio.Task[None] | None = None
        # One look at a time: a look asked for after a change on this node (the admin
        # pages) and the periodic one never hand over snapshots out of order.
        self._one = asyncio.Lock()

    async def poll(self) -> bool:
        """One look; True when a new snapshot was published."""
        async with self._one:
            return await self._look()

    async def _look(self) -> bool:
        version = await asyncio.to_thread(self.catalog.version)
        if version == self.current.version:
            return False
        snapshot = await asyncio.to_thread(self.catalog.snapshot)
        await self.on_change(snapshot)
        self.current = snapshot   # only once taken: a failed hand-over is retried
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("catalog watcher: reading the catalog failed; retrying")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="catalog-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
