"""The strings file ``printer-strings-uri`` points at (PWG 5100.13).

A UTF-8 file in Apple's ``.strings`` syntax, one ``"attribute.keyword" = "label";`` per
line (the form ippeveprinter and macOS use): the labels a client shows for the keyword and
enum values of a queue's printer attributes (``print-quality.3`` is an enum's number). Only
the attributes and values the queue advertises are listed, so the file is the queue's own;
a keyword without a label here is shown by clients as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from ippproxy.ipp import Attribute, Tag

CONTENT_TYPE = "text/strings"

_LABELS: dict[str, str] = {
    "finishings.3": "None", "finishings.4": "Staple", "finishings.5": "Punch",
    "finishings.8": "Saddle stitch", "finishings.9": "Edge stitch",
    "job-hold-until.indefinite": "Hold for release", "job-hold-until.no-hold": "Print now",
    "media.iso_a3_297x420mm": "A3", "media.iso_a4_210x297mm": "A4",
    "media.iso_a5_148x210mm": "A5", "media.iso_a6_105x148mm": "A6",
    "media.iso_dl_110x220mm": "Envelope DL", "media.na_legal_8.5x14in": "US Legal",
    "media.na_letter_8.5x11in": "US Letter", "media.na_number-10_4.125x9.5in":
    "Envelope #10", "media.na_index-4x6_4x6in": "4 x 6",
    "media.na_ledger_11x17in": "Tabloid", "media.na_executive_7.25x10.5in": "Executive",
    "media-source.auto": "Automatic", "media-source.main": "Main tray",
    "media-source.manual": "Manual feed", "media-source.by-pass-tray": "Multipurpose tray",
    "media-source.tray-1": "Tray 1", "media-source.tray-2": "Tray 2",
    "media-type.auto": "Automatic", "media-type.stationery": "Plain paper",
    "media-type.envelope": "Envelope", "media-type.labels": "Labels",
    "media-type.photographic": "Photo paper", "media-type.transparency": "Transparency",
    "multiple-document-handling.separate-documents-collated-copies": "Collated",
    "multiple-document-handling.separate-documents-uncollated-copies": "Uncollated",
    "orientation-requested.3": "Portrait", "orientation-requested.4": "Landscape",
    "orientation-requested.5": "Reverse landscape",
    "orientation-requested.6": "Reverse portrait",
    "output-bin.face-down": "Face down", "output-bin.face-up": "Face up",
    "print-color-mode.auto": "Automatic", "print-color-mode.color": "Color",
    "print-color-mode.monochrome": "Grayscale",
    "print-content-optimize.auto": "Automatic", "print-content-optimize.graphic": "Graphics",
    "print-content-optimize.photo": "Photo", "print-content-optimize.text": "Text",
    "print-content-optimize.text-and-graphic": "Text and graphics",
    "print-quality.3": "Draft", "print-quality.4": "Normal", "print-quality.5": "Best",
    "print-rendering-intent.auto": "Automatic",
    "print-rendering-intent.perceptual": "Perceptual",
    "print-rendering-intent.relative": "Relative colorimetric",
    "print-rendering-intent.saturation": "Saturation",
    "print-scaling.auto": "Automatic", "print-scaling.auto-fit": "Fit if needed",
    "print-scaling.fill": "Fill page", "print-scaling.fit": "Fit to page",
    "print-scaling.none": "Actual size",
    "sides.one-sided": "Off", "sides.two-sided-long-edge": "Long edge (portrait)",
    "sides.two-sided-short-edge": "Short edge (landscape)",
    "printer-state-reasons.paused": "Paused by an administrator",
    "printer-state-reasons.offline-report": "The printer does not answer",
    "printer-state-reasons.media-empty": "Out of paper",
    "printer-state-reasons.media-jam": "Paper jam",
    "printer-state-reasons.toner-low": "Toner low",
    "printer-state-reasons.toner-empty": "Out of toner",
    "job-state-reasons.job-hold-until-specified": "Held until released",
    "job-state-reasons.account-info-needed": "Choose an account to charge",
    "job-state-reasons.account-authorization-failed": "The account may not be charged",
    "job-state-reasons.account-limit-reached": "Not enough credit",
}
_DESCRIBED = frozenset(k.split(".", 1)[0] for k in _LABELS)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _supported(attrs: Iterable[Attribute]) -> set[str]:
    """``attribute.value`` for every keyword or enum value the attributes advertise."""
    out: set[str] = set()
    for a in attrs:
        base = a.name.removesuffix("-supported").removesuffix("-ready")
        if base == a.name or base not in _DESCRIBED:
            continue
        for tag, value in a.values:
            if tag in (Tag.KEYWORD, Tag.ENUM, Tag.NAME):
                out.add(f"{base}.{value}")
    return out


def strings_file(attrs: Iterable[Attribute]) -> str:
    """The queue's strings file: labels of what it advertises, and of the state and job
    reasons every queue may report."""
    offered = _supported(attrs)
    lines = [f"{_quote(key)} = {_quote(label)};" for key, label in _LABELS.items()
             if key in offered or key.startswith(("printer-state-reasons.",
                                                  "job-state-reasons."))]
    return "\n".join(lines) + "\n"
