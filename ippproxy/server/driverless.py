"""Printer attributes driverless clients look for beyond IPP/2.0: accounting, PCLm, strings,
alerts and the operator's message.

Theory of operation. Each function returns attributes ``printer_attrs.build`` adds to a
queue's own description; they are ours, not the device's, as they describe the queue:
* ``job-account-id-supported`` / ``job-accounting-user-id-supported`` (PWG 5100.7):
  the intake charges ``job-account-id`` (pipeline/metering.py) and keeps both on the job,
  so an accounting server says so; their ``-default`` is ``no-value`` (nobody's account);
* ``pclm-*`` (Mopria PCLm 1.0, the attributes Windows' IPP class driver reads) when the
  queue takes ``application/PCLm``: the destination's own values when it prints PCLm itself
  (the document goes to it as it is), else ours, which fit what Ghostscript renders;
* the raster formats' companions: ``pwg-raster-document-resolution-supported``,
  ``-type-supported`` and ``-sheet-back`` when the queue takes ``image/pwg-raster``
  (PWG 5100.14 §5.1 requires them with it; CUPS 2.4 builds no driver for a printer that
  lists the format without them), ``urf-supported`` when it takes ``image/urf`` (AirPrint):
  the destination's own when it reports them, else the baseline the conversion assumes
  (forwarding/formats.py) -- a destination not yet reached, or one the queue converts for;
* ``printer-strings-uri`` / ``printer-strings-languages-supported`` (PWG 5100.13):
  the labels of the keywords we advertise, served by ``strings.py``;
* ``printer-alert`` / ``printer-alert-description`` (PWG 5100.9): the
  destination's when it has any, else one alert per state reason, none when idle;
* ``mopria-certified`` (the version cupsd advertises for its queues, which Android's print
  service and Windows look for) and ``document-format-preferred`` (what Windows' IPP class
  driver sends when it can: PDF, which we count exactly, else PWG raster);
* ``marker-*`` (the CUPS attributes macOS shows supply levels from) derived from the
  destination's ``printer-supply`` (PWG 5100.13: Printer MIB supply rows, RFC 3805
  prtMarkerSupplies*) when it sends only those, as ippeveprinter does;
* ``printer-message-from-operator`` (RFC 8011, text(127); required by PWG 5100.12 §6.4):
  the message an operator left with the queue's state (Pause-Printer, Disable-Printer).
"""

from __future__ import annotations

import re

from ippproxy.forwarding.formats import BASELINE_PWG_TYPES, BASELINE_URF, PREFERRED_DPI
from ippproxy.ipp import Attribute, Resolution, Tag
from ippproxy.server import attrs as A
from ippproxy.server.sanitize import clean_text

PCLM = "application/PCLm"
STRINGS_LANGUAGES = ("en",)
# Mopria PCLm 1.0: the strip height a sender should use; Ghostscript reads any.
PCLM_STRIP_HEIGHT = 16
PCLM_RESOLUTIONS = (Resolution(300, 300), Resolution(600, 600))
_PCLM_NAMES = ("pclm-compression-method-preferred", "pclm-raster-back-side",
               "pclm-source-resolution-default", "pclm-source-resolution-supported",
               "pclm-strip-height-preferred", "pclm-strip-height-supported")

# printer-state-reasons keyword -> PWG 5100.9 alert (RFC 3805 PrtAlertCodeTC name, group).
_ALERTS: dict[str, tuple[str, str]] = {
    "media-empty": ("inputMediaSupplyEmpty", "input"),
    "media-low": ("inputMediaSupplyLow", "input"),
    "media-jam": ("jam", "mediaPath"),
    "media-needed": ("inputMediaSupplyEmpty", "input"),
    "toner-empty": ("markerTonerEmpty", "marker"),
    "toner-low": ("markerTonerAlmostEmpty", "marker"),
    "marker-supply-empty": ("markerSupplyEmpty", "markerSupplies"),
    "marker-supply-low": ("markerSupplyAlmostEmpty", "markerSupplies"),
    "door-open": ("doorOpen", "cover"),
    "cover-open": ("coverOpen", "cover"),
    "output-area-full": ("outputMediaTrayFull", "output"),
    "offline-report": ("other", "general"),
    "paused": ("other", "general"),
    "other": ("other", "general"),
}


MOPRIA_VERSION = "1.3"
_PREFERRED = ("application/pdf", "image/pwg-raster", PCLM, "image/urf")


def clients(formats: list[str]) -> list[Attribute]:
    out = [A.text("mopria-certified", MOPRIA_VERSION)]
    preferred = next((f for f in _PREFERRED if f in formats), None)
    if preferred is not None:
        out.append(A.mime("document-format-preferred", preferred))
    return out


_COLORANTS = {"black": "#000000", "cyan": "#00FFFF", "magenta": "#FF00FF",
              "yellow": "#FFFF00", "red": "#FF0000", "green": "#00FF00", "blue": "#0000FF"}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _supply_row(raw: object) -> dict[str, str]:
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    return dict(p.split("=", 1) for p in text.split(";") if "=" in p)


