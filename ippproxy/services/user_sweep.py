"""The daily sweep of deleted users (SavaPage manual, "Users", §4.4.6; issue 18): a user
deleted logically (it had job history or transactions) is deleted physically once that
history is gone (the job history and transaction retention removed it). Run by the
composition root as a background task; each pass is guarded like housekeeping's."""

from __future__ import annotations

import asyncio
import logging

from ippproxy.services.user_life import UserLife

log = logging.getLogger(__name__)

DAY = 86400.0


async def run_forever(life: UserLife, interval: float = DAY) -> None:
    while True:
        try:
            gone = await asyncio.to_thread(life.sweep)
            if gone:
                log.info("deleted %d logically deleted user(s) with no history left",
                         len(gone))
        except Exception:
            log.exception("the deleted users' sweep failed")
        await asyncio.sleep(interval)
