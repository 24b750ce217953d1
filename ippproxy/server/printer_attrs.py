"""A queue's printer attributes: the destination's capabilities plus our own description.

Theory of operation. ``build()`` assembles, in this order of precedence:
1. our own attributes (URIs, names, versions, operations, state, counters, policies):
   these describe the queue, not the device;
2. the destination's job-template capabilities and marker status, sanitised
   (``destination_caps.from_destination``);
3. ``destination_caps.FALLBACK`` for anything still missing that IPP/2.0 requires.
``document-format-supported`` is the destination's list intersected with what we can count
and forward (plus ``application/octet-stream``: auto-detected). The printer state is ours
when paused, else the destination's (stopped wins), else processing when a job is.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from ippproxy.forwarding.formats import FormatSupport, sources
from ippproxy.ipp import Attribute, PrinterState, Tag
from ippproxy.jobs.spool import COMPRESSIONS
from ippproxy.pipeline import overrides
from ippproxy.server import attrs as A
from ippproxy.server import driverless
from ippproxy.server.context import QueueRuntime, ServerContext
from ippproxy.server.destination_caps import FALLBACK, clean, from_destination
from ippproxy.server.response import VERSION_KEYWORDS
from ippproxy.server.sanitize import clean_text
from ippproxy.server.uris import Origin, printer_uris
from ippproxy.services.job_pin import ENCRYPTIONS as PIN_ENCRYPTIONS
from ippproxy.services.job_pin import PIN_LENGTH
from ippproxy.services.job_pin import REPERTOIRE as PIN_REPERTOIRE

# Formats we can count (issue 4) and forward as they are; octet-stream is auto-detected.
FORWARDABLE_FORMATS = ("application/pdf", "application/postscript", "image/pwg-raster",
                       "image/urf", "image/jpeg", driverless.PCLM)
AUTO_FORMAT = "application/octet-stream"
WHICH_JOBS = ("completed", "not-completed", "aborted", "all", "canceled", "pending",
              "pending-held", "processing", "processing-stopped")
HOLD_UNTIL = ("no-hold", "indefinite")
# ipp-versions-supported (RFC 8011 §5.4.14): the versions whose conformance suites we pass
# (tests/server/test_server_conformance.py runs ipp-<version>.test for each one listed).
# Requests in 2.2 are accepted and answered (ipp/validate.py), but 2.2 is not claimed: PWG
# 5100.12 §6.4 requires multiple-document jobs, proof-print and the RFC 3998 operations
# we do not have yet (Hold-New-Jobs, Promote-Job, ...); page overrides (PWG 5100.6) we have.
ADVERTISED_VERSIONS = tuple(v for v in VERSION_KEYWORDS if v != "2.2")
JOB_CREATION_ATTRIBUTES = (
    "copies", "finishings", "ipp-attribute-fidelity", "job-hold-until", "job-name",
    "job-priority", "job-sheets", "media", "media-col", "multiple-document-handling",
    "number-up", "orientation-requested", "output-bin", "overrides", "page-ranges",
    "print-color-mode", "print-content-optimize", "print-quality", "print-rendering-intent",
    "print-scaling", "printer-resolution", "sides",
)
# Operation/description "-supported" attributes that are not job-template ones.
_DESCRIPTION_SUPPORTED = frozenset({
    "charset-supported", "compression-supported", "document-format-supported",
    "generated-natural-language-supported", "ipp-versions-supported", "operations-supported",
    "uri-authentication-supported", "uri-security-supported", "printer-uri-supported",
    "pdl-override-supported", "job-ids-supported", "multiple-document-jobs-supported",
    "which-jobs-supported", "ipp-features-supported", "job-settable-attributes-supported",
    "printer-settable-attributes-supported", "notify-events-supported",
    "notify-pull-method-supported", "notify-lease-duration-supported",
    "notify-max-events-supported", "job-password-supported",
    "job-password-encryption-supported", "color-supported", "page-ranges-supported",
    "job-creation-attributes-supported", "printer-get-attributes-supported",
    "urf-supported", "job-k-octets-supported", "document-format-varying-attributes",
    "printer-kind", "job-account-id-supported", "job-accounting-user-id-supported",
    "printer-strings-languages-supported", "mopria-certified",
    "printer-mandatory-job-attributes", "job-password-repertoire-supported",
})
# Printer Description attributes whose names end like job-template ones (RFC 8011 §5.4.21:
# document-format-default describes the printer, get-printer-attributes-suite.test).
_DESCRIPTION_DEFAULTS = frozenset({"document-format-default"})



def is_job_template(name: str) -> bool:
    """Member of the ``job-template`` requested-attributes group (RFC 8011 §4.2.5.1)."""
    if name == "media-col-database":
        return True
    return (name.endswith(("-default", "-supported", "-ready"))
            and name not in _DESCRIPTION_SUPPORTED and name not in _DESCRIPTION_DEFAULTS
            and not name.startswith(("notify-", "pclm-")))


@dataclass(frozen=True)
class QueueStatus:
    """Counters from the job store needed for the state attributes."""

    queued: int = 0          # queued-job-count: pending, held, processing
    processing: bool = False


def formats(dest: tuple[Attribute, ...] | None) -> list[str]:
    offered: set[str] = set(FORWARDABLE_FORMATS)
    for a in dest or ():
        if a.name == "document-format-supported":
            offered = set(sources(FormatSupport.from_attributes(dest or ())))  # or converted
            break
    return [AUTO_FORMAT] + [f for f in FORWARDABLE_FORMATS if f in offered]


def _dest_value(dest: tuple[Attribute, ...] | None, name: str) -> Attribute | None:
    """The destination's ``name``, checked against the printer registry (clean)."""
    for a in dest or ():
        if a.name == name:
            return clean(a)
    return None


