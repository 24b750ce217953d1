"""A stored job as IPP job attributes (RFC 8011 §5.3), filtered by requested-attributes.

Times: ``time-at-*`` and ``job-printer-up-time`` are in the same clock as
``printer-up-time`` (seconds since the epoch, as CUPS does), so they stay comparable across
restarts; ``date-time-at-*`` are the same instants as dateTime. An instant that has not
happened yet is the out-of-band ``no-value`` (RFC 8011 §5.3.14).
"""

from __future__ import annotations

import datetime as dt
import time

from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.server import attrs as A
from ippproxy.server.job_blob import unpack
from ippproxy.server.sanitize import clean_text
from ippproxy.server.uris import job_uri, printer_uri

# requested-attributes groups (RFC 8011 §4.2.4.1 / §5.3).
JOB_TEMPLATE = frozenset({
    "copies", "finishings", "job-hold-until", "job-priority", "job-sheets", "media",
    "media-col", "multiple-document-handling", "number-up", "orientation-requested",
    "output-bin", "page-ranges", "print-color-mode", "print-quality", "printer-resolution",
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
    "job-media-sheets-col", "ippproxy-cost-estimate", "ippproxy-cost-charged",
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


def render(job: JobRecord, authority: str) -> list[Attribute]:
    """Every attribute of ``job``."""
    reasons = job.state_reasons or ("none",)
    docs = job.documents
    stored = list(unpack(job.attributes))
    stored_names = {a.name for a in stored}
    out = [
        A.integer("job-id", job.job_id),
        A.uri("job-uri", job_uri(authority, job.queue, job.job_id)),
        A.uri("job-uuid", job_uuid_urn(job.uuid)),
        A.uri("job-printer-uri", printer_uri(authority, job.queue)),
        A.uri("job-more-info", f"http://{authority}/jobs/{job.queue}/{job.job_id}"),
        A.name_("job-name", clean_text(job.name or "untitled", 255)),
        A.name_("job-originating-user-name", job.owner),
        A.enum("job-state", int(job.state)),
        A.keyword("job-state-reasons", *reasons),
        A.text("job-state-message", clean_text(job.state_message or "")),
        A.integer("number-of-documents", len(docs)),
        _time("time-at-creation", job.created_at),
        _time("time-at-processing", job.processing_at),
        _time("time-at-completed", job.completed_at),
        A.integer("job-printer-up-time", int(time.time())),
        A.date_time("date-time-at-creation", job.created_at),
        A.date_time("date-time-at-processing", job.processing_at),
        A.date_time("date-time-at-completed", job.completed_at),
        A.integer("job-k-octets", (job.size + 1023) // 1024),
        A.integer("job-k-octets-processed",
                  (job.size + 1023) // 1024 if job.state >= 7 else 0),
        A.integer("job-impressions-completed", job.impressions_completed or 0),
        A.integer("job-media-sheets-completed", job.media_sheets_completed or 0),
    ]
    out.extend(_analysed(job))
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


def _analysed(job: JobRecord) -> list[Attribute]:
    """Counts and cost the intake pipeline stored (``analysis["attributes"]``): integers
    as integer, strings as text; anything else is ignored."""
    found = (job.analysis or {}).get("attributes")
    out: list[Attribute] = []
    if isinstance(found, dict):
        for name, value in found.items():
            if not isinstance(name, str) or name not in DESCRIPTION:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                out.append(A.integer(name, value))
            elif isinstance(value, str):
                out.append(A.text(name, clean_text(value, 255)))
    return out


def select(job: JobRecord, authority: str, wanted: set[str] | None,
           default: frozenset[str] | None = None) -> list[Attribute]:
    """Filter by requested-attributes; ``default`` is used when none were requested."""
    attrs = render(job, authority)
    if wanted is None:
        if default is None:
            return attrs
        wanted = set(default)
    if "all" in wanted:
        return attrs
    names = set(wanted)
    for g, members in GROUPS.items():
        if g in wanted:
            names |= members
    if "job-template" in wanted:
        names |= {a.name for a in attrs if a.name not in DESCRIPTION}
    return [a for a in attrs if a.name in names]


def creation_group(job: JobRecord, authority: str) -> list[Attribute]:
    """The job group answering Print-Job / Create-Job (RFC 8011 §4.2.1.2), the same
    values ``render`` gives, built alone (this answer is on the intake hot path)."""
    return [
        A.integer("job-id", job.job_id),
        A.uri("job-uri", job_uri(authority, job.queue, job.job_id)),
        A.enum("job-state", int(job.state)),
        A.keyword("job-state-reasons", *(job.state_reasons or ("none",))),
        A.text("job-state-message", clean_text(job.state_message or "")),
    ]


__all__ = ["Tag", "creation_group", "render", "select"]
