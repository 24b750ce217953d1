"""A Find-Me job released at a printer of its group: converted for it and priced there.

Theory of operation (issue 17 point 7). The job waits ``pending-held`` on its Find-Me queue
with a reservation made at the dearest printer of the group (``findme.py``). Releasing it
at ``target`` (one queue of ``findme_printers``):

1. **What the printer can do**, from its Get-Printer-Attributes (the forwarder's cached
   capabilities): colour when ``color-supported`` is true or ``print-color-mode-supported``
   lists ``color`` (RFC 8011 §5.4.26 / PWG 5100.13 §6.5.4); two-sided when
   ``sides-supported`` lists a ``two-sided-*`` keyword (RFC 8011 §5.2.8). A printer that
   does not answer refuses the release (``CannotRelease``): the job stays held.
2. **Converted for it**: on a monochrome printer every PDF/PostScript document of a job
   that was not gray already is converted to gray in the analysis pool (the intake's
   force-grayscale conversion, ``conversion.py``) and ``print-color-mode`` becomes
   ``monochrome``; on a printer without duplex ``sides`` becomes ``one-sided``.
3. **Counted and priced as it will print there**: the documents it will be sent with are
   analysed again and counted with the new ticket (grayscale on a monochrome printer), and
   the reservation is re-priced at ``target`` (``requote.py``, the same as a moved job):
   the difference is one ledger row whose reason names both printers. An account that
   cannot pay more refuses the release (``CreditRefused``) and nothing changed.
4. **Moved and released in one transaction** (``jobs.rerouting``), checked under the
   row lock: a job released (or canceled) meanwhile is refused (``JobNotMovable``), the
   price put back where it was reserved and the converted files deleted. The replaced
   documents' spool files are deleted after the commit. A document that cannot be
   converted or analysed refuses the release (``CannotRelease``): the job stays held.

A repeated release finds the job no longer held on its Find-Me queue: refused before
anything is converted or charged (the caller serialises releases of one job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from ippproxy.config import QueueConfig
from ippproxy.filters import detect
from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs import blob, rerouting
from ippproxy.jobs.moving import JobNotMovable
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.jobs.spool import SpoolError
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import counting
from ippproxy.pipeline.conversion import GRAYSCALE_INPUTS, Converter
from ippproxy.pipeline.metering import MONOCHROME
from ippproxy.pipeline.payer import priced_json
from ippproxy.pipeline.requote import Requoter

log = logging.getLogger(__name__)
Capabilities = Callable[[QueueConfig], Awaitable[Sequence[Attribute] | None]]


class CannotRelease(Exception):
    """The printer does not answer, or the job cannot be converted for it: it stays
    held."""


@dataclass(frozen=True)
class Released:
    job: JobRecord
    before: int | None      # the reservation before (None: the job has no price)
    after: int | None
    grayscale: bool         # converted (or set) to monochrome for the printer
    one_sided: bool         # duplex dropped: the printer prints one side only


def _values(attrs: Sequence[Attribute], name: str) -> list[object] | None:
    a = next((a for a in attrs if a.name == name), None)
    return None if a is None else [v for _, v in a.values]


def prints_colour(attrs: Sequence[Attribute]) -> bool:
    """Colour unless the printer says it has none (no answer about it: colour)."""
    supported = _values(attrs, "color-supported")
    if supported is not None and supported[:1] == [False]:
        return False
    modes = _values(attrs, "print-color-mode-supported")
    return modes is None or "color" in modes


def prints_duplex(attrs: Sequence[Attribute]) -> bool:
    sides = _values(attrs, "sides-supported")
    return sides is None or any(str(s).startswith("two-sided") for s in sides)


class FindMeRelease:
    def __init__(self, store: JobStore, converter: Converter, requoter: Requoter,
                 capabilities: Capabilities) -> None:
        self.store = store
        self.converter = converter
        self.spool = converter.spool
        self.requoter = requoter
        self.capabilities = capabilities

    async def release(self, job: JobRecord, findme: QueueConfig, target: QueueConfig,
                      actor: str) -> Released:
        caps = await self.capabilities(target)
        if caps is None:
            raise CannotRelease(f"printer {target.name} does not answer; the job stays "
                                     "held")
        attrs = blob.unpack(job.attributes)
        analysis: dict[str, Any] = dict(job.analysis or {})
        was_gray = print_color_mode(attrs) in MONOCHROME or bool(analysis.get("grayscale"))
        gray = not prints_colour(caps)
        ticket = counting.ticket(attrs)
        one_sided = not prints_duplex(caps) and ticket.sides != "one-sided"
        made: list[NewDocument] = []
        try:
            try:
                if gray and not was_gray:
                    made = await self._grayscale(job)
                analyses = await self._analyse(job, made)
            except AnalysisError as e:
                raise CannotRelease(f"the job cannot be prepared for {target.name}: "
                                    f"{e}"[:255]) from None
            except (OSError, SpoolError):   # another release replaced its documents
                raise JobNotMovable(f"job {job.uuid} changed meanwhile: released "
                                    "already?") from None
            if one_sided:
                ticket = replace(ticket, sides="one-sided")
            counts = counting.count(analyses, ticket, grayscale=gray or was_gray)
            priced = None if counts is None else counting.job_counts(counts)
            quote = await self.requoter.requote(
                job, target.name, actor, counts=priced,
                what=f"Find-Me release (queue {findme.name})")
            if quote is not None:
                analysis = dict(quote.analysis)
            note = _note(target.name, gray and not was_gray, one_sided)
            analysis = _analysis(analysis, analyses, counts, priced, gray or bool(
                analysis.get("grayscale")), {"released_at": target.name, "note": note,
                                             "one_sided": one_sided})
            overrides = counting.overrides(gray, False)
            if one_sided:
                overrides += (Attribute.single("sides", Tag.KEYWORD, "one-sided"),)
            try:
                new, dropped = await self.store.write(partial(
                    rerouting.release_to, uuid=job.uuid, queue=target.name,
                    now=self.store.clock(), expected=job.queue, analysis=analysis,
                    attributes=blob.with_values(job.attributes, overrides), message=note,
                    documents=made))
            except BaseException:
                if quote is not None:   # the price back where it was reserved
                    await self._price_back(job, actor, findme)
                raise
        except BaseException:
            for d in made:
                self.spool.delete(d.spool_name)
            raise
        for name in dropped:
            self.spool.delete(name)
        return Released(new, None if quote is None else quote.before,
                        None if quote is None else quote.after, gray, one_sided)

    async def _grayscale(self, job: JobRecord) -> list[NewDocument]:
        """Each convertible document in gray (PDF, PCLm, PostScript); another kept as it
        is under a copy of its own (its print-color-mode says monochrome), since all the
        job's old spool files are deleted once the release committed."""
        out: list[NewDocument] = []
        try:
            for d in job.documents:
                src = await self.spool.ensure_file(d.spool_name)
                if await _format(src, d.format or job.document_format) in GRAYSCALE_INPUTS:
                    out.append(await self.converter.grayscale(src, d.name))
                    continue
                data = await asyncio.to_thread(src.read_bytes)
                async with self.spool.writer() as w:
                    await w.write(data)
                out.append(NewDocument(w.name, w.size, w.sha256, d.format, d.name))
            return out
        except BaseException:
            for o in out:
                self.spool.delete(o.spool_name)
            raise

    async def _analyse(self, job: JobRecord, made: Sequence[NewDocument]
                       ) -> tuple[DocumentAnalysis, ...]:
        docs = [(d.spool_name, d.format) for d in made] or [
            (d.spool_name, d.format or job.document_format) for d in job.documents]
        out = []
        for name, fmt in docs:
            path = await self.spool.ensure_file(name)
            out.append(await self.converter.pool.analyse(path, await _format(path, fmt)))
        return tuple(out)

    async def _price_back(self, job: JobRecord, actor: str, findme: QueueConfig) -> None:
        """The release failed after the price moved: priced where the job is now (another
        node released it meanwhile: at that printer, with the counts that release kept),
        else where it was reserved."""
        now = await self.store.get_by_uuid(job.uuid)
        if now is not None and now.queue != job.queue:
            current, printer = now, now.queue
        else:
            back = (job.analysis or {}).get("findme")
            at = back.get("priced_at") if isinstance(back, dict) else None
            current, printer = job, at if isinstance(at, str) else findme.name
        try:
            await self.requoter.requote(current, printer, actor,
                                        what=f"Find-Me release undone (queue {findme.name})")
        except Exception:   # the settlement settles it against what printed
            log.exception("Find-Me: job %s could not be priced back at %s", job.uuid, printer)


