"""What the rules may know about a job: plain data, no HTTP, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobFacts:
    job_uuid: str
    user: str  # canonical user name (ippproxy.accounting.identity)
    printer: str  # queue name
    groups: frozenset[str] = frozenset()  # canonical group names
    document_format: str = "application/octet-stream"
    sha256: str = ""  # of the (first) document, decompressed
    size: int = 0  # spooled bytes, decompressed
    pages: int | None = None  # pages of one copy; None: unknown
    impressions: int | None = None  # whole job, copies included; None: unknown
    copies: int = 1
    media: frozenset[str] = frozenset()  # PWG 5101.1 names of the sizes in the job
    color: bool | None = None  # any colour page; None: unknown
    duplex: bool = False  # sides is two-sided-*
    cost: int | None = None  # estimate in minor units, if known
    account: str | None = None  # the account the job names (job-account-id), if any
    submitted_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
