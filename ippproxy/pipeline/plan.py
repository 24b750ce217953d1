"""Plan: every check of a submission that needs no document (RFC 8011 §4.2.1.2).

The queue accepts jobs; ``document-format`` and ``compression`` are supported (§4.1.7,
§5.4.32); the job-template attributes are checked against the queue's printer attributes
(template.py): with ``ipp-attribute-fidelity=true`` an unsupported one refuses the job
(client-error-attributes-or-values-not-supported), without it the job goes ahead without
them (successful-ok-ignored-or-substituted-attributes). Page overrides (PWG 5100.6
``overrides``) are checked member by member (overrides.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ippproxy.filters.detect import OCTET_STREAM
from ippproxy.ipp import Attribute, Status
from ippproxy.jobs.spool import COMPRESSIONS
from ippproxy.pipeline import overrides, template
from ippproxy.pipeline.refusal import Refused
from ippproxy.pipeline.submission import Submission

# Operation attributes that carry job-template values in practice (CUPS, ipptool).
OP_TEMPLATE = ("job-hold-until",)
# Job description attributes a client may send that are kept with the job.
KEPT_DESCRIPTION = ("job-account-id", "job-accounting-user-id", "job-billing")


@dataclass(frozen=True)
class Plan:
    attributes: tuple[Attribute, ...]        # accepted job attributes (stored)
    unsupported: tuple[Attribute, ...]       # echoed in the unsupported group
    document_format: str
    compression: str
    job_name: str
    hold_until: str | None


def document(sub: Submission) -> tuple[str, str]:
    """document-format and compression (RFC 8011 §4.1.7 / §5.4.32)."""
    fmt = sub.op_str("document-format") or OCTET_STREAM
    if fmt not in sub.checks.formats:
        raise Refused(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                      f"document-format {fmt[:64]!r} is not supported",
                      tuple(a for a in (sub.op("document-format"),) if a is not None))
    compression = sub.op_str("compression") or "none"
    if compression not in COMPRESSIONS:
        raise Refused(Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                      f"compression {compression[:32]!r} is not supported",
                      tuple(a for a in (sub.op("compression"),) if a is not None))
    return fmt, compression


def plan(sub: Submission, with_document: bool) -> Plan:
    if not sub.accepting:
        raise Refused(Status.SERVER_ERROR_NOT_ACCEPTING_JOBS,
                      f"{sub.queue} is not accepting jobs")
    fmt, compression = document(sub) if with_document else (OCTET_STREAM, "none")
    requested = list(sub.job_attributes)
    for name in OP_TEMPLATE:
        a = sub.op(name)
        if a is not None and name not in {r.name for r in requested}:
            requested.append(a)
    kept, unsupported = template.check([a for a in requested if a.name != "overrides"],
                                       sub.checks.printer)
    for a in requested:
        if a.name == "overrides":
            ok, refused = overrides.check(a, sub.checks.printer)
            kept += [ok] if ok is not None else []
            unsupported += [refused] if refused is not None else []
    fidelity = sub.op("ipp-attribute-fidelity")
    if unsupported and fidelity is not None and fidelity.value is True:
        raise Refused(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                      "unsupported job attributes: "
                      + ", ".join(a.name for a in unsupported)[:200], tuple(unsupported))
    hold = next((a.value for a in kept if a.name == "job-hold-until"), None)
    return Plan(tuple(a for a in kept if a.name not in template.DESCRIPTION
                      or a.name in KEPT_DESCRIPTION),
                tuple(unsupported), fmt, compression, sub.job_name or "untitled",
                hold if isinstance(hold, str) else None)
