"""Seams the composition root fills: what happens to a job between spool and acknowledgement.

The server calls ``IntakeHook.decide(facts)`` after the document(s) of a job are durably
spooled and before the job row is committed and the client is answered. Policies (force
grayscale, deny rules, hold for account selection) and accounting (estimate, reserve) plug
in here in issues 4 and 5; the default ``AllowAll`` lets every job through unchanged.

A decision is one of:
* ``allow`` — the job goes to the forwarder;
* ``hold`` — the job is stored ``pending-held`` with ``reason`` in job-state-reasons
  (e.g. ``"job-hold-until-specified"``, ``"account-info-needed"``);
* ``deny`` — the job is not created; the client gets ``status`` and ``message``
  (e.g. ``Status.CLIENT_ERROR_NOT_AUTHORIZED``) and the spooled file is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ippproxy.ipp import Attribute
from ippproxy.jobs.records import NewDocument


@dataclass(frozen=True)
class IntakeFacts:
    """What the server knows about a job at intake time (no HTTP objects)."""

    queue: str
    user: str
    job_name: str
    operation: str                                 # "Print-Job", "Send-Document", ...
    document_format: str                           # as supplied or detected (MIME type)
    document_paths: tuple[Path, ...] = ()          # spooled, decompressed documents
    document_sizes: tuple[int, ...] = ()
    document_sha256: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()         # accepted job-template attributes, tags kept
    job_uuid: str = ""


@dataclass(frozen=True)
class IntakeDecision:
    action: Literal["allow", "deny", "hold"] = "allow"
    status: int = 0                                # IPP status for "deny"
    message: str = ""                              # status-message / job-state-message
    reason: str = ""                               # job-state-reasons keyword for "hold"
    # Job-template attributes to set or replace before the job is stored (force duplex, ...).
    overrides: tuple[Attribute, ...] = field(default_factory=tuple)
    # Print-Job: documents already in the spool that replace the received ones (a forced
    # conversion); the server stores these and deletes the originals.
    documents: tuple[NewDocument, ...] = ()
    # The detected document format (the client's may be application/octet-stream).
    document_format: str = ""
    # Stored in the job's analysis column (counts, estimate) for Get-Job-Attributes.
    analysis: Mapping[str, Any] | None = None

    @classmethod
    def allow(cls) -> IntakeDecision:
        return cls()

    @classmethod
    def deny(cls, status: int, message: str) -> IntakeDecision:
        return cls(action="deny", status=status, message=message)

    @classmethod
    def hold(cls, reason: str, message: str = "") -> IntakeDecision:
        return cls(action="hold", reason=reason, message=message)


class IntakeHook(Protocol):
    # A hook may say ``reads_documents = False`` (AllowAll does): then it gets no
    # ``IntakeFacts.document_paths``, and no file is written for it (a small document
    # has none until something reads it: jobs/spool.py). Without the attribute, every
    # document is a file when ``decide`` is called.

    async def decide(self, facts: IntakeFacts) -> IntakeDecision: ...

    async def quote(self, facts: IntakeFacts) -> str:
        """Validate-Job: a price quote for the status-message ("" for none)."""
        ...


_ALLOW = IntakeDecision()


class AllowAll:
    """The default intake hook: every job is allowed as submitted."""

    reads_documents = False

    async def decide(self, facts: IntakeFacts) -> IntakeDecision:
        return _ALLOW  # immutable: one for every job

    async def quote(self, facts: IntakeFacts) -> str:
        return ""


class Authenticator(Protocol):
    """HTTP authentication per queue (RFC 7617 Basic). ``verify`` returns the canonical
    user name for a valid ``Authorization`` header, else None (answer HTTP 401)."""

    def required(self, queue: str) -> bool: ...

    async def verify(self, authorization: str | None) -> str | None: ...


class JobNotifier(Protocol):
    """Told when a job became ready for forwarding or was canceled (wakes the forwarder)."""

    def job_changed(self, job_uuid: str) -> None: ...


class NoNotifier:
    def job_changed(self, job_uuid: str) -> None:
        return None
