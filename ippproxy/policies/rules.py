"""The rules (PaperCut's filters and restrictions, issue 5 §5), each a pure object.

Limits deny with a reason the user reads as IPP status-message; a rule that
needs a fact the server could not establish (``pages is None``) does not guess:
``unknown`` chooses allow (default) or hold for an operator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

from ippproxy.policies.decision import Decision
from ippproxy.policies.facts import JobFacts
from ippproxy.policies.money import money

Unknown = Literal["allow", "hold", "deny"]


def _unknown(mode: Unknown, what: str, name: str) -> Decision:
    if mode == "allow":
        return Decision.allow()
    text = f"The {what} of this job could not be determined."
    return Decision.hold(text, name) if mode == "hold" else Decision.deny(text, name)


@dataclass(frozen=True)
class MaxPages:
    limit: int  # impressions of the whole job, copies included
    unknown: Unknown = "allow"
    name: str = "max-pages"

    def decide(self, job: JobFacts) -> Decision:
        if job.impressions is None:
            return _unknown(self.unknown, "page count", self.name)
        if job.impressions > self.limit:
            return Decision.deny(f"The job has {job.impressions} pages; the limit on "
                                 f"{job.printer} is {self.limit}.", self.name)
        return Decision.allow()


@dataclass(frozen=True)
class MaxCopies:
    limit: int
    name: str = "max-copies"

    def decide(self, job: JobFacts) -> Decision:
        if job.copies > self.limit:
            return Decision.deny(f"{job.copies} copies requested; at most {self.limit} "
                                 "are allowed.", self.name)
        return Decision.allow()


@dataclass(frozen=True)
class MaxCost:
    limit: int  # minor units
    currency: str = "EUR"
    exponent: int = 2
    unknown: Unknown = "allow"
    name: str = "max-cost"

    def decide(self, job: JobFacts) -> Decision:
        if job.cost is None:
            return _unknown(self.unknown, "cost", self.name)
        if job.cost > self.limit:
            return Decision.deny(
                f"The job costs {money(job.cost, self.currency, self.exponent)}; jobs over "
                f"{money(self.limit, self.currency, self.exponent)} are not allowed.",
                self.name)
        return Decision.allow()


@dataclass(frozen=True)
class MaxSpoolSize:
    limit: int  # bytes
    name: str = "max-spool-size"

    def decide(self, job: JobFacts) -> Decision:
        if job.size > self.limit:
            return Decision.deny(f"The document is {job.size // 1024} KiB; the limit is "
                                 f"{self.limit // 1024} KiB.", self.name)
        return Decision.allow()


@dataclass(frozen=True)
class PaperSizes:
    allowed: frozenset[str]  # PWG 5101.1 media names
    name: str = "paper-sizes"

    def decide(self, job: JobFacts) -> Decision:
        bad = sorted(job.media - self.allowed)
        if bad:
            return Decision.deny(f"Paper size {', '.join(bad)} is not allowed on "
                                 f"{job.printer}.", self.name)
        return Decision.allow()


@dataclass(frozen=True)
class AllowedFormats:
    formats: frozenset[str]  # MIME types (RFC 8011 document-format)
    name: str = "allowed-formats"

    def decide(self, job: JobFacts) -> Decision:
        fmt = job.document_format.split(";")[0].strip().lower()
        if fmt not in self.formats:
            return Decision.deny(f"Documents of type {fmt} are not accepted on "
                                 f"{job.printer}.", self.name)
        return Decision.allow()


@dataclass(frozen=True)
class AllowedUsers:
    """Only these users or members of these groups may print (canonical names)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    name: str = "allowed-users"

    def decide(self, job: JobFacts) -> Decision:
        if job.user in self.users or self.groups & job.groups:
            return Decision.allow()
        return Decision.deny(f"User {job.user} may not print on {job.printer}.", self.name)


@dataclass(frozen=True)
class ForceGrayscale:
    """Convert colour jobs to grayscale (exempt groups via :class:`Scoped`)."""

    name: str = "force-grayscale"

    def decide(self, job: JobFacts) -> Decision:
        if job.color is False:
            return Decision.allow()
        return Decision.modify(f"Printed in grayscale on {job.printer}.", grayscale=True,
                               policy=self.name)


@dataclass(frozen=True)
class ForceDuplex:
    min_pages: int = 2  # a one-page job gains nothing from duplex
    name: str = "force-duplex"

    def decide(self, job: JobFacts) -> Decision:
        if job.duplex or (job.pages is not None and job.pages < self.min_pages):
            return Decision.allow()
        return Decision.modify(f"Printed double-sided on {job.printer}.", duplex=True,
                               policy=self.name)


class RecentJobs(Protocol):
    """Lookup for duplicate detection (the job store implements it)."""

    def seen(self, user: str, sha256: str, since: dt.datetime, exclude_job: str) -> bool: ...


@dataclass(frozen=True)
class DuplicateJobs:
    """Deny the same document from the same user within ``window``."""

    recent: RecentJobs
    window: dt.timedelta = dt.timedelta(minutes=10)
    name: str = "duplicate-job"

    def decide(self, job: JobFacts) -> Decision:
        if not job.sha256:
            return Decision.allow()
        since = job.submitted_at - self.window
        if self.recent.seen(job.user, job.sha256, since, job.job_uuid):
            minutes = int(self.window.total_seconds() // 60)
            return Decision.deny(f"The same document was printed in the last {minutes} "
                                 "minutes; duplicate job refused.", self.name)
        return Decision.allow()


class MemoryRecentJobs:
    """A :class:`RecentJobs` in memory (tests, single node); ``add`` as jobs arrive."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, str, dt.datetime, str]] = []

    def add(self, user: str, sha256: str, when: dt.datetime, job_uuid: str) -> None:
        self._jobs.append((user, sha256, when, job_uuid))

    def seen(self, user: str, sha256: str, since: dt.datetime, exclude_job: str) -> bool:
        return any(u == user and h == sha256 and w >= since and j != exclude_job
                   for u, h, w, j in self._jobs)
