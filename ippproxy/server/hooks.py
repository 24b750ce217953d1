"""Seams the composition root fills: who is told when a job changed.

What happens to a job between spool and acknowledgement is the intake pipeline
(ippproxy.pipeline.intake); its policy seam is the policy chain
(``policies.PolicyChain.decide(JobFacts) -> Decision``).
"""

from __future__ import annotations

from typing import Protocol


class JobNotifier(Protocol):
    """Told when a job became ready for forwarding or was canceled (wakes the forwarder)."""

    def job_changed(self, job_uuid: str) -> None: ...


class NoNotifier:
    def job_changed(self, job_uuid: str) -> None:
        return None
