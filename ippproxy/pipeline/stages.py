"""Where a submission's intake time goes, stage by stage (``ippproxy_intake_stage_duration_
seconds``, metrics.py).

The stages are the intake's own steps (intake.py): ``receive`` (the request's document
into the spool), ``analyse`` (the owner's groups, the format, the pages and their colour:
the analysis workers' round trip), ``decide`` (the rules, forced options and their
conversions), ``reserve`` (the price debited; on SQLite a Print-Job leaves it to
``create``) and ``create`` (the job stored, durable: the job store's group commit and
its sync). A stage a submission does not pass is not observed.
"""

from __future__ import annotations

import time

RECEIVE = "receive"
ANALYSE = "analyse"
DECIDE = "decide"
RESERVE = "reserve"
CREATE = "create"
STAGES = (RECEIVE, ANALYSE, DECIDE, RESERVE, CREATE)


class StageClock:
    """The seconds of each stage of one submission: ``mark(stage)`` ends ``stage`` now;
    it began where the previous mark (or the clock's start) ended."""

    __slots__ = ("_last", "seconds")

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def mark(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now
