"""What to send a destination: the job's document as is, or a conversion (pure, no I/O).

Theory of operation
-------------------
``plan(source, caps, colour)`` looks at the destination's capabilities
(``FormatSupport.from_printer(group)`` reads them from Get-Printer-Attributes) and
returns a :class:`Plan`:

1. **As is** when the destination lists the document's format in
   ``document-format-supported``, or lists nothing (it did not say: we try). A
   PCLm document goes as ``application/pdf`` unchanged when only PDF is listed
   (PCLm is a restricted PDF, Mopria PCLm 1.0).
2. **A conversion** to the first target, in the order PDF, PWG raster
   (PWG 5102.4), Apple raster (URF), that the destination lists, that has a route
   from the source (``ROUTES``: PostScript and text to PDF; PDF, PCLm and
   PostScript rendered by Ghostscript; text typeset to PDF first; PWG raster
   re-wrapped as URF) and whose raster parameters fit:

   * PWG raster: a square resolution from ``pwg-raster-document-resolution-
     supported`` (the one nearest 300 dpi) and ``srgb_8`` (a colour job) or
     ``sgray_8`` from ``pwg-raster-document-type-supported`` (PWG 5102.4 §4.3;
     our renderer makes 8-bit sGray or sRGB only, so a printer that takes only
     ``black_1`` or ``cmyk_8`` does not fit).
   * URF: ``W8`` (8-bit sGray) or ``SRGB24`` and a resolution from the
     ``RS300-600`` keyword of ``urf-supported``.

   A missing raster attribute takes the IPP Everywhere baseline (300 dpi;
   sgray_8 and srgb_8; W8, SRGB24, RS300): better an attempt than a refusal.
3. **As is, as application/octet-stream** when the destination lists that type
   and no concrete format (a raw queue that takes anything).
   ``application/octet-stream`` beside concrete formats means "I detect which of
   these it is" (RFC 8011 §5.1.10), so it is no way out for a format that is not
   among them: ippeveprinter always lists it.
4. **Impossible**, with a reason naming the formats the destination takes and
   why each route failed.

``colour`` comes from the job's ``print-color-mode`` (:func:`wants_colour`):
a monochrome job is rendered in sGray, which is also smaller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ippproxy.filters.detect import (
    OCTET_STREAM,
    PCLM,
    PDF,
    POSTSCRIPT,
    PWG_RASTER,
    SUPPORTED,
    TEXT,
    URF,
    normalise,
)
from ippproxy.ipp import Attribute, Group, Resolution, Tag

TARGETS = (PDF, PWG_RASTER, URF)   # preference order
ALL_SOURCES = tuple(sorted(SUPPORTED))   # every format intake detects
PREFERRED_DPI = 300
# The IPP Everywhere baseline (PWG 5100.14 §5.1) a raster attribute the destination does not
# report takes, here and in the queue's own description (server/driverless.py).
BASELINE_PWG_TYPES = ("sgray_8", "srgb_8")
BASELINE_URF = ("V1.4", "CP1", "W8", "SRGB24", f"RS{PREFERRED_DPI}")
MONOCHROME = frozenset({"monochrome", "process-monochrome", "bi-level", "process-bi-level",
                        "auto-monochrome"})
_DPCM = 4   # RFC 8010 §3.9: resolution units, 3 = dots per inch, 4 = dots per cm

# (source, target) -> converter kinds (filters.convert.CONVERTERS), in order.
# An empty tuple is a relabel: the bytes are already a valid document of the target.
ROUTES: Mapping[tuple[str, str], tuple[str, ...]] = {
    (PCLM, PDF): (),
    (POSTSCRIPT, PDF): ("ps-to-pdf",),
    (TEXT, PDF): ("text-to-pdf",),
    (PDF, PWG_RASTER): ("pwg-raster",),
    (PCLM, PWG_RASTER): ("pwg-raster",),
    (POSTSCRIPT, PWG_RASTER): ("pwg-raster",),   # gs renders PostScript directly
    (TEXT, PWG_RASTER): ("text-to-pdf", "pwg-raster"),
    (PDF, URF): ("urf",),
    (PCLM, URF): ("urf",),
    (POSTSCRIPT, URF): ("urf",),
    (TEXT, URF): ("text-to-pdf", "urf"),
    (PWG_RASTER, URF): ("pwg-to-urf",),
}
_OUTPUT = {"ps-to-pdf": PDF, "text-to-pdf": PDF, "pwg-raster": PWG_RASTER, "urf": URF,
           "pwg-to-urf": URF}
_RASTER_KINDS = frozenset({"pwg-raster", "urf"})
_SHORT = {PDF: "PDF", PWG_RASTER: "PWG raster", URF: "URF", POSTSCRIPT: "PostScript",
          TEXT: "text", PCLM: "PCLm"}


@dataclass(frozen=True)
class FormatSupport:
    """The printer attributes that decide the format (``None``: not reported)."""

    formats: tuple[str, ...] = ()
    pwg_resolutions: tuple[Resolution, ...] | None = None
    pwg_types: tuple[str, ...] | None = None
    urf: tuple[str, ...] | None = None

    @classmethod
    def from_attributes(cls, attributes: Iterable[Attribute]) -> FormatSupport:
        return cls.from_printer(Group(Tag.PRINTER_ATTRIBUTES, tuple(attributes)))

    @classmethod
    def from_printer(cls, group: Group) -> FormatSupport:
        def strings(name: str) -> tuple[str, ...] | None:
            attr = group.get(name)
            if attr is None:
                return None
            return tuple(v for v in attr.plain if isinstance(v, str))

        res = group.get("pwg-raster-document-resolution-supported")
        return cls(
            formats=tuple(normalise(f) for f in strings("document-format-supported") or ()),
            pwg_resolutions=None if res is None else tuple(
                v for v in res.plain if isinstance(v, Resolution)),
            pwg_types=strings("pwg-raster-document-type-supported"),
            urf=strings("urf-supported"))


@dataclass(frozen=True)
class Step:
    """One conversion: ``AnalysisPool.convert(kind, src, dst, **options)``."""

    kind: str
    output: str
    options: tuple[tuple[str, int | bool | str], ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass(frozen=True)
class Plan:
    """``send_as`` None: impossible (``note`` says why); else send ``steps``' output."""

    source: str
    send_as: str | None
    steps: tuple[Step, ...] = field(default=())
    note: str = ""

    @property
    def possible(self) -> bool:
        return self.send_as is not None

    @property
    def converts(self) -> bool:
        return bool(self.steps)


