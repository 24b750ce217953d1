"""``DestinationClient``: the IPP client that hands jobs to one destination printer.

* ``get_printer_attributes()`` is cached for ``attributes_ttl`` seconds
  (operations-supported, document-format-supported, ipp-versions-supported
  drive the choices below).
* ``submit(job, documents)`` uses Create-Job + Send-Document when the printer
  lists both in operations-supported (a remote job-id exists before the upload,
  so cancel works during it), else Print-Job. The job-template attributes go
  through the typed allow-list (allowlist.py); our ``job-uuid`` (urn:uuid:...)
  is always added to the job group so the job can be found again with Get-Jobs.
* ``find_job_by_uuid(uuid)`` asks Get-Jobs which-jobs=all for job-uuid. A
  printer that answers without job-uuid values raises
  :class:`JobLookupUnsupported` (the caller decides: see worker.py).
* Every failure is a :class:`DestinationUnavailable` (retry) or a
  :class:`DestinationRejected` (abort), see errors.py.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from ippproxy.ipp import Attribute, Group, JobState, Message, Operation, Status, Tag

from .allowlist import job_name, screen
from .errors import DestinationRejected, DestinationUnavailable, printer_text
from .page_overrides import for_destination
from .source import Document, as_document
from .transport import Exchange, http_url, single_document

_RETRY_LATER = frozenset({Status.SERVER_ERROR_INTERNAL_ERROR,
                          Status.SERVER_ERROR_SERVICE_UNAVAILABLE,
                          Status.SERVER_ERROR_NOT_ACCEPTING_JOBS, Status.SERVER_ERROR_BUSY,
                          0x0505,  # server-error-temporary-error
                          0x0508})  # server-error-job-canceled
_CREATES_JOB = frozenset({Operation.PRINT_JOB, Operation.CREATE_JOB, Operation.SEND_DOCUMENT})
_JOB_ATTRS = ("job-id", "job-uuid", "job-state", "job-state-reasons", "job-state-message",
              "job-impressions-completed", "job-media-sheets-completed")
TERMINAL = frozenset({JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED})
# RFC 8011 §5.3.8: the job was created and the printer waits for (more) document data.
AWAITING_DOCUMENTS = frozenset({"job-incoming", "job-data-insufficient"})


class JobLookupUnsupported(DestinationRejected):
    """The printer cannot list its jobs with their job-uuid."""


@dataclass(frozen=True)
class ForwardJob:
    """What the client needs of one of our jobs."""

    uuid: str                    # our job UUID (bare or urn:uuid:)
    name: str
    user: str
    attributes: tuple[Attribute, ...] = ()   # job-template attributes, screened here
    document_format: str = "application/octet-stream"

    @property
    def job_uuid_uri(self) -> str:
        return self.uuid if self.uuid.startswith("urn:uuid:") else f"urn:uuid:{self.uuid}"


@dataclass(frozen=True)
class RemoteJob:
    job_id: int
    state: int
    reasons: tuple[str, ...] = ()
    message: str = ""
    impressions: int | None = None
    sheets: int | None = None
    uuid: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def awaiting_documents(self) -> bool:
        """Created and still waiting for its documents (RFC 8011 §5.3.8): nobody is
        sending them when the sender was us and we crashed or gave up."""
        return (self.state in (JobState.PENDING, JobState.PENDING_HELD)
                and not AWAITING_DOCUMENTS.isdisjoint(self.reasons))


def _int(group: Group, name: str, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """An integer value of the printer's in ``low..high`` (else None: not trusted)."""
    attr = group.get(name)
    if attr is None or isinstance(attr.value, bool) or not isinstance(attr.value, int):
        return None
    return attr.value if low <= attr.value <= high else None


# RFC 8011 §5.1.4 keyword syntax: what a job-state-reasons value may look like.
_KEYWORD = re.compile(r"^[a-z0-9][a-zA-Z0-9._-]{0,63}$")


