"""A job moved to another queue is priced there (the admin's move, services.jobs).

The counts kept in the job's analysis at intake (``counting.counts_json``) are priced with
the new queue's cost model and the reservation adjusted by one ledger row with its reason
(``accounting.requote``); the job's analysis gets the new estimate, which
Get-Job-Attributes shows as ``ippproxy-cost-estimate``. A job with no counts (its pages
could not be counted, or it is older than the kept counts) keeps its price.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ippproxy.accounting import AccountingService, JobCounts
from ippproxy.accounting.requote import requote
from ippproxy.jobs.records import JobRecord
from ippproxy.pipeline import counting


@dataclass(frozen=True)
class Quote:
    before: int
    after: int
    analysis: Mapping[str, Any]     # the job's analysis with the new estimate


class Requoter:
    def __init__(self, accounting: AccountingService) -> None:
        self.accounting = accounting

    async def requote(self, job: JobRecord, queue: str, actor: str, *,
                      counts: JobCounts | None = None, what: str = "job moved"
                      ) -> Quote | None:
        """The job priced on ``queue`` and its reservation adjusted; None: it keeps its
        price (no counts). Raises ``CreditRefused`` when its account cannot pay more.
        ``counts``: as it will print there (a Find-Me release, pipeline/findme_release.py);
        None: as counted at intake."""
        counts = counts or counting.counts_from_json(job.analysis)
        if counts is None or job.analysis is None:
            return None
        a = self.accounting
        account = job.analysis.get("account")
        q = await asyncio.to_thread(
            requote, a.engine, a.pricing, a.settings, job.uuid, owner=job.owner,
            printer=queue, counts=counts, actor=actor, key=f"move:{job.uuid}:{uuid.uuid4()}",
            account_code=account if isinstance(account, str) else None, what=what)
        attributes = dict(job.analysis.get("attributes") or {})
        attributes["ippproxy-cost-estimate"] = a.money(q.after)
        return Quote(q.before, q.after,
                     {**job.analysis, "estimate": q.after, "attributes": attributes})