def wants_colour(print_color_mode: str | None) -> bool:
    """False for a monochrome ``print-color-mode`` (RFC 8011 / PWG 5100.13 §6.2.3)."""
    return print_color_mode is None or print_color_mode not in MONOCHROME


def _dpi(res: Resolution) -> int | None:
    """A square resolution in dpi, else None."""
    if res.x != res.y or res.x <= 0:
        return None
    return round(res.x * 2.54) if res.units == _DPCM else res.x


def _nearest(dpis: Iterable[int]) -> int | None:
    """The resolution nearest PREFERRED_DPI (ties: the higher)."""
    return min(dpis, key=lambda d: (abs(d - PREFERRED_DPI), -d), default=None)


def _pwg_options(caps: FormatSupport, colour: bool) -> tuple[dict[str, int | bool], str]:
    """({dpi, colour}, description) for PWG raster, or ({}, why not)."""
    res = caps.pwg_resolutions
    dpi = PREFERRED_DPI if res is None else _nearest(d for r in res if (d := _dpi(r)))
    if dpi is None:
        return {}, "no square resolution in pwg-raster-document-resolution-supported"
    types = caps.pwg_types if caps.pwg_types is not None else BASELINE_PWG_TYPES
    if "srgb_8" in types and (colour or "sgray_8" not in types):
        kind = "srgb_8"
    elif "sgray_8" in types:
        kind = "sgray_8"
    else:
        return {}, f"PWG raster types {', '.join(types) or 'none'} (need sgray_8 or srgb_8)"
    return {"dpi": dpi, "colour": kind == "srgb_8"}, f"{dpi} dpi, {kind}"


def _urf_options(caps: FormatSupport, colour: bool) -> tuple[dict[str, int | bool], str]:
    """({dpi, colour}, description) for URF, or ({}, why not)."""
    keys = caps.urf if caps.urf is not None else BASELINE_URF
    dpis: list[int] = []
    for key in keys:
        if key.startswith("RS"):
            dpis += [int(d) for d in key[2:].split("-") if d.isdigit() and int(d) > 0]
    dpi = _nearest(dpis) if dpis else PREFERRED_DPI
    if "SRGB24" in keys and (colour or "W8" not in keys):
        kind = "SRGB24"
    elif "W8" in keys:
        kind = "W8"
    else:
        return {}, "urf-supported lists neither W8 nor SRGB24"
    assert dpi is not None
    return {"dpi": dpi, "colour": kind == "SRGB24"}, f"{dpi} dpi, {kind}"


def _route(source: str, target: str, caps: FormatSupport, colour: bool) -> Plan | str:
    kinds = ROUTES.get((source, target))
    if kinds is None:
        return f"no conversion from {source} to {target}"
    options: dict[str, int | bool] = {}
    detail = ""
    if _RASTER_KINDS.intersection(kinds):
        options, detail = (_pwg_options if target == PWG_RASTER else _urf_options)(caps, colour)
        if not options:
            return detail
    steps = tuple(Step(k, _OUTPUT[k], tuple(sorted(options.items())) if k in _RASTER_KINDS
                       else ()) for k in kinds)
    what = f"{_SHORT.get(source, source)} to {_SHORT.get(target, target)}"
    note = f"{what} ({detail})" if detail else what
    return Plan(source, target, steps, note if steps else f"{source} sent as {target}")


def plan(source: str, caps: FormatSupport, colour: bool = True) -> Plan:
    """The way to send a document of format ``source`` to a destination with ``caps``."""
    source = normalise(source)
    formats = caps.formats
    if not formats or source in formats:
        return Plan(source, source)
    failures: list[str] = []
    for target in TARGETS:
        if target not in formats:
            continue
        route = _route(source, target, caps, colour)
        if isinstance(route, Plan):
            return route
        failures.append(route)
    concrete = [f for f in formats if f != OCTET_STREAM]
    if not concrete:
        return Plan(source, OCTET_STREAM, note="the printer detects the format itself")
    why = f"; {'; '.join(failures)}" if failures else ""
    return Plan(source, None, note=f"the printer accepts only {', '.join(concrete)} and "
                                   f"{source} cannot be converted to any of them{why}")


def sources(caps: FormatSupport, candidates: Iterable[str] = ALL_SOURCES) -> tuple[str, ...]:
    """The ``candidates`` a queue may accept for this destination: sent as is or converted
    (what the queue's own document-format-supported can list)."""
    return tuple(f for f in candidates if plan(f, caps).possible)
