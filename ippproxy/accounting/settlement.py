"""Settlement: what a job costs once its outcome is known, and the admin's refunds.

Theory of operation
-------------------
``settle`` records the outcome once (the charge row, locked, moves out of
``reserved``; a second event finds it settled and replays):

* completed, or cancelled/aborted after pages printed (or unknown): the final
  price follows :class:`Trust` (:func:`final_price`) and the difference to the intake
  charge is one ``settle:<uuid>`` row (none if zero). A printer count that differs
  from ours is logged as a discrepancy.
* cancelled/aborted with ``impressions == 0``: the whole charge comes back
  (``refund:<uuid>:auto``). Peers refund automatically only *before* printing
  starts and leave mid-print cancels to an admin (PaperCut, peers.md §4).

``refund`` is the admin refund of a settled job, full or partial, with a reason;
never more than the net charge. Both run on a connection in the caller's transaction;
lock order everywhere: job charge, then account.
"""

from __future__ import annotations

import logging
import uuid
from fractions import Fraction

from sqlalchemy import Connection

from ippproxy.accounting import charges
from ippproxy.accounting.charges import Charge, ChargeState, Outcome
from ippproxy.accounting.cost import round_half_up
from ippproxy.accounting.errors import InvalidOperation, NotFound
from ippproxy.accounting.ledger import Kind, Posting, find
from ippproxy.accounting.money import format_money
from ippproxy.accounting.settings import AccountingSettings, Trust

log = logging.getLogger(__name__)


def final_price(trust: Trust, estimate: int, fee: int, ours: int,
                reported: int | None) -> int:
    """The price of a printed job under ``trust`` (integer, half-up): the fee, and the
    rest of the estimate in proportion to the trusted count of ``ours`` impressions."""
    if reported is None or reported == ours or ours == 0 or trust == Trust.OURS:
        return estimate
    count = reported if trust == Trust.PRINTER else min(reported, ours)
    return fee + round_half_up(Fraction((estimate - fee) * count, ours))


def settle(conn: Connection, s: AccountingSettings, job_uuid: uuid.UUID, outcome: Outcome,
           impressions: int | None) -> Charge:
    """Record the job's outcome once (module docstring)."""
    c = charges.find(conn, job_uuid, lock=True)
    if c is None:
        raise NotFound(f"no charge for job {job_uuid}")
    if c["state"] != ChargeState.RESERVED:
        return charges.load(c, replayed=True)
    p: Posting | None = None
    if outcome != Outcome.COMPLETED and impressions == 0:
        if c["charged"]:
            p = charges.post_outcome(conn, c, c["charged"], Kind.REFUND,
                                     f"refund:{job_uuid}:auto",
                                     f"job {outcome} before printing: automatic refund",
                                     s.exponent)
        return charges.close(conn, c, ChargeState.REFUNDED, 0, impressions, p)
    final = final_price(s.trust, c["estimate"], c["fee"], c["impressions"], impressions)
    if impressions is not None and impressions != c["impressions"]:
        log.warning("job %s: printer reported %d impressions, we counted %d "
                    "(trust=%s, charged %s)", job_uuid, impressions, c["impressions"],
                    s.trust, format_money(final, s.currency, s.exponent))
    if final != c["charged"]:
        p = charges.post_outcome(conn, c, c["charged"] - final, Kind.SETTLE,
                                 f"settle:{job_uuid}", f"job {outcome}: final price "
                                 f"{format_money(final, s.currency, s.exponent)}", s.exponent)
    return charges.close(conn, c, ChargeState.SETTLED, final, impressions, p)


def release(conn: Connection, s: AccountingSettings, job_uuid: uuid.UUID,
            reason: str) -> Charge:
    """A reservation whose job was never stored (an orphan): the whole charge comes back
    with ``reason``, once; there is no job to write the amount back into."""
    c = charges.find(conn, job_uuid, lock=True)
    if c is None:
        raise NotFound(f"no charge for job {job_uuid}")
    if c["state"] != ChargeState.RESERVED:
        return charges.load(c, replayed=True)
    p: Posting | None = None
    if c["charged"]:
        p = charges.post_outcome(conn, c, c["charged"], Kind.REFUND,
                                 f"refund:{job_uuid}:auto", reason, s.exponent)
    charge = charges.close(conn, c, ChargeState.REFUNDED, 0, 0, p)
    charges.mark_recorded(conn, [job_uuid])
    return charge


def refund(conn: Connection, s: AccountingSettings, job_uuid: uuid.UUID, amount: int | None,
           reason: str, actor: str, request_key: str | None) -> Charge:
    """The admin refund of a settled job: ``amount`` (None: all that is left);
    ``request_key`` makes a retried request replay instead of refunding again."""
    c = charges.find(conn, job_uuid, lock=True)
    if c is None:
        raise NotFound(f"no charge for job {job_uuid}")
    key = f"refund:{job_uuid}:admin:{request_key or c['refunds'] + 1}"
    if request_key and find(conn, key) is not None:
        return charges.load(c, replayed=True)
    if c["state"] != ChargeState.SETTLED:
        raise InvalidOperation(f"job {job_uuid} is {c['state']}: only printed jobs "
                               "are refunded by an admin")
    value = c["charged"] if amount is None else amount
    if not 0 < value <= c["charged"]:
        raise InvalidOperation(f"refund must be between 0.01 and "
                               f"{format_money(c['charged'], s.currency, s.exponent)}")
    p = charges.post_for(conn, c, value, Kind.REFUND, key, reason, actor, s.exponent)
    charges.add_refund(conn, c, value)
    return charges.load(charges.find(conn, job_uuid, lock=False) or c,
                        balance=p.balance_after)
