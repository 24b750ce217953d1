"""Job-template checks against the queue's capabilities (RFC 8011 §4.2.1.2, §5.2).

``check(job_attrs, printer)`` splits the client's job-template attributes into the ones we
keep and the unsupported ones, which the caller echoes in the unsupported-attributes group
with their own tags (RFC 8011 §4.1.7). With ``ipp-attribute-fidelity=true`` any unsupported
attribute rejects the job (client-error-attributes-or-values-not-supported); without it the
job goes ahead without them (successful-ok-ignored-or-substituted-attributes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Tag

# Job description attributes a client may send in the job group; stored, never rejected.
DESCRIPTION = frozenset({
    "job-name", "job-uuid", "job-originating-host-name", "document-name-supplied",
    "job-account-id", "job-accounting-user-id", "job-mandatory-attributes",
    "job-originating-user-name", "job-password", "job-password-encryption",
    "job-billing",   # CUPS's account name: an alias of job-account-id (pipeline/payer.py)
})
# Job-template attributes whose "-supported" lists keywords/enums/names to match exactly.
_ENUMERATED = ("sides", "print-color-mode", "output-bin", "print-scaling", "job-sheets",
               "print-content-optimize", "print-rendering-intent", "multiple-document-handling",
               "finishings", "orientation-requested", "print-quality", "printer-resolution",
               "job-hold-until", "media", "presentation-direction-number-up", "page-delivery")
_INTEGER = ("copies", "number-up", "job-priority", "print-darkness")


def _supported(printer: Mapping[str, Attribute], name: str) -> Attribute | None:
    return printer.get(f"{name}-supported")


def _in_range_or_list(value: int, supported: Attribute) -> bool:
    for tag, v in supported.values:
        if isinstance(v, RangeOfInteger) and v.lower <= value <= v.upper:
            return True
        if tag == Tag.INTEGER and isinstance(v, int) and not isinstance(v, bool):
            if supported.name == "job-priority-supported":
                return 1 <= value <= 100
            if v == value:
                return True
    return False


def _media_col_ok(col: Collection, printer: Mapping[str, Attribute]) -> bool:
    members = _supported(printer, "media-col")
    allowed = {str(v) for v in members.plain} if members is not None else set()
    for m in col.attributes:
        if m.name not in allowed:
            return False
        if m.name == "media-size" and isinstance(m.value, Collection):
            if not _size_ok(m.value, printer.get("media-size-supported")):
                return False
        elif m.name.endswith("-margin") or m.name in ("media-source", "media-type",
                                                      "media-color"):
            sup = printer.get(f"{m.name}-supported")
            if sup is None or m.value not in sup.plain:
                return False
    return True


def _dim_ok(value: object, supported: object) -> bool:
    if isinstance(supported, RangeOfInteger):
        return isinstance(value, int) and supported.lower <= value <= supported.upper
    return value == supported


def _size_ok(size: Collection, supported: Attribute | None) -> bool:
    x, y = size.get("x-dimension"), size.get("y-dimension")
    if x is None or y is None or supported is None:
        return False
    for s in supported.plain:
        if not isinstance(s, Collection):
            continue
        sx, sy = s.get("x-dimension"), s.get("y-dimension")
        if sx is not None and sy is not None and _dim_ok(x.value, sx.value) \
                and _dim_ok(y.value, sy.value):
            return True
    return False


def value_ok(name: str, tag: int, value: object, printer: Mapping[str, Attribute]) -> bool:
    sup = _supported(printer, name)
    if name == "page-ranges":
        ranges_ok = printer.get("page-ranges-supported")
        return (ranges_ok is not None and ranges_ok.value is True
                and isinstance(value, RangeOfInteger) and 1 <= value.lower <= value.upper)
    if name == "media-col":
        return isinstance(value, Collection) and _media_col_ok(value, printer)
    if sup is None:
        return False
    if name in _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool) \
            and _in_range_or_list(value, sup)
    if name == "media":
        ready = printer.get("media-ready")
        return value in sup.plain or (ready is not None and value in ready.plain)
    return value in sup.plain


def _known(name: str, printer: Mapping[str, Attribute]) -> bool:
    return (name in _ENUMERATED or name in _INTEGER or name in ("page-ranges", "media-col")
            or f"{name}-supported" in printer)


def _start_sheet(a: Attribute) -> Attribute:
    """CUPS's two-valued job-sheets (start, end) as RFC 8011 §5.2.3's single value when
    there is no end sheet; an end sheet no IPP printer can be asked for stays two-valued,
    so unsupported."""
    if len(a.values) == 2 and a.values[1][1] == "none":
        tag, value = a.values[0]
        return Attribute.single(a.name, tag, value)
    return a


def check(job_attrs: Iterable[Attribute],
          printer: Sequence[Attribute] | Mapping[str, Attribute]
          ) -> tuple[list[Attribute], list[Attribute]]:
    """(kept, unsupported) job attributes; description attributes are always kept.
    ``printer``: the printer attributes, as a list or already indexed by name."""
    by_name = printer if isinstance(printer, Mapping) else {a.name: a for a in printer}
    kept: list[Attribute] = []
    unsupported: list[Attribute] = []
    for a in job_attrs:
        if a.name in DESCRIPTION:
            kept.append(a)
            continue
        if a.name == "job-sheets" and len(a.values) > 1:
            a = _start_sheet(a)
        if not _known(a.name, by_name):
            unsupported.append(a)
            continue
        if a.name == "job-sheets" and len(a.values) > 1:
            unsupported.append(a)
        elif all(value_ok(a.name, tag, v, by_name) for tag, v in a.values):
            kept.append(a)
        else:
            unsupported.append(a)
    return kept, unsupported
