"""Find-Me queues at intake (issue 17 point 7): held, and reserved at the dearest printer.

A queue with ``findme_printers`` (config.py) is virtual: its jobs never print where they
were sent. Every job is stored ``pending-held`` (``job-hold-until-specified``, RFC 8011
§5.3.8, with a job-state-message naming the printers) until its owner releases it at one of
the queue's printers (``findme_release.py``). The rule for the reservation: the job is
priced at each printer of the group as it was submitted (colour as counted, the ticket's
sides) and the highest price is reserved, charged to that printer. That is the most the
job can cost anywhere in the group, so a release never needs more credit than was shown at
intake unless the cost models changed meanwhile; the release re-prices at the chosen
printer and charges or refunds the difference (``requote.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ippproxy.accounting import JobCounts
from ippproxy.accounting.cost import Pricing
from ippproxy.config import Config, QueueConfig
from ippproxy.pipeline.payer import PAYER_REASONS

# RFC 8011 §5.3.8: held until released (here: by the owner at a printer of the group).
HOLD_REASON = "job-hold-until-specified"


def findme_queue(config: Config, name: str) -> QueueConfig | None:
    """The Find-Me queue named ``name``; None for an ordinary queue (or none)."""
    q = next((q for q in config.queues if q.name == name), None)
    return q if q is not None and q.findme_printers else None


def hold_message(queue: QueueConfig) -> str:
    return f"Find-Me: release it at a printer of {', '.join(queue.findme_printers)}"


def held(config: Config, queue: str, reason: str, message: str) -> tuple[str, str]:
    """The hold (job-state-reasons keyword, message) of a job on ``queue`` given the rules'
    (``message`` "": no hold): a Find-Me queue holds every job for its owner, unless a rule
    asks the owner for the account first (payer.py)."""
    fm = findme_queue(config, queue)
    if fm is None or reason in PAYER_REASONS:
        return reason, message
    return HOLD_REASON, "; ".join(m for m in (hold_message(fm), message) if m)


def keeps_held(config: Config, queue: str) -> str | None:
    """Why a paid job on ``queue`` stays held (its owner answered its account question: a
    Find-Me job still waits for its printer); None for an ordinary queue."""
    fm = findme_queue(config, queue)
    return None if fm is None else hold_message(fm)


def dearest(pricing: Pricing, printers: Iterable[str], groups: Iterable[str],
            counts: JobCounts) -> str | None:
    """The printer where ``counts`` costs most for a member of ``groups`` (the first of
    equals, in the group's order); None for an empty group."""
    best: tuple[int, str] | None = None
    members = frozenset(groups)
    for printer in printers:
        amount = pricing.price(printer, members, counts)
        if best is None or amount > best[0]:
            best = (amount, printer)
    return None if best is None else best[1]


def priced_at(config: Config, pricing: Pricing, queue: str, groups: Iterable[str],
              counts: JobCounts) -> str:
    """Where a job on ``queue`` is priced at intake: the queue itself, or for a Find-Me
    queue its dearest printer."""
    fm = findme_queue(config, queue)
    if fm is None:
        return queue
    return dearest(pricing, fm.findme_printers, groups, counts) or queue
