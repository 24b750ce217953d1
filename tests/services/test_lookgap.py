"""How long a poller of recent changes waits between looks (services/lookgap.py)."""

from __future__ import annotations

import datetime as dt

from ippproxy.services.lookgap import BUSY_KEYS, LookGap


def test_a_busy_look_waits_one_overlap_a_quiet_one_min_gap() -> None:
    gap = LookGap(0.2, dt.timedelta(seconds=2))
    assert [gap.after(n) for n in (0, BUSY_KEYS - 1, BUSY_KEYS, 10 * BUSY_KEYS)] == [
        0.2, 0.2, 2.0, 2.0]


def test_the_gap_is_never_below_min_gap() -> None:
    gap = LookGap(3.0, dt.timedelta(seconds=1), busy_keys=5)
    assert (gap.after(4), gap.after(5)) == (3.0, 3.0)
