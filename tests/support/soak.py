"""The sizes of the long loops: small in `make test`, large in `make soak`.

`make soak` runs the tests marked ``soak`` (crash loops past 10 kills, load) and every
hypothesis property test, with ``HYPOTHESIS_PROFILE=soak`` (registered in
tests/conftest.py). ``SOAK_SCALE`` (default 10) sets how long: it multiplies the
hypothesis examples of each property test and the rounds of the soak loops.
"""

from __future__ import annotations

import os

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
SCALE = int(os.environ.get("SOAK_SCALE", "10"))
if SCALE < 1:
    raise ValueError(f"SOAK_SCALE must be at least 1, not {SCALE}")


def examples(n: int) -> int:
    """``n`` hypothesis examples in `make test`; ``SCALE`` times as many under `make soak`."""
    return n * SCALE if PROFILE == "soak" else n
