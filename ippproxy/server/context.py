"""Shared server state (one per app) and the per-request view handlers receive."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ippproxy.config import Config, QueueConfig
from ippproxy.ipp import Attribute, Message, Tag
from ippproxy.jobs.records import QueueStateRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.metrics import Metrics
from ippproxy.pipeline import Intake, SubmissionChecks
from ippproxy.pipeline.submission import no_document
from ippproxy.server.basic_auth import BasicAuthenticator
from ippproxy.server.hooks import JobNotifier, NoNotifier, NoRecorder, QueueStateRecorder
from ippproxy.server.identity import NOBODY, Identity
from ippproxy.server.receiving import Receiving
from ippproxy.server.subscriptions import Subscriptions
from ippproxy.server.uris import Origin
from ippproxy.services.release import Release

# Stable per-queue printer-uuid (RFC 8011 §5.4.43 via PWG 5100.13): uuid5 of the queue name.
PRINTER_UUID_NAMESPACE = uuid.UUID("5f0d7c6e-8d1a-4c3b-9a77-1f6a9b0c2e11")


class CapabilitySource(Protocol):
    """The destination printer's own attributes (the forwarding client's cache)."""

    async def printer_attributes(self, queue: QueueConfig) -> tuple[Attribute, ...] | None:
        """The destination's printer group, or None when it was never reachable."""
        ...

    async def identify(self, queue: QueueConfig, actions: tuple[str, ...],
                       message: str) -> bool:
        """Identify-Printer at the destination; False when it cannot (PWG 5100.13 §4.1)."""
        ...

    def forget(self, queue: str) -> None:
        """Drop what is cached for the queue (its destination changed, or it is gone)."""
        ...


@dataclass
class QueueRuntime:
    """Per-queue state as this node answers it. ``paused`` and ``accepting`` are a copy of
    the queue's state in the job store (``JobStore.queue_states``, shared by every node and
    kept across restarts): the Pause-/Resume-/Enable-/Disable-Printer handlers write the
    store and :meth:`restore` the copy from its answer."""

    config: QueueConfig
    paused: bool = False
    accepting: bool = True
    state_change_time: int = field(default_factory=lambda: int(time.time()))
    state_message: str = ""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def uuid(self) -> str:
        return f"urn:uuid:{uuid.uuid5(PRINTER_UUID_NAMESPACE, self.config.name)}"

    def touch(self, message: str = "") -> None:
        self.state_change_time = int(time.time())
        self.state_message = message

    def restore(self, state: QueueStateRecord) -> None:
        """Take the stored state (at start, and after each change)."""
        self.paused, self.accepting = state.paused, state.accepting
        if state.changed_at is not None:
            self.state_change_time = int(state.changed_at.timestamp())
            self.state_message = state.message


async def load_queues(queues: Iterable[QueueConfig], store: JobStore
                      ) -> dict[str, QueueRuntime]:
    """The configured queues with their stored state (a pause survives a restart)."""
    states = await store.queue_states()
    runtimes = {q.name: QueueRuntime(q) for q in queues}
    for name, runtime in runtimes.items():
        if name in states:
            runtime.restore(states[name])
    return runtimes


def default_queue(queues: Iterable[QueueConfig]) -> str:
    """The name of the queue marked default, else of the first; "" without queues."""
    first = ""
    for q in queues:
        if q.default:
            return q.name
        first = first or q.name
    return first


@dataclass(frozen=True)
class CachedChecks:
    """A queue's SubmissionChecks and what they were built from: the destination's
    attributes (the same tuple while they do not change) and the queue's config."""

    destination: tuple[Attribute, ...] | None
    config: QueueConfig
    checks: SubmissionChecks


@dataclass
class ServerContext:
    config: Config
    store: JobStore
    spool: Spool
    capabilities: CapabilitySource
    intake: Intake                       # the submission pipeline (ippproxy.pipeline)
    notifier: JobNotifier = field(default_factory=NoNotifier)
    subscriptions: Subscriptions | None = None
    started: float = field(default_factory=time.time)
    queues: dict[str, QueueRuntime] = field(default_factory=dict)
    # HTTP authentication per queue (None: every queue trusts requesting-user-name).
    authenticator: BasicAuthenticator | None = None
    # Per queue: what job submission checks against, reused while the destination's
    # attributes are the same object (ops.common.submission_checks).
    checks_cache: dict[str, CachedChecks] = field(default_factory=dict)
    # Job submissions in flight (receiving.py); the Forwarder reads it.
    receiving: Receiving = field(default_factory=Receiving)
    # The app's Prometheus metrics (metrics.py), shared with the intake and the Forwarder.
    metrics: Metrics = field(default_factory=Metrics)
    # Told when an IPP request changed a queue's state (audit, and the other nodes).
    state_recorder: QueueStateRecorder = field(default_factory=NoRecorder)
    # Releases jobs held for release, expires them (services/release.py; issue 17 §6).
    release: Release | None = None

    def __post_init__(self) -> None:
        if not self.queues:
            self.queues = {q.name: QueueRuntime(q) for q in self.config.queues}

    @property
    def default_queue(self) -> str:
        """The queue marked default, else the first (CUPS-Get-Default, ``/ipp/print``)."""
        return default_queue(self.config.queues)

    def reconfigure(self, config: Config, states: Mapping[str, QueueStateRecord]) -> None:
        """Take a new effective configuration (the catalog changed, on this node or
        another): queues added take jobs at once, deleted ones are gone (their URI answers
        client-error-not-found), changed ones answer with their new settings; every
        queue's paused/accepting state is re-read from the store."""
        self.config = config
        queues: dict[str, QueueRuntime] = {}
        for q in config.queues:
            runtime = self.queues.get(q.name) or QueueRuntime(q)
            if runtime.config != q:
                if runtime.config.destination != q.destination or \
                        runtime.config.force_print_job != q.force_print_job:
                    self.capabilities.forget(q.name)
                runtime.config = q
                self.checks_cache.pop(q.name, None)
            if q.name in states:
                runtime.restore(states[q.name])
            queues[q.name] = runtime
        for gone in set(self.queues) - set(queues):
            self.capabilities.forget(gone)
            self.checks_cache.pop(gone, None)
        self.queues = queues
        if self.authenticator is not None:
            self.authenticator.configure(config.queues)


@dataclass
class OpRequest:
    """One decoded IPP request as an operation handler sees it."""

    ctx: ServerContext
    msg: Message
    origin: Origin                        # host:port and scheme for the URIs we write
    queue: QueueRuntime | None            # the target queue (None: server-level request)
    job_id: int | None                    # from job-uri or the job-id operation attribute
    user: str                             # requesting user (authenticated or as claimed)
    body: AsyncIterator[bytes] = field(default_factory=no_document)   # document, streamed
    operations: tuple[int, ...] = ()      # operations-supported (the dispatcher's table)
    identity: Identity = NOBODY           # who authn.py proved (admin or not)

    def op(self, name: str) -> Attribute | None:
        return self.msg.get(Tag.OPERATION_ATTRIBUTES, name)

    def op_value(self, name: str, default: object = None) -> object:
        a = self.op(name)
        return default if a is None else a.value

    @property
    def natural_language(self) -> str:
        v = self.op_value("attributes-natural-language", "en")
        return v if isinstance(v, str) else "en"