def _percent(row: dict[str, str]) -> int:
    """prtMarkerSuppliesLevel as a percentage; -1 unknown, -2 unavailable, -3 some left
    (RFC 3805), passed on as they are."""
    try:
        level, capacity = int(row.get("level", "-1")), int(row.get("maxcapacity", "100"))
    except ValueError:
        return -1
    if level < 0:
        return max(level, -3)
    return min(100, level * 100 // capacity) if capacity > 0 else -1


def markers(passed: dict[str, Attribute]) -> list[Attribute]:
    """marker-names/-types/-colors/-levels from the destination's printer-supply."""
    supply, described = passed.get("printer-supply"), passed.get("printer-supply-description")
    if supply is None or "marker-names" in passed:
        return []
    rows = [_supply_row(v) for _, v in supply.values]
    names = [str(v) for v in described.plain] if described is not None else []
    names = names[:len(rows)] + [f"Supply {i}" for i in range(len(names) + 1, len(rows) + 1)]
    types = [_CAMEL.sub("-", r.get("type", "other")).lower() or "other" for r in rows]
    colors = [_COLORANTS.get(r.get("colorantname", "").lower(), "none") for r in rows]
    return [Attribute.multi("marker-names", Tag.NAME, [clean_text(n, 255) for n in names]),
            Attribute.multi("marker-types", Tag.KEYWORD,
                            [t if re.fullmatch(r"[a-z][a-z0-9-]{0,62}", t) else "other"
                             for t in types]),
            Attribute.multi("marker-colors", Tag.NAME, colors),
            A.integer("marker-levels", *(_percent(r) for r in rows))]


def accounting() -> list[Attribute]:
    return [A.boolean("job-account-id-supported", True), A.no_value("job-account-id-default"),
            A.boolean("job-accounting-user-id-supported", True),
            A.no_value("job-accounting-user-id-default")]


def pclm(passed: dict[str, Attribute], formats: list[str]) -> list[Attribute]:
    """The ``pclm-*`` attributes when PCLm is among ``formats``."""
    if PCLM not in formats:
        return []
    theirs = [passed[n] for n in _PCLM_NAMES if n in passed]
    if len(theirs) == len(_PCLM_NAMES):
        return theirs
    return [A.keyword("pclm-compression-method-preferred", "flate", "rle", "jpeg"),
            A.keyword("pclm-raster-back-side", "normal"),
            A.resolution("pclm-source-resolution-default", PCLM_RESOLUTIONS[0]),
            A.resolution("pclm-source-resolution-supported", *PCLM_RESOLUTIONS),
            A.integer("pclm-strip-height-preferred", PCLM_STRIP_HEIGHT),
            A.integer("pclm-strip-height-supported", PCLM_STRIP_HEIGHT)]


_PWG_NAMES = ("pwg-raster-document-resolution-supported", "pwg-raster-document-sheet-back",
              "pwg-raster-document-type-supported")


def raster(passed: dict[str, Attribute], formats: list[str]) -> list[Attribute]:
    """The companions of ``image/pwg-raster`` and ``image/urf`` among ``formats``."""
    out: list[Attribute] = []
    if "image/pwg-raster" in formats:
        theirs = [passed[n] for n in _PWG_NAMES if n in passed]
        out += theirs if len(theirs) == len(_PWG_NAMES) else [
            A.resolution("pwg-raster-document-resolution-supported",
                         Resolution(PREFERRED_DPI, PREFERRED_DPI)),
            A.keyword("pwg-raster-document-sheet-back", "normal"),
            A.keyword("pwg-raster-document-type-supported", *BASELINE_PWG_TYPES)]
    if "image/urf" in formats:
        out.append(passed.get("urf-supported") or A.keyword("urf-supported", *BASELINE_URF))
    return out


def strings(web: str, queue: str) -> list[Attribute]:
    return [A.uri("printer-strings-uri", f"{web}/strings/{queue}/{STRINGS_LANGUAGES[0]}.strings"),
            A.language("printer-strings-languages-supported", *STRINGS_LANGUAGES)]


def alerts(passed: dict[str, Attribute], reasons: list[str]) -> list[Attribute]:
    """printer-alert and printer-alert-description, the same number of values each."""
    alert, described = passed.get("printer-alert"), passed.get("printer-alert-description")
    if alert is not None and described is not None and len(alert.values) == len(
            described.values):
        return [alert, described]
    codes, texts = [], []
    for index, reason in enumerate((r for r in reasons if r != "none"), start=1):
        base = reason.removesuffix("-error").removesuffix("-warning")
        code, group = _ALERTS.get(base, _ALERTS["other"])
        severity = ("critical" if reason.endswith("-error")
                    else "warning" if reason.endswith("-warning") else "other")
        codes.append(f"code={code};index={index};severity={severity};group={group};"
                     .encode("ascii"))
        texts.append(reason)
    if not codes:       # nothing to report: no alert (a 1setOf has one value at least)
        return []
    return [Attribute.multi("printer-alert", Tag.OCTET_STRING, codes),
            Attribute.multi("printer-alert-description", Tag.TEXT, texts)]


def operator_message(message: str) -> Attribute:
    return A.text("printer-message-from-operator", clean_text(message, 127))