def _remote_job(group: Group) -> RemoteJob | None:
    # RFC 8011 §5.3.7 job-state: 3 (pending) .. 9 (completed); anything else is not trusted
    job_id, state = _int(group, "job-id", 1), _int(group, "job-state", 3, 9)
    if job_id is None:
        return None
    reasons = group.get("job-state-reasons")
    message = group.get("job-state-message")
    uuid = group.get("job-uuid")
    return RemoteJob(
        job_id=job_id, state=state if state is not None else JobState.PENDING,
        reasons=tuple(v for v in (reasons.plain[:32] if reasons else [])
                      if isinstance(v, str) and _KEYWORD.match(v)),
        message=printer_text(message.value if message and isinstance(
            message.value, (str, bytes)) else ""),
        impressions=_int(group, "job-impressions-completed"),
        sheets=_int(group, "job-media-sheets-completed"),
        uuid=uuid.value if uuid is not None and isinstance(uuid.value, str) else None)


class DestinationClient:
    """IPP client for one destination ``uri`` on a shared aiohttp ``session``."""

    _ids = itertools.count(1)

    def __init__(self, uri: str, session: aiohttp.ClientSession, *,
                 attributes_ttl: float = 300.0, connect_timeout: float = 10.0,
                 read_timeout: float = 300.0, chunked: bool = True,
                 force_print_job: bool = False, user: str = "ippproxy",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.uri = uri
        self.user = user
        self.force_print_job = force_print_job
        self.attributes_ttl = attributes_ttl
        self._exchange = Exchange(http_url(uri), session, connect_timeout=connect_timeout,
                                  read_timeout=read_timeout, chunked=chunked)
        self._clock = clock
        self._cached: tuple[float, Group] | None = None
        self._version = (2, 0)

    # -- requests ------------------------------------------------------------------------------

    def _request(self, op: int, *op_attrs: Attribute, groups: Sequence[Group] = ()) -> Message:
        base = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
                Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
                Attribute.single("printer-uri", Tag.URI, self.uri))
        return Message(self._version, int(op), next(self._ids),
                       (Group(Tag.OPERATION_ATTRIBUTES, base + op_attrs), *groups))

    async def _call(self, op: int, *op_attrs: Attribute, groups: Sequence[Group] = (),
                    document: Document | None = None) -> Message:
        """Send, retrying once with IPP/1.1 on server-error-version-not-supported."""
        while True:
            try:
                reply = await self._exchange.send(self._request(op, *op_attrs, groups=groups),
                                                  document)
            except DestinationUnavailable as exc:
                if op not in _CREATES_JOB:  # a query cannot have printed anything
                    exc.maybe_delivered = False
                raise
            if reply.code == Status.SERVER_ERROR_VERSION_NOT_SUPPORTED and self._version > (1, 1):
                self._version = (1, 1)
                continue
            _raise_for_status(reply, op)
            return reply

    def _user(self) -> Attribute:
        return Attribute.single("requesting-user-name", Tag.NAME, self.user)

    # -- operations ----------------------------------------------------------------------------

    async def get_printer_attributes(self, refresh: bool = False) -> Group:
        now = self._clock()
        if not refresh and self._cached is not None \
                and now - self._cached[0] < self.attributes_ttl:
            return self._cached[1]
        reply = await self._call(Operation.GET_PRINTER_ATTRIBUTES, self._user(),
                                 Attribute.multi("requested-attributes", Tag.KEYWORD, ("all",)))
        group = reply.group(Tag.PRINTER_ATTRIBUTES) or Group(Tag.PRINTER_ATTRIBUTES)
        versions = group.get("ipp-versions-supported")
        if versions is not None and "2.0" not in versions.plain:
            self._version = (1, 1)
        self._cached = (now, group)
        return group

    def invalidate(self) -> None:
        self._cached = None

    async def supports(self, op: int) -> bool:
        ops = (await self.get_printer_attributes()).get("operations-supported")
        return ops is not None and int(op) in ops.plain

    async def _document_format(self, fmt: str) -> str:
        supported = (await self.get_printer_attributes()).get("document-format-supported")
        formats = supported.plain if supported is not None else []
        if not formats or fmt in formats:
            return fmt
        if "application/octet-stream" in formats:
            return "application/octet-stream"
        raise DestinationRejected(f"destination does not accept {fmt}",
                                  Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)

    async def _job_group(self, job: ForwardJob) -> Group:
        kept = for_destination(screen(job.attributes).kept, await self.get_printer_attributes())
        uuid = Attribute.single("job-uuid", Tag.URI, job.job_uuid_uri)
        return Group(Tag.JOB_ATTRIBUTES, (*kept, uuid))

    async def submit(self, job: ForwardJob, documents: Sequence[Path | Document]) -> int:
        """Send the job; returns the destination's job-id."""
        if not documents:
            raise DestinationRejected("job has no document")
        fmt = await self._document_format(job.document_format)
        name = Attribute.single("job-name", Tag.NAME,
                                job_name(job.name, f"job {job.job_uuid_uri[9:17]}"))
        fmt_attr = Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, fmt)
        groups = (await self._job_group(job),)
        use_create = not self.force_print_job and await self.supports(Operation.CREATE_JOB) \
            and await self.supports(Operation.SEND_DOCUMENT)
        if not use_create:
            reply = await self._call(Operation.PRINT_JOB, self._user(), name, fmt_attr,
                                     groups=groups, document=single_document(documents))
            return _job_id(reply)
        reply = await self._call(Operation.CREATE_JOB, self._user(), name, groups=groups)
        remote_id = _job_id(reply)
        try:
            for i, path in enumerate(documents):
                last = Attribute.single("last-document", Tag.BOOLEAN, i == len(documents) - 1)
                await self._call(Operation.SEND_DOCUMENT,
                                 Attribute.single("job-id", Tag.INTEGER, remote_id),
                                 self._user(), fmt_attr, last, document=as_document(path))
        except DestinationUnavailable as exc:
            exc.remote_job_id = remote_id
            await self._cancel_quietly(remote_id)
            raise
        except DestinationRejected:
            await self._cancel_quietly(remote_id)
            raise
        return remote_id

    async def _cancel_quietly(self, remote_id: int) -> None:
        try:
            await self.cancel(remote_id)
        except (DestinationUnavailable, DestinationRejected):
            pass

    async def get_job(self, remote_id: int) -> RemoteJob:
        reply = await self._call(Operation.GET_JOB_ATTRIBUTES,
                                 Attribute.single("job-id", Tag.INTEGER, remote_id),
                                 self._user(),
                                 Attribute.multi("requested-attributes", Tag.KEYWORD, _JOB_ATTRS))
        group = reply.group(Tag.JOB_ATTRIBUTES)
        job = _remote_job(group) if group is not None else None
        if job is None:
            raise DestinationUnavailable("Get-Job-Attributes answered no job-id")
        return job

    async def find_job_by_uuid(self, job_uuid: str) -> RemoteJob | None:
        """The newest destination job carrying ``job_uuid``, or None."""
        uri = job_uuid if job_uuid.startswith("urn:uuid:") else f"urn:uuid:{job_uuid}"
        reply = await self._call(
            Operation.GET_JOBS, self._user(),
            Attribute.single("which-jobs", Tag.KEYWORD, "all"),
            Attribute.multi("requested-attributes", Tag.KEYWORD, _JOB_ATTRS))
        jobs = [j for g in reply.groups_of(Tag.JOB_ATTRIBUTES) if (j := _remote_job(g))]
        if jobs and all(j.uuid is None for j in jobs):
            raise JobLookupUnsupported("destination lists jobs without job-uuid")
        matches = [j for j in jobs if j.uuid is not None and j.uuid.lower() == uri.lower()]
        return max(matches, key=lambda j: j.job_id) if matches else None

    async def cancel(self, remote_id: int) -> None:
        try:
            await self._call(Operation.CANCEL_JOB,
                             Attribute.single("job-id", Tag.INTEGER, remote_id), self._user())
        except DestinationRejected as exc:
            # client-error-not-possible: already terminal; not-found: already gone.
            if exc.status not in (Status.CLIENT_ERROR_NOT_POSSIBLE,
                                  Status.CLIENT_ERROR_NOT_FOUND):
                raise


def _raise_for_status(reply: Message, op: int) -> None:
    status = reply.code
    if status <= 0x00FF:
        return
    attr = reply.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    text = attr.value if attr is not None and isinstance(attr.value, (str, bytes)) else ""
    label = Status.keyword_of(status)
    message = f"{Operation.keyword_of(op)}: {label}" + (f": {printer_text(text)}" if text else "")
    if status in _RETRY_LATER:
        raise DestinationUnavailable(message, status)
    raise DestinationRejected(message, status)


def _job_id(reply: Message) -> int:
    group = reply.group(Tag.JOB_ATTRIBUTES)
    job_id = _int(group, "job-id") if group is not None else None
    if job_id is None:
        raise DestinationUnavailable("destination answered without job-id", maybe_delivered=True)
    return job_id