def state(queue: QueueRuntime, dest: tuple[Attribute, ...] | None,
          status: QueueStatus) -> tuple[int, list[str], str]:
    """printer-state, printer-state-reasons, printer-state-message."""
    reasons: list[str] = []
    d_state = _dest_value(dest, "printer-state")
    d_reasons = _dest_value(dest, "printer-state-reasons")
    d_message = _dest_value(dest, "printer-state-message")
    if d_reasons is not None:
        reasons = [r for r in (str(v) for v in d_reasons.plain) if r != "none"][:32]
    if dest is None:
        reasons.append("offline-report")
    message = queue.state_message
    if not message and d_message is not None and isinstance(d_message.value, str):
        message = clean_text(d_message.value)
    if queue.paused and status.processing:
        # RFC 8011 §4.3.7 / RFC 3998: the job under way finishes first (a paused queue's
        # jobs are only no longer claimed).
        return PrinterState.PROCESSING, ["moving-to-paused", *reasons], message or "pausing"
    if queue.paused:
        return PrinterState.STOPPED, ["paused", *reasons], message or "paused"
    if d_state is not None and d_state.value == PrinterState.STOPPED:
        return PrinterState.STOPPED, reasons or ["other"], message
    if status.processing:
        return PrinterState.PROCESSING, reasons or ["none"], message
    return PrinterState.IDLE, reasons or ["none"], message