def print_color_mode(attrs: Sequence[Attribute]) -> object:
    return next((a.value for a in attrs if a.name == "print-color-mode"), None)


def _analysis(analysis: dict[str, Any], analyses: Sequence[DocumentAnalysis],
              counts: Any, priced: Any, gray: bool, release: dict[str, Any]
              ) -> dict[str, Any]:
    attributes = dict(analysis.get("attributes") or {})
    if counts is not None:
        attributes.update(counting.ipp_attributes(counts))
    findme = {**(analysis.get("findme") or {}), **release}
    out = {**analysis, "documents": [counting.analysis_json(a) for a in analyses],
           "grayscale": gray, "attributes": attributes, "findme": findme}
    if priced is not None:
        out.update(counts=counting.counts_json(priced), priced=priced_json(priced))
    return out


def _note(target: str, gray: bool, one_sided: bool) -> str:
    """job-state-message: what was done for the printer (the user sees it as an event)."""
    done = [t for t, on in (("converted to grayscale", gray),
                            ("printed one-sided", one_sided)) if on]
    return f"released at {target}" + (f": {', '.join(done)}" if done else "")


async def _format(path: Path, hint: str | None) -> str:
    """The document's format from its bytes (a client's octet-stream: detected)."""
    head = await asyncio.to_thread(_head, path)
    return detect.detect_format(head, hint or detect.OCTET_STREAM)


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(detect.HEAD_BYTES)
