"""The catalog as provisioning TOML (``ippproxy export-config``).

The output is the ``[[cost_model]]``, ``[[group]]``, ``[[queue]]`` and ``[[rule]]`` tables
of the database's objects, and the options under their ``[accounting]`` / ``[analysis]``
tables: ``ippproxy check-config`` accepts it, and provisioning it into an empty database
gives the same objects again (apply -> export -> apply). Only keys whose value differs from
the type's default are written, so the file reads like a hand-written one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from ippproxy.config import GroupConfig

from .snapshot import Snapshot
from .store import spec


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string (\uXXXX escapes) is a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {v!r}")  # pragma: no cover - config types only


def _changed(obj: object, keep: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    """The fields of ``obj`` that differ from its type's defaults (and ``keep``)."""
    values = spec(obj)
    out = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        v = values[f.name]
        default = (f.default if f.default is not dataclasses.MISSING else
                   f.default_factory() if f.default_factory is not dataclasses.MISSING
                   else dataclasses.MISSING)
        if isinstance(default, tuple):
            default = list(default)
        if f.name in keep or v != default:
            out[f.name] = v
    return out


def _table(header: str, values: dict[str, Any]) -> list[str]:
    return [header] + [f"{k} = {_value(v)}" for k, v in values.items()] + [""]


def to_toml(snapshot: Snapshot, groups: Iterable[GroupConfig] = ()) -> str:
    head = (f"# Exported by `ippproxy export-config` from the database's catalog "
            f"(version {snapshot.version}).")
    lines = [head, ""]
    sections: dict[str, dict[str, Any]] = {}
    for key, value in snapshot.options:
        section, name = key.split(".", 1)
        sections.setdefault(section, {})[name] = value
    for section, values in sorted(sections.items()):
        lines += _table(f"[{section}]", values)
    for m in snapshot.cost_models:
        values = _changed(m)
        media = values.pop("media", [])
        lines += _table("[[cost_model]]", values)
        for price in media:
            lines += _table("[[cost_model.media]]", price)
    for g in groups:
        lines += _table("[[group]]", _changed(g))
    for q in snapshot.queues:
        lines += _table("[[queue]]", _changed(q))
    for r in snapshot.rules:
        lines += _table("[[rule]]", _changed(r, keep=("name", "type")))
    return "\n".join(lines)
