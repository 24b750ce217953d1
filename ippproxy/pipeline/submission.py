"""What the server hands the intake pipeline: one submission request as plain data.

The IPP handlers (server/ops/submit.py) read the request (operation attributes, the job
group, the document stream, the user) and the queue's printer attributes; the pipeline
sees no HTTP objects and no server state. Names are already cleaned by the server
(``job-name``, ``document-name``, ``job-originating-host-name``: control characters
removed, length capped).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ippproxy.ipp import Attribute
from ippproxy.jobs.records import JobRecord


async def no_document() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover


@dataclass(frozen=True)
class SubmissionChecks:
    """What job submission checks a request against: the queue's printer attributes
    (RFC 8011 §5.4, as Get-Printer-Attributes shows them), indexed by name."""

    printer: Mapping[str, Attribute]

    @cached_property
    def formats(self) -> frozenset[object]:
        """document-format-supported (computed once: the checks are cached per queue)."""
        a = self.printer.get("document-format-supported")
        return frozenset(a.plain) if a is not None else frozenset()


@dataclass(frozen=True)
class Submission:
    """One Print-Job, Validate-Job, Create-Job or Send-Document request."""

    queue: str
    user: str                                      # authenticated or as claimed
    operation: str                                 # "Print-Job", "Send-Document", ...
    checks: SubmissionChecks
    accepting: bool = True                         # printer-is-accepting-jobs
    operation_attributes: tuple[Attribute, ...] = ()
    job_attributes: tuple[Attribute, ...] = ()     # the job group as sent
    job_name: str = ""                             # job-name, else document-name (cleaned)
    document_name: str | None = None               # cleaned
    originating_host: str | None = None            # cleaned
    peer_address: str | None = None                # the socket's peer (never a claim)
    body: AsyncIterator[bytes] = field(default_factory=no_document)
    # ``authentication = "popup"`` and nobody proven: ``user`` is only claimed; the job
    # waits for its user's client to confirm who printed it (identity.py).
    unproven: bool = False
    # Held at intake for its release whatever the rules decide (issue 17 §6): the
    # job-state-reasons keyword (a hold/release queue: job-hold-until-specified; a PIN
    # job: job-password-wait), set by the server from the queue and the request.
    release_hold: str | None = None
    # A PIN job's salted PIN hash (services/job_pin.py), kept in the job's analysis.
    pin_hash: str | None = None

    def op(self, name: str) -> Attribute | None:
        return next((a for a in self.operation_attributes if a.name == name), None)

    def op_str(self, name: str) -> str | None:
        a = self.op(name)
        return a.value if a is not None and isinstance(a.value, str) else None


@dataclass(frozen=True)
class Accepted:
    """A job created (or given its document): the record and the job-template
    attributes that were ignored (echoed in the unsupported group, RFC 8011 §4.1.7)."""

    job: JobRecord
    unsupported: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class Validated:
    """Validate-Job: the ignored attributes and a price quote ("" for none)."""

    unsupported: tuple[Attribute, ...] = ()
    message: str = ""
