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
``print_state_pdf`` rewrites a document's default configuration to its print
state (``/ON`` and ``/OFF`` listed explicitly, ``/AS`` removed) so that a
renderer or a converter that applies the view configuration prints exactly
what the printer would.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def print_state_pdf(pdf: pikepdf.Pdf) -> bool:
    """Rewrite ``pdf``'s default OC configuration to its print state; True if it had one."""
    state = print_state(pdf)
    if state.empty:
        return False
    props = pdf.Root.OCProperties
    ocgs = [g for g in props.OCGs if isinstance(g, pikepdf.Dictionary)]
    d = props.get("/D")
    d = pikepdf.Dictionary() if not isinstance(d, pikepdf.Dictionary) else d
    d.BaseState = pikepdf.Name.ON
    d.ON = pikepdf.Array([g for g in ocgs if g.objgen not in state.off])
    d.OFF = pikepdf.Array([g for g in ocgs if g.objgen in state.off])
    for key in ("/AS", "/Locked"):
        if key in d:
            del d[key]
    props.D = d
    for g in ocgs:               # the print state is now in /D; a reader that applies
        usage = g.get("/Usage")  # /Print usage itself must not apply it a second time
        if isinstance(usage, pikepdf.Dictionary) and "/Print" in usage:
            del usage["/Print"]
    if "/Configs" in props:
        del props["/Configs"]
    return True
