"""What each job in the admin's job list cost: the net amount charged (the accounting
package's job charges), formatted in the configured currency. Prices are finance
information: an admin without read access to ``finance`` sees none."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ippproxy.accounting.service import AccountingService

from .actor import Access, Actor, Section


class JobPrices:
    def __init__(self, accounting: AccountingService) -> None:
        self.accounting = accounting

    async def of(self, actor: Actor, job_uuids: Sequence[str]) -> dict[str, str]:
        if not actor.may(Section.FINANCE, Access.READ) or not job_uuids:
            return {}
        found = await asyncio.to_thread(self.accounting.charged, list(job_uuids))
        return {uuid: self.accounting.money(amount) for uuid, amount in found.items()}

    async def logged(self, job_uuids: list[str]) -> dict[str, str]:
        """The same for the server's job log (services/joblog.py), which is the system's."""
        return await self.of(Actor.system(), job_uuids)