def build(ctx: ServerContext, queue: QueueRuntime, origin: Origin,
          dest: tuple[Attribute, ...] | None, status: QueueStatus,
          operations: list[int]) -> list[Attribute]:
    """Every printer attribute of the queue (filtering is the caller's job)."""
    now = int(time.time())
    cfg = queue.config
    p_state, reasons, message = state(queue, dest, status)
    web = origin.web
    # A queue that takes passwords is offered over TLS only (authn.py answers 426 otherwise).
    plain, secure = printer_uris(origin.authority, cfg.name)
    basic = cfg.authentication in ("basic", "token")   # "token": a password works too
    uris, security = ((secure,), ("tls",)) if basic else ((plain, secure), ("none", "tls"))
    authentication = "basic" if basic else "requesting-user-name"
    offered = formats(dest)
    own = [
        A.charset("charset-configured", "utf-8"),
        A.charset("charset-supported", "us-ascii", "utf-8"),
        A.keyword("compression-supported", *COMPRESSIONS),
        A.mime("document-format-default", AUTO_FORMAT),
        A.mime("document-format-supported", *offered),
        A.language("generated-natural-language-supported", "en"),
        A.keyword("ipp-features-supported", "ipp-everywhere"),
        A.keyword("ipp-versions-supported", *ADVERTISED_VERSIONS),
        A.boolean("job-ids-supported", True),
        A.keyword("job-creation-attributes-supported", *JOB_CREATION_ATTRIBUTES),
        A.keyword("job-hold-until-default", "no-hold"),
        A.keyword("job-hold-until-supported", *HOLD_UNTIL),
        A.range_("job-k-octets-supported", 0,
                 max(1, min(ctx.config.server.max_document_bytes // 1024 or 2**31 - 1,
                            2**31 - 1))),
        # PWG 5100.11 §5.4.9-5.4.11: a PIN of 4 digits, in clear (over IPPS only) or as
        # its SHA-256 (server/ops/holds.py).
        A.integer("job-password-supported", PIN_LENGTH),
        A.keyword("job-password-encryption-supported", *PIN_ENCRYPTIONS),
        A.keyword("job-password-repertoire-supported", PIN_REPERTOIRE),
        A.keyword("job-password-repertoire-configured", PIN_REPERTOIRE),
        A.integer("job-priority-default", 50), A.integer("job-priority-supported", 100),
        A.keyword("job-settable-attributes-supported", "none"),
        A.keyword("job-sheets-default", "none"), A.keyword("job-sheets-supported", "none"),
        # One document per job: the forwarder hands jobs on as Print-Job or Create-Job with a
        # single Send-Document (RFC 8011 §4.3.1).
        A.boolean("multiple-document-jobs-supported", False),
        A.integer("multiple-operation-time-out",
                  ctx.config.server.multiple_operation_timeout),
        A.keyword("multiple-operation-time-out-action", "abort-job"),
        A.language("natural-language-configured", "en"),
        A.enum("operations-supported", *operations),
        A.keyword("pdl-override-supported", "attempted"),
        # PWG 5100.6 §5.1: what the queue honours (pipeline/overrides.py).
        A.keyword("overrides-supported", *overrides.supported(dest)),
        A.keyword("printer-get-attributes-supported", "document-format"),
        A.uri("printer-icons", f"{web}/icons/{cfg.name}.png"),
        A.text("printer-info", clean_text(cfg.info or cfg.name, 127)),
        A.boolean("printer-is-accepting-jobs", queue.accepting),
        A.text("printer-location", clean_text(cfg.location, 127)),
        A.uri("printer-more-info", f"{web}/printers/{cfg.name}"),
        A.name_("printer-name", cfg.name),
        A.text("printer-organization", ""),
        A.text("printer-organizational-unit", ""),
        A.keyword("printer-settable-attributes-supported", "none"),
        A.boolean("preferred-attributes-supported", False),
        A.enum("printer-state", p_state),
        A.keyword("printer-state-reasons", *reasons),
        A.text("printer-state-message", message),
        A.integer("printer-state-change-time", queue.state_change_time),
        A.date_time("printer-state-change-date-time",
                    dt.datetime.fromtimestamp(queue.state_change_time, dt.UTC)),
        A.integer("printer-config-change-time", int(ctx.started)),
        A.date_time("printer-config-change-date-time",
                    dt.datetime.fromtimestamp(int(ctx.started), dt.UTC)),
        A.integer("printer-up-time", max(1, now)),
        A.date_time("printer-current-time", dt.datetime.fromtimestamp(now, dt.UTC)),
        A.uri("printer-uri-supported", *uris),
        A.text("printer-dns-sd-name", cfg.name),
        Attribute.single("printer-geo-location", Tag.UNKNOWN, None),
        A.uri("printer-supply-info-uri", f"{web}/printers/{cfg.name}"),
        A.text("printer-firmware-name", "ippproxy"),
        A.text("printer-firmware-string-version", "0.1.0"),
        Attribute.single("printer-firmware-version", Tag.OCTET_STRING, b"\x00\x01\x00"),
        A.uri("printer-uuid", queue.uuid),
        A.integer("queued-job-count", status.queued),
        # One value per printer-uri-supported value, in its order (RFC 8011 §5.4.2-5.4.3).
        A.keyword("uri-authentication-supported", *(authentication for _ in uris)),
        A.keyword("uri-security-supported", *security),
        A.keyword("which-jobs-supported", *WHICH_JOBS),
        *driverless.accounting(),
        *driverless.clients(offered),
        *driverless.strings(web, cfg.name),
        # Only what an operator's Pause-/Disable-Printer left: Identify-Printer's message
        # (anyone may send one) also shows as the state message, never as the operator's.
        driverless.operator_message(queue.state_message
                                    if queue.paused or not queue.accepting else ""),
    ]
    if ctx.subscriptions is not None:
        own.extend(ctx.subscriptions.printer_attributes())
    passed = from_destination(dest)
    own.extend(driverless.pclm(passed, offered))
    own.extend(driverless.raster(passed, offered))
    own.extend(driverless.alerts(passed, reasons))
    own.extend(driverless.markers(passed))
    mandatory = []
    if ctx.config.accounting.enabled and cfg.account_required:
        # Only where the queue asks (GTK/Qt through a local cupsd and Android cannot send one).
        mandatory.append("job-account-id")
    if cfg.pin_required:    # iOS then makes up and shows a PIN (issue 17)
        mandatory.append("job-password")
    if mandatory:
        own.append(A.keyword("printer-mandatory-job-attributes", *mandatory))
    names = {a.name for a in own}
    out = list(own)
    for name, a in passed.items():
        if name not in names:
            out.append(a)
            names.add(name)
    color = passed.get("color-supported")
    is_color = color is not None and color.value is True
    for name, a in FALLBACK.items():
        if name in names:
            continue
        out.append(a)
        names.add(name)
    if is_color and "pages-per-minute-color" not in names:
        out.append(A.integer("pages-per-minute-color", 1))
    if not is_color:
        out = [a for a in out if a.name != "pages-per-minute-color"]
    return out
