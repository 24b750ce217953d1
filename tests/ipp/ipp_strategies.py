"""Hypothesis strategies that generate canonical IPP messages (every tag family)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from ippproxy.ipp import (
    Attribute,
    Collection,
    Group,
    Message,
    RangeOfInteger,
    Resolution,
    StringWithLanguage,
    Tag,
)
from ippproxy.ipp.attribute import Value

INT32 = st.integers(-(2**31), 2**31 - 1)
NAMES = st.text("abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=12)
STRING_TAGS = [0x41, 0x42, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49]
RAW_TAGS = [0x20, *range(0x24, 0x30), 0x30, 0x40, 0x43, *range(0x4B, 0x7F), *range(0x80, 0x100)]
OUT_OF_BAND = list(range(0x10, 0x20))

_TZ = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
DATETIMES = st.builds(
    lambda d, ds, tz: d.replace(microsecond=ds * 100_000, tzinfo=tz),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.integers(0, 9),
    _TZ,
)

SCALARS: st.SearchStrategy[tuple[int, Value]] = st.one_of(
    st.tuples(st.sampled_from([0x21, 0x23]), INT32),
    st.tuples(st.just(0x22), st.booleans()),
    st.tuples(st.sampled_from(STRING_TAGS), st.text(max_size=20)),
    st.tuples(st.sampled_from(RAW_TAGS), st.binary(max_size=20)),
    st.tuples(st.sampled_from(OUT_OF_BAND), st.none()),
    st.tuples(st.just(0x31), DATETIMES),
    st.tuples(st.just(0x32), st.builds(Resolution, INT32, INT32, st.integers(-128, 127))),
    st.tuples(st.just(0x33), st.builds(RangeOfInteger, INT32, INT32)),
    st.tuples(st.sampled_from([0x35, 0x36]),
              st.builds(StringWithLanguage, st.text(max_size=8), st.text(max_size=20))),
    st.tuples(st.just(0x7F), st.builds(lambda t, d: t.to_bytes(4, "big") + d,
                                       st.integers(0, 2**31 - 1), st.binary(max_size=8))),
)


def _attributes(values: st.SearchStrategy[tuple[int, Value]]) -> st.SearchStrategy[Attribute]:
    return st.builds(Attribute, NAMES, st.lists(values, min_size=1, max_size=3).map(tuple))


VALUES: st.SearchStrategy[tuple[int, Value]] = st.recursive(
    SCALARS,
    lambda inner: st.tuples(
        st.just(0x34),
        st.lists(_attributes(inner), max_size=3).map(lambda a: Collection(tuple(a))),
    ),
    max_leaves=6,
)
ATTRIBUTES = _attributes(VALUES)
GROUP_TAGS = st.sampled_from([t for t in range(1, 16) if t != 3])
GROUPS = st.builds(Group, GROUP_TAGS, st.lists(ATTRIBUTES, max_size=4).map(tuple))
MESSAGES = st.builds(
    Message,
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
    st.integers(0, 0xFFFF),
    INT32,
    st.lists(GROUPS, max_size=3).map(tuple),
)
_ = Tag  # re-exported for tests that build on these strategies
