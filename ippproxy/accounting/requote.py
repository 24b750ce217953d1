"""A reserved job priced again on another printer: the admin moved it (jobs.moving).

The job's counts are priced with the new printer's cost model and the owner's groups as
they are now, as at intake (``service.AccountingService.reserve``). The reservation becomes
that price: the difference is one ledger row on the same account, with the reason naming
both printers and both prices (a debit, ``charge``, that a restricted account must be able
to pay, else ``CreditRefused`` and nothing is written; or a credit, ``refund``), and the
charge row takes the new printer, estimate, fee and charged amount. A job with no charge
(free where it was) is reserved afresh under ``key``. A charge no longer reserved (settled
or refunded) is not touched. Each call is one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, update

from ippproxy.accounting import charges, users
from ippproxy.accounting.charges import ChargeState, JobId, job_id
from ippproxy.accounting.cost import JobCounts, Pricing, fee_part, group_multiplier, price
from ippproxy.accounting.ledger import Kind, post
from ippproxy.accounting.models import CHARGES
from ippproxy.accounting.money import format_money
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import utcnow


@dataclass(frozen=True)
class Requote:
    job_uuid: uuid.UUID
    printer: str
    before: int          # the reserved price before (0: there was no charge)
    after: int           # the reserved price now
    changed: bool        # a ledger row was written


def requote(engine: Engine, pricing: Pricing, settings: AccountingSettings, job: JobId, *,
            owner: str, printer: str, counts: JobCounts, actor: str, key: str,
            account_code: str | None = None, what: str = "job moved") -> Requote:
    """Price ``job`` of ``owner`` on ``printer`` and adjust its reservation; ``key`` makes
    the ledger row once-only (one per move); ``what`` begins the ledger row's reason
    ("job moved", a Find-Me release)."""
    job_uuid = job_id(job)

    def work(conn: Connection) -> Requote:
        c = charges.find(conn, job_uuid, lock=True)
        if c is None:
            return _reserve_afresh(conn, job_uuid, owner, printer, counts, actor, key,
                                   account_code)
        if c["state"] != str(ChargeState.RESERVED):
            return Requote(job_uuid, printer, int(c["charged"]), int(c["charged"]), False)
        amount, fee = _price(conn, pricing, c["user_id"], printer, counts)
        before = int(c["estimate"])
        diff = before - amount                       # > 0: cheaper now, credited back
        if diff:
            text = (f"{what} from {c['printer']} to {printer}: re-priced from "
                    f"{_money(settings, before)} to {_money(settings, amount)}")
            post(conn, c["account_id"], diff, kind=Kind.REFUND if diff > 0 else Kind.CHARGE,
                 reason=text, actor=actor, key=key, job_uuid=job_uuid,
                 enforce_credit=diff < 0, exponent=settings.exponent)
        conn.execute(update(CHARGES).where(CHARGES.c.job_uuid == job_uuid).values(
            printer=printer, estimate=amount, fee=fee, charged=amount, updated_at=utcnow()))
        return Requote(job_uuid, printer, before, amount, bool(diff))

    def _reserve_afresh(conn: Connection, job_uuid: uuid.UUID, owner: str, printer: str,
                        counts: JobCounts, actor: str, key: str,
                        account_code: str | None) -> Requote:
        user = users.find_user(conn, owner)
        if user is None:
            return Requote(job_uuid, printer, 0, 0, False)
        u = user._mapping
        amount, fee = _price(conn, pricing, u["id"], printer, counts)
        if not amount:
            return Requote(job_uuid, printer, 0, 0, False)
        account = (users.shared_account(conn, account_code) if account_code
                   else users.personal_account(conn, u["id"]))
        post(conn, account._mapping["id"], -amount, kind=Kind.CHARGE, key=key,
             reason=f"{what} to {printer}: priced {_money(settings, amount)} there",
             actor=actor, job_uuid=job_uuid, enforce_credit=True, exponent=settings.exponent)
        charges.add_reserved(conn, job_uuid, account._mapping["id"], u["id"], printer, amount,
                             fee, counts.impressions, settings.node)
        return Requote(job_uuid, printer, 0, amount, True)

    return in_transaction(engine, work)


def _price(conn: Connection, pricing: Pricing, user_id: uuid.UUID, printer: str,
           counts: JobCounts) -> tuple[int, int]:
    groups = users.user_groups(conn, user_id)
    model = pricing.model_for(printer)
    mult = group_multiplier(groups, pricing.multipliers)
    return price(counts, model, mult), fee_part(counts, model, mult)


def _money(settings: AccountingSettings, minor: int) -> str:
    return format_money(minor, settings.currency, settings.exponent)
