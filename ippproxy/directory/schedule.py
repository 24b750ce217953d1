"""The scheduled user source sync: every ``interval`` seconds, in a thread. A failed sync
(directory down or slow, a clash) is logged with its reason and tried again at the next
interval; it writes and deletes nothing. Scheduled syncs never delete users missing from
the directory: that is the admin's bulk delete."""

from __future__ import annotations

import asyncio
import logging

from ippproxy.accounting import AccountingError
from ippproxy.directory.errors import DirectoryError
from ippproxy.directory.sync import DirectorySync, SyncResult

log = logging.getLogger(__name__)


async def sync_once(sync: DirectorySync) -> SyncResult | None:
    try:
        result = await asyncio.to_thread(sync.apply, actor="scheduled directory sync")
    except (DirectoryError, AccountingError) as e:
        log.warning("directory sync failed, nothing changed: %s", e)
        return None
    if result.applied:
        log.info("directory sync: %s", result.plan.summary())
    for w in result.plan.warnings:
        log.warning("directory sync: %s", w)
    return result


async def run_forever(sync: DirectorySync, interval: float) -> None:
    while True:
        await sync_once(sync)
        await asyncio.sleep(interval)
