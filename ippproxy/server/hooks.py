"""Seams the composition root fills: who is told when a job changed, and when an IPP
request changed a queue's state.

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


class QueueStateRecorder(Protocol):
    """Told when Pause-/Resume-/Enable-/Disable-Printer changed a queue's state: the
    composition root audits it and makes every node re-read the queue states
    (``services.queues.IppStateAudit``). ``before`` and ``after`` are (paused, accepting)."""

    async def queue_state_changed(self, user: str, queue: str, before: tuple[bool, bool],
                                  after: tuple[bool, bool]) -> None: ...


class NoRecorder:
    async def queue_state_changed(self, user: str, queue: str, before: tuple[bool, bool],
                                  after: tuple[bool, bool]) -> None:
        return None
