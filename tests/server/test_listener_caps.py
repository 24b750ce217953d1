"""The listener's caps (caps.py): the descriptor limit raised at start, the total kept below
it minus the reserve, slots given back exactly once."""

from __future__ import annotations

import os
import subprocess
import sys

from ippproxy.server.caps import Caps, connection_limit


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one() -> None:
    code = "from ippproxy.server.caps import raise_fd_limit; print(raise_fd_limit())"
    out = subprocess.run(["prlimit", "--nofile=256:2048", "--", sys.executable, "-c", code],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == "2048"


def test_the_total_stays_below_the_limit_minus_the_reserve() -> None:
    assert connection_limit(1000, 1024, 128) == 896
    assert connection_limit(500, 1024, 128) == 500
    assert connection_limit(1000, 100, 128) == 1      # never 0: the listener still serves


def test_slots_per_address_and_in_all_are_given_back_once() -> None:
    caps = Caps(total=3, per_address=2)
    a1, a2 = caps.take("10.0.0.1"), caps.take("10.0.0.1")
    assert not caps.address_has_room("10.0.0.1") and caps.address_has_room("10.0.0.2")
    b = caps.take("10.0.0.2")
    assert not caps.has_room()
    a1.release()
    a1.release()                      # a second release changes nothing
    assert caps.open == 2 and caps.address_has_room("10.0.0.1") and caps.has_room()
    a2.release()
    b.release()
    assert caps.open == 0 and not caps.by_address
