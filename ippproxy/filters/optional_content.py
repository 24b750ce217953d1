"""Optional content (layers) in their *print* state (ISO 32000-1 §8.11).

Theory of operation
-------------------
What a printer prints of a layered PDF is the state of each optional content
group (OCG) for the ``Print`` event, not the state a viewer shows:

1. the default configuration ``/OCProperties /D`` sets every group from
   ``/BaseState`` (default ``/ON``), then ``/ON`` and ``/OFF`` (§8.11.4.3);
2. its ``/AS`` array (usage application, §8.11.4.4) lists, for the ``/Print``
   event, the groups whose state follows their usage dictionary's category
   ``/Print``: ``/Usage /Print /PrintState /ON`` or ``/OFF`` (§8.11.4.4, Table 102).
   A document with no ``/AS`` entry for ``/Print`` gets the same rule for every
   group that has a ``/PrintState`` (Acrobat's "prints when visible / never /
   always" layer property is written as exactly that usage);
3. content is hidden when its ``/OC`` names a group that is OFF, or an optional
   content membership dictionary (OCMD, §8.11.2.2) whose visibility is false:
   a ``/VE`` visibility expression (``/And``, ``/Or``, ``/Not`` over groups)
   when present, else the ``/P`` policy (``/AnyOn`` default, ``/AllOn``,
   ``/AnyOff``, ``/AllOff``) over ``/OCGs``; a null or missing group in an
   OCMD is ignored, and an OCMD with no groups is visible.

``PrintState.off`` is the set of groups (by object id) that do not print;
``visible(oc)`` answers for one ``/OC`` value (a bad value: visible, as a
reader that cannot interpret it must show the content, §8.11.2.2).
``print_state_pdf`` rewrites a document's optional content to its print state
(``/ON`` and ``/OFF`` listed explicitly, ``/AS`` removed, OCMDs evaluated) so
that a renderer or a converter that applies the view configuration prints
exactly what the printer would: Ghostscript (10.0) renders and ``pdfwrite``
flattens optional content by its view state, ``-dPrinted`` or not, and ignores
``/VE``.  ``print_state_copy`` makes such a copy for Ghostscript to read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf

Key = tuple[int, int]


@dataclass(frozen=True)
class PrintState:
    groups: frozenset[Key]
    off: frozenset[Key]

    @property
    def empty(self) -> bool:
        return not self.groups

    def visible(self, oc: object, depth: int = 0) -> bool:
        if not isinstance(oc, pikepdf.Dictionary) or depth > 16:
            return True
        kind = oc.get("/Type")
        if kind == "/OCG":
            return oc.objgen not in self.off
        if kind != "/OCMD":
            return True
        ve = oc.get("/VE")
        if isinstance(ve, pikepdf.Array) and len(ve) > 0:
            return self._expression(ve, depth)
        ocgs = oc.get("/OCGs")
        if ocgs is None:
            return True
        members = [ocgs] if isinstance(ocgs, pikepdf.Dictionary) else \
            [g for g in ocgs if isinstance(g, pikepdf.Dictionary)]
        if not members:
            return True
        on = [g.objgen not in self.off for g in members]
        policy = str(oc.get("/P", "/AnyOn"))
        if policy == "/AllOn":
            return all(on)
        if policy == "/AnyOff":
            return not all(on)
        if policy == "/AllOff":
            return not any(on)
        return any(on)

    def _expression(self, ve: pikepdf.Array, depth: int) -> bool:
        """A visibility expression (§8.11.2.2, Table 99)."""
        if depth > 16:
            return True
        op = str(ve[0])
        args = [a for a in list(ve)[1:] if a is not None]
        values = [self._expression(a, depth + 1) if isinstance(a, pikepdf.Array)
                  else a.objgen not in self.off if isinstance(a, pikepdf.Dictionary) else True
                  for a in args]
        if op == "/Not":
            return not values[0] if values else True
        if op == "/Or":
            return any(values)
        return all(values)         # /And


NONE = PrintState(frozenset(), frozenset())


def _keys(arr: object) -> set[Key]:
    if not isinstance(arr, pikepdf.Array):
        return set()
    return {g.objgen for g in arr if isinstance(g, pikepdf.Dictionary)}


def print_state(pdf: pikepdf.Pdf) -> PrintState:
    """The print state of every OCG of ``pdf`` (§8.11.4.3, §8.11.4.4)."""
    props = pdf.Root.get("/OCProperties")
    if not isinstance(props, pikepdf.Dictionary):
        return NONE
    groups = _keys(props.get("/OCGs"))
    d = props.get("/D")
    if not isinstance(d, pikepdf.Dictionary):
        return PrintState(frozenset(groups), frozenset())
    off = set(groups) if str(d.get("/BaseState", "/ON")) == "/OFF" else set()
    off |= _keys(d.get("/OFF"))
    off -= _keys(d.get("/ON"))
    applied: list[pikepdf.Object] = []
    any_print_event = False
    for entry in d.get("/AS", []) if isinstance(d.get("/AS"), pikepdf.Array) else []:
        if not isinstance(entry, pikepdf.Dictionary) or entry.get("/Event") != "/Print":
            continue
        any_print_event = True
        if "/Print" in [str(c) for c in entry.get("/Category", [])]:
            applied += [g for g in entry.get("/OCGs", []) if isinstance(g, pikepdf.Dictionary)]
    if not any_print_event:
        applied = [g for g in props.get("/OCGs", []) if isinstance(g, pikepdf.Dictionary)]
    for g in applied:
        usage = g.get("/Usage")
        p = usage.get("/Print") if isinstance(usage, pikepdf.Dictionary) else None
        state = p.get("/PrintState") if isinstance(p, pikepdf.Dictionary) else None
        if state == "/ON":
            off.discard(g.objgen)
        elif state == "/OFF":
            off.add(g.objgen)
    return PrintState(frozenset(groups), frozenset(off))


def _ocmds(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every OCMD: indirect ones, and direct ones in /Properties and /OC entries."""
    found: dict[int, pikepdf.Dictionary] = {}

    def take(value: object) -> None:
        if isinstance(value, pikepdf.Dictionary) and value.get("/Type") == "/OCMD":
            found[id(value) if value.objgen == (0, 0) else hash(value.objgen)] = value

    for obj in pdf.objects:
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        take(obj)
        take(obj.get("/OC"))
        resources = obj.get("/Resources")
        for holder in (obj, resources if isinstance(resources, pikepdf.Dictionary) else None):
            props = holder.get("/Properties") if holder is not None else None
            if isinstance(props, pikepdf.Dictionary):
                for v in props.values():
                    take(v)
    return list(found.values())


