"""A stored job as IPP job attributes (RFC 8011 §5.3), filtered by requested-attributes.

Times: ``time-at-*`` and ``job-printer-up-time`` are in the same clock as
``printer-up-time`` (seconds since the epoch, as CUPS does), so they stay comparable across
restarts; ``date-time-at-*`` are the same instants as dateTime. An instant that has not
happened yet is the out-of-band ``no-value`` (RFC 8011 §5.3.14).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs.blob import unpack
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.server import attrs as A
from ippproxy.server.sanitize import clean_text
from ippproxy.server.uris import Origin, job_uri, printer_uri

# requested-attributes groups (RFC 8011 §4.2.4.1 / §5.3).
JOB_TEMPLATE = frozenset({
    "copies", "finishings", "job-hold-until", "job-priority", "job-sheets", "media",
    "media-col", "multiple-document-handling", "number-up", "orientation-requested",
    "output-bin", "overrides", "page-ranges", "print-color-mode", "print-quality", "printer-resolution",
    "sides", "print-scaling", "print-content-optimize", "print-rendering-intent",
})
DESCRIPTION = frozenset({
    "job-id", "job-uri", "job-uuid", "job-printer-uri", "job-more-info", "job-name",
    "job-originating-user-name", "job-state", "job-state-reasons", "job-state-message",
    "number-of-documents", "time-at-creation", "time-at-processing", "time-at-completed",
    "job-printer-up-time", "date-time-at-creation", "date-time-at-processing",
    "date-time-at-completed", "job-impressions-completed", "job-media-sheets-completed",
    "job-k-octets", "job-k-octets-processed", "number-of-intervening-jobs",
    "document-format-supplied", "document-name-supplied", "job-originating-host-name",
    "job-account-id", "job-accounting-user-id",
    # PWG 5100.7 / 5100.11 job accounting, and the cost (from the intake pipeline).
    "job-pages", "job-impressions", "job-impressions-col", "job-media-sheets",
    "job-media-sheets-col", "job-impressions-completed-col", "ippproxy-cost-estimate",
    "ippproxy-cost-charged",
})
# Withheld from everyone but the job's owner and admins while the queue keeps jobs private
# (``[[queue]] private_jobs``, on by default): cupsd's default ``JobPrivateValues`` (job-name,
# job-originating-host-name, job-originating-user-name; cupsd's copy_attrs leaves them out,
# it does not send a placeholder), and what names the job or its user as well.
PRIVATE = frozenset({
    "job-name", "job-originating-user-name", "job-originating-host-name",
    "document-name-supplied", "job-account-id", "job-accounting-user-id",
})
GROUPS = {"job-template": set(JOB_TEMPLATE), "job-description": set(DESCRIPTION),
          "job-status": set(DESCRIPTION)}


def _epoch(t: dt.datetime | None) -> int | None:
    return None if t is None else int(t.timestamp())


def _time(name: str, t: dt.datetime | None) -> Attribute:
    e = _epoch(t)
    return A.no_value(name) if e is None else A.integer(name, e)


def job_uuid_urn(uuid: str) -> str:
    return f"urn:uuid:{uuid}"


# The attributes every job has, each made from the record alone, in the order they are
# answered. A request for only these (Get-Jobs polls ask for job-id, job-state, ...) is
# answered without decoding the job's stored template attributes: a Get-Jobs of
# thousands of jobs must not hold the event loop.
_BASIC: dict[str, Callable[[JobRecord, Origin], Attribute]] = {
    "job-id": lambda j, a: A.integer("job-id", j.job_id),
    "job-uri": lambda j, a: A.uri("job-uri", job_uri(a, j.queue, j.job_id)),
    "job-uuid": lambda j, a: A.uri("job-uuid", job_uuid_urn(j.uuid)),
    "job-printer-uri": lambda j, a: A.uri("job-printer-uri", printer_uri(a, j.queue)),
    "job-more-info": lambda j, a: A.uri("job-more-info",
                                        f"{a.web}/jobs/{j.queue}/{j.job_id}"),
    "job-name": lambda j, a: A.name_("job-name", clean_text(j.name or "untitled", 255)),
    "job-originating-user-name": lambda j, a: A.name_("job-originating-user-name", j.owner),
    "job-state": lambda j, a: A.enum("job-state", int(j.state)),
    "job-state-reasons": lambda j, a: A.keyword("job-state-reasons",
                                                *(j.state_reasons or ("none",))),
    "job-state-message": lambda j, a: A.text("job-state-message",
                                             clean_text(j.state_message or "")),
    "number-of-documents": lambda j, a: A.integer("number-of-documents", len(j.documents)),
    "time-at-creation": lambda j, a: _time("time-at-creation", j.created_at),
    "time-at-processing": lambda j, a: _time("time-at-processing", j.processing_at),
    "time-at-completed": lambda j, a: _time("time-at-completed", j.completed_at),
    "job-printer-up-time": lambda j, a: A.integer("job-printer-up-time", int(time.time())),
    "date-time-at-creation": lambda j, a: A.date_time("date-time-at-creation", j.created_at),
    "date-time-at-processing": lambda j, a: A.date_time("date-time-at-processing",
                                                        j.processing_at),
    "date-time-at-completed": lambda j, a: A.date_time("date-time-at-completed",
                                                       j.completed_at),
    "job-k-octets": lambda j, a: A.integer("job-k-octets", (j.size + 1023) // 1024),
    "job-k-octets-processed": lambda j, a: A.integer(
        "job-k-octets-processed", (j.size + 1023) // 1024 if j.state >= 7 else 0),
    "job-impressions-completed": lambda j, a: A.integer("job-impressions-completed",
                                                        j.impressions_completed or 0),
    "job-media-sheets-completed": lambda j, a: A.integer("job-media-sheets-completed",
                                                         j.media_sheets_completed or 0),
}


def render(job: JobRecord, origin: Origin) -> list[Attribute]:
    """Every attribute of ``job``."""
    stored = list(unpack(job.attributes))
    stored_names = {a.name for a in stored}
    out = [make(job, origin) for make in _BASIC.values()]
    out.extend(_analysed(job))
    out.extend(_completed_col(job, stored))
    if job.document_format:
        out.append(A.mime("document-format-supplied", job.document_format))
    if job.originating_host:
        out.append(A.name_("job-originating-host-name", clean_text(job.originating_host, 255)))
    if "job-hold-until" not in stored_names:
        out.append(A.keyword("job-hold-until", job.hold_until or "no-hold"))
    if "job-priority" not in stored_names:
        out.append(A.integer("job-priority", job.priority))
    out.extend(a for a in stored if a.name not in {o.name for o in out})
    return out


# The stored colour counts (filters/counts.py: how many of the impressions or sheets are in
# colour) and the totals they split: answered as PWG 5100.7 collections.
_SPLIT = {"job-impressions-col": "job-impressions", "job-media-sheets-col": "job-media-sheets"}


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def colour_split(name: str, total: int, colour: int) -> Attribute:
    """``job-impressions-col`` / ``job-media-sheets-col`` (PWG 5100.7: collections of
    ``full-color``, ``monochrome``, ... counts) from a total and its colour part. What is
    not colour is counted as monochrome; blank and highlight-colour are not told apart."""
    colour = min(colour, total)
    return A.collection(name, [A.integer("full-color", colour),
                               A.integer("monochrome", total - colour)])


def _completed_col(job: JobRecord, stored: list[Attribute]) -> list[Attribute]:
    """job-impressions-completed-col (PWG 5100.7) when it is known exactly: the job
    completed with as many impressions as the intake counted for all its copies, so the
    colour ones are the counted colour impressions times the copies."""
    found = (job.analysis or {}).get("attributes")
    if job.state != JobState.COMPLETED or not isinstance(found, dict):
        return []
    per_copy, colour = _count(found.get("job-impressions")), _count(
        found.get("job-impressions-col"))
    copies = next((a.value for a in stored if a.name == "copies"), 1)
    if per_copy is None or colour is None or not isinstance(copies, int) or copies < 1 \
            or job.impressions_completed != per_copy * copies:
        return []
    return [colour_split("job-impressions-completed-col", per_copy * copies, colour * copies)]


def _analysed(job: JobRecord) -> list[Attribute]:
    """Counts and cost the intake pipeline stored (``analysis["attributes"]``): integers
    as integer, strings as text, the colour counts as collections; anything else is
    ignored."""
    found = (job.analysis or {}).get("attributes")
    out: list[Attribute] = []
    if isinstance(found, dict):
        for name, value in found.items():
            if not isinstance(name, str) or name not in DESCRIPTION:
                continue
            if name in _SPLIT:
                total, colour = _count(found.get(_SPLIT[name])), _count(value)
                if total is not None and colour is not None:
                    out.append(colour_split(name, total, colour))
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                out.append(A.integer(name, value))
            elif isinstance(value, str):
                out.append(A.text(name, clean_text(value, 255)))
    return out


def select(job: JobRecord, origin: Origin, wanted: set[str] | None,
           default: frozenset[str] | None = None, *, private: bool = False
           ) -> list[Attribute]:
    """Filter by requested-attributes; ``default`` is used when none were requested.
    ``private``: the asker may not see ``PRIVATE`` (left out, as cupsd does)."""
    found = _select(job, origin, wanted, default)
    return [a for a in found if a.name not in PRIVATE] if private else found


def _select(job: JobRecord, origin: Origin, wanted: set[str] | None,
            default: frozenset[str] | None) -> list[Attribute]:
    if wanted is None:
        if default is None:
            return render(job, origin)
        wanted = set(default)
    if wanted <= _BASIC.keys():  # no group keyword, nothing from the stored attributes
        return [make(job, origin) for name, make in _BASIC.items() if name in wanted]
    attrs = render(job, origin)
    if "all" in wanted:
        return attrs
    names = set(wanted)
    for g, members in GROUPS.items():
        if g in wanted:
            names |= members
    if "job-template" in wanted:
        names |= {a.name for a in attrs if a.name not in DESCRIPTION}
    return [a for a in attrs if a.name in names]


def creation_group(job: JobRecord, origin: Origin) -> list[Attribute]:
    """The job group answering Print-Job / Create-Job (RFC 8011 §4.2.1.2), the same
    values ``render`` gives, built alone (this answer is on the intake hot path)."""
    return [
        A.integer("job-id", job.job_id),
        A.uri("job-uri", job_uri(origin, job.queue, job.job_id)),
        A.enum("job-state", int(job.state)),
        A.keyword("job-state-reasons", *(job.state_reasons or ("none",))),
        A.text("job-state-message", clean_text(job.state_message or "")),
    ]


__all__ = ["PRIVATE", "Tag", "creation_group", "render", "select"]
