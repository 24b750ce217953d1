"""How a job's accepted job-template attributes are stored (``JobRecord.attributes``).

The blob is a complete IPP message holding one job-attributes group, so every value keeps
its tag and the codec reads it back unchanged (docs/interfaces.md, ``ippproxy.jobs``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ippproxy.ipp import Attribute, DecodeError, Group, Message, Tag, decode, encode


def pack(attributes: Iterable[Attribute]) -> bytes:
    attrs = tuple(attributes)
    if not attrs:
        return _EMPTY   # most jobs: encoded once
    return encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, attrs),)))


_EMPTY = encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, ()),)))


def unpack(blob: bytes) -> tuple[Attribute, ...]:
    if not blob:
        return ()
    try:
        group = decode(blob).group(Tag.JOB_ATTRIBUTES)
    except DecodeError:
        return ()
    return () if group is None else group.attributes


def with_values(blob: bytes, values: Iterable[Attribute]) -> bytes:
    """``blob`` with ``values`` set, replacing attributes of the same names."""
    new = tuple(values)
    names = {a.name for a in new}
    return pack((*(a for a in unpack(blob) if a.name not in names), *new))