def print_state_pdf(pdf: pikepdf.Pdf) -> bool:
    """Rewrite ``pdf``'s optional content to its print state; True if it has any.

    The default configuration lists every group ``/ON`` or ``/OFF`` as it prints,
    ``/AS`` and the groups' ``/Print`` usage are removed (applied once, here), and
    each OCMD is replaced by its value: membership of one of two new groups, one
    on and one off (Ghostscript ignores ``/VE``, so expressions are evaluated here).
    """
    state = print_state(pdf)
    if state.empty:
        return False
    props = pdf.Root.OCProperties
    ocgs = [g for g in props.OCGs if isinstance(g, pikepdf.Dictionary)]
    values = [(m, state.visible(m)) for m in _ocmds(pdf)]
    shown, hidden = (pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.OCG, Name=pikepdf.String(n))) for n in ("printed", "not printed"))
    direct_annots = [a for page in pdf.pages for a in page.obj.get("/Annots", [])
                     if isinstance(a, pikepdf.Dictionary) and a.objgen == (0, 0)]
    for obj in [*pdf.objects, *direct_annots]:   # Ghostscript 10.0 draws a Form XObject
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)) or "/OC" not in obj \
                or state.visible(obj.OC):            # and an annotation whatever its /OC
            continue
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form":
            obj.write(b"")                               # it prints nothing
        elif "/Rect" in obj and "/Subtype" in obj:       # an annotation (§12.5.2)
            obj.F = int(obj.get("/F", 0)) | 2            # Hidden
    for m, visible in values:
        for key in ("/VE", "/OCGs", "/P"):
            if key in m:
                del m[key]
        m.OCGs = shown if visible else hidden
        m.P = pikepdf.Name.AnyOn
    d = props.get("/D")
    d = pikepdf.Dictionary() if not isinstance(d, pikepdf.Dictionary) else d
    d.BaseState = pikepdf.Name.ON
    d.ON = pikepdf.Array([g for g in ocgs if g.objgen not in state.off] + [shown])
    d.OFF = pikepdf.Array([g for g in ocgs if g.objgen in state.off] + [hidden])
    for key in ("/AS", "/Locked"):
        if key in d:
            del d[key]
    props.D = d
    props.OCGs = pikepdf.Array([*ocgs, shown, hidden])
    if "/Configs" in props:
        del props["/Configs"]
    for g in ocgs:               # the print state is now in /D; a reader that applies
        usage = g.get("/Usage")  # /Print usage itself must not apply it a second time
        if isinstance(usage, pikepdf.Dictionary) and "/Print" in usage:
            del usage["/Print"]
    return True


@contextlib.contextmanager
def print_state_copy(path: Path, scratch: Path | None) -> Iterator[Path]:
    """``path`` itself (not a PDF, or no optional content), or a private copy in
    ``scratch`` whose optional content is in its print state (``print_state_pdf``)."""
    try:
        pdf = pikepdf.open(path)
    except (pikepdf.PdfError, OSError, ValueError):
        yield path
        return
    with pdf:
        if not print_state_pdf(pdf):
            yield path
            return
        fd, name = tempfile.mkstemp(prefix="print-state-", suffix=".pdf", dir=scratch)
        os.close(fd)
        try:
            pdf.save(name)
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
