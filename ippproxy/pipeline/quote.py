"""Validate-Job's price quote (status-message), where no document is needed.

With ``job-impressions`` (or ``job-pages``) supplied as an operation attribute (RFC 8011
§4.2.1.1, which a client may send to Validate-Job) the quote is the price of that many
impressions, times ``copies``, at the colour mode asked for (``print-color-mode``
monochrome: monochrome price, otherwise the range monochrome to colour). Without them it
is the price of one monochrome and one colour impression for this user on this queue.
Nothing is written: unknown users are priced with the new-user group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ippproxy.accounting import AccountingError, AccountingService, JobCounts
from ippproxy.accounting.identity import canonical_name
from ippproxy.ipp import Attribute
from ippproxy.pipeline.metering import MONOCHROME


def _int(attributes: Sequence[Attribute], name: str) -> int | None:
    a = next((a for a in attributes if a.name == name), None)
    v = None if a is None else a.value
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


async def quote(accounting: AccountingService, queue: str, raw_user: str,
                attributes: Sequence[Attribute]) -> str:
    """The quote for ``raw_user`` on ``queue``; ``attributes``: the accepted job-template
    attributes and any job-impressions / job-pages. "" when none can be given."""
    try:
        user = canonical_name(raw_user)
    except ValueError:
        return ""
    mode = next((a.value for a in attributes if a.name == "print-color-mode"), None)
    mono_only = mode in MONOCHROME
    n = _int(attributes, "job-impressions")
    if n is None:
        n = _int(attributes, "job-pages")
    copies = _int(attributes, "copies") or 1

    def price(mono: int, colour: int) -> str:
        return accounting.estimate(user, queue, JobCounts.simple(mono, colour)).text

    def work() -> str:
        if n is not None:
            low = price(n * copies, 0)
            if mono_only:
                return f"estimated cost {low} for {n * copies} impressions"
            return (f"estimated cost {low} (monochrome) to {price(0, n * copies)} (colour) "
                    f"for {n * copies} impressions")
        return (f"price per impression on {queue}: {price(1, 0)} monochrome, "
                f"{price(0, 1)} colour")
    try:
        return await asyncio.to_thread(work)
    except (AccountingError, ValueError):
        return ""
