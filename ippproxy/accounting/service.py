"""The charging lifecycle, keyed by job UUID.

Theory of operation
-------------------
``estimate`` prices a job without writing. ``reserve`` (at intake, after the
policies) debits the job's account by the estimate with ledger key
``charge:<uuid>``; for a restricted account a debit below ``-credit_limit``
is refused with :class:`CreditRefused` (its message says balance and cost:
``client-error-account-limit-reached``). Debiting at intake means a ``kill -9``
between printing and charging cannot lose the charge, and two nodes cannot
overspend: the debit and the credit check happen under the account's row lock.

``settle`` records the outcome once (the ``acct_job_charges`` row, locked with
``FOR UPDATE``, moves out of ``reserved``; a second event finds it settled and
replays):

* completed, or cancelled/aborted after pages printed (or unknown): the final
  price follows :class:`Trust` and the difference to the intake charge is one
  ``settle:<uuid>`` row (none if zero). A printer count that differs from ours
  is logged as a discrepancy.
* cancelled/aborted with ``impressions == 0``: the whole charge comes back
  (``refund:<uuid>:auto``). Peers refund automatically only *before* printing
  starts and leave mid-print cancels to an admin (PaperCut, peers.md §4).

``refund`` is the admin refund of a settled job, full or partial, with a reason;
never more than the net charge. Lock order everywhere: job charge, then account.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from fractions import Fraction

from sqlalchemy import Connection, Engine, Row, RowMapping, insert, select, update

from ippproxy.accounting import groupsettings, users
from ippproxy.accounting.cost import (
    JobCounts,
    Pricing,
    fee_part,
    group_multiplier,
    price,
    round_half_up,
)
from ippproxy.accounting.errors import InvalidOperation, NotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.ledger import Kind, Posting, find, post
from ippproxy.accounting.models import ACCOUNTS, CHARGES, utcnow
from ippproxy.accounting.money import format_money
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import GroupConfig

log = logging.getLogger(__name__)


class Trust(StrEnum):
    """Whose impression count prices a printed job."""

    OURS = "ours"  # our count; the printer's only logged when it differs
    PRINTER = "printer"  # the printer's job-impressions-completed when reported
    LOWER = "lower"  # the lower of the two


class ChargeState(StrEnum):
    RESERVED = "reserved"  # debited at intake, outcome unknown
    SETTLED = "settled"  # printed (fully or partly); final
    REFUNDED = "refunded"  # nothing printed; charge returned


class Outcome(StrEnum):
    COMPLETED = "completed"
    CANCELED = "canceled"
    ABORTED = "aborted"


@dataclass(frozen=True)
class AccountingSettings:
    currency: str = "EUR"
    exponent: int = 2  # ISO 4217 minor unit digits
    trust: Trust = Trust.OURS
    create_unknown_users: bool = True  # False: unknown users are refused
    new_user_group: str = ""  # whose initial_* defaults apply to users created on print
    new_user_balance: int = 0
    new_user_restricted: bool = True
    new_user_credit_limit: int = 0


@dataclass(frozen=True)
class GroupDefaults:
    """A configured group and what a user created into it starts with (minor units)."""

    name: str
    initial_balance: int = 0
    initial_restricted: bool = True
    initial_credit_limit: int = 0


@dataclass(frozen=True)
class Estimate:
    amount: int
    currency: str
    text: str  # "1.20 EUR"


@dataclass(frozen=True)
class Charge:
    job_uuid: uuid.UUID
    account_id: uuid.UUID
    user_id: uuid.UUID
    printer: str
    state: ChargeState
    estimate: int
    charged: int  # net amount debited for this job now
    refunded: int  # admin refunds so far
    balance: int  # account balance after this operation
    currency: str
    replayed: bool = False  # True: nothing changed (duplicate request or event)


JobId = uuid.UUID | str


def job_id(value: JobId) -> uuid.UUID:
    """Job UUIDs arrive as ``uuid.UUID`` or as text (the job store keeps strings)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


class AccountingService:
    """Charging with a shared engine; safe to use from several threads and nodes."""

    def __init__(self, engine: Engine, pricing: Pricing,
                 settings: AccountingSettings = AccountingSettings()) -> None:
        self.engine = engine
        self.pricing = pricing
        self.settings = settings

    def money(self, minor: int) -> str:
        return format_money(minor, self.settings.currency, self.settings.exponent)

    # -- users ------------------------------------------------------------------------
    def _user(self, conn: Connection, username: str) -> Row[tuple[object, ...]]:
        row = users.find_user(conn, username)
        if row is not None:
            if row._mapping["disabled"]:
                raise InvalidOperation(f"user {row._mapping['username']!r} is disabled")
            return row
        if not self.settings.create_unknown_users:
            raise NotFound(f"unknown user {canonical_name(username)!r}")
        s = self.settings
        defaults = users.UserDefaults(s.currency, s.new_user_balance, s.new_user_restricted,
                                      s.new_user_credit_limit)
        groups: tuple[str, ...] = ()
        if s.new_user_group:
            found = users.group_defaults(conn, s.new_user_group, s.currency)
            if found is not None:
                defaults, groups = found, (s.new_user_group,)
        users.add_user(conn, username, defaults=defaults, groups=groups)
        return users.get_user(conn, username)

    def ensure_user(self, username: str) -> uuid.UUID:
        """Look a user up, creating it if configured (issue 5 §2); raises NotFound."""
        row = in_transaction(self.engine, lambda c: self._user(c, username))
        return uuid.UUID(str(row._mapping["id"]))

    def live_groups(self, username: str) -> frozenset[str] | None:
        """The groups of a live, enabled user, read in a snapshot (no write lock); None
        when the user is unknown or disabled. Blocking."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                row = users.find_user(conn, username)
                if row is None or row._mapping["disabled"]:
                    return None
                return frozenset(users.user_groups(conn, row._mapping["id"]))

    def verify_password(self, username: str, password: str) -> str | None:
        """The canonical name when ``password`` is that of a live, enabled user, else None
        (HTTP Basic, RFC 7617). argon2 costs tens of milliseconds of CPU: call it in a
        thread."""
        try:
            name = canonical_name(username)
        except ValueError:
            return None
        uid = in_transaction(self.engine, lambda c: users.authenticate(c, name, password))
        return None if uid is None else name

    def group_configs(self) -> list[GroupConfig]:
        """Every group's settings as ``[[group]]`` declares them (multiplier, new-user
        defaults), read in a snapshot. Blocking."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                return [groupsettings.to_config(g, self.settings.exponent)
                        for g in groupsettings.list_groups(conn)]

    def define_groups(self, groups: Iterable[GroupDefaults]) -> None:
        """Create the groups, or write their new-user defaults when they exist
        (idempotent; one transaction)."""
        def work(conn: Connection) -> None:
            for g in groups:
                values = {k: v for k, v in asdict(g).items() if k != "name"}
                try:
                    users.set_group(conn, g.name, **values)
                except NotFound:
                    users.add_group(conn, g.name, **values)
        in_transaction(self.engine, work)

    # -- estimate and reserve ----------------------------------------------------------
    def _price(self, conn: Connection, user_id: uuid.UUID, printer: str,
               counts: JobCounts) -> tuple[int, int]:
        groups = users.user_groups(conn, user_id)
        model = self.pricing.model_for(printer)
        mult = group_multiplier(groups, self.pricing.multipliers)
        return price(counts, model, mult), fee_part(counts, model, mult)

    def estimate(self, username: str, printer: str, counts: JobCounts) -> Estimate:
        """The price for this user on this printer; writes nothing (unknown: no group)."""
        def work(conn: Connection) -> int:
            row = users.find_user(conn, username)
            if row is None:
                return self.pricing.price(printer, (self.settings.new_user_group,), counts)
            return self._price(conn, row._mapping["id"], printer, counts)[0]
        amount = in_transaction(self.engine, work)
        return Estimate(amount, self.settings.currency, self.money(amount))

    def reserve(self, job: JobId, *, username: str, printer: str, counts: JobCounts,
                account_code: str | None = None, pin: str | None = None) -> Charge:
        """Debit the estimate at intake; idempotent on ``job_uuid``.

        Raises CreditRefused (restricted account cannot pay), AccessDenied (shared
        account not granted, wrong PIN), NotFound (unknown user or account).
        """
        job_uuid = job_id(job)

        def work(conn: Connection) -> Charge:
            existing = self._charge_row(conn, job_uuid, lock=False)
            if existing is not None:
                return self._charge(conn, existing, replayed=True)
            user = self._user(conn, username)._mapping
            user_id = user["id"]
            if account_code:
                account = users.shared_account(conn, account_code)
                users.check_access(conn, user_id, account, pin)
            else:
                account = users.personal_account(conn, user_id)
            account_id = account._mapping["id"]
            amount, fee = self._price(conn, user_id, printer, counts)
            p = post(conn, account_id, -amount, kind=Kind.CHARGE, key=f"charge:{job_uuid}",
                     reason=f"print job on {printer}: {counts.impressions} impressions",
                     actor=user["username"], job_uuid=job_uuid, enforce_credit=True,
                     exponent=self.settings.exponent)
            now = utcnow()
            conn.execute(insert(CHARGES).values(
                job_uuid=job_uuid, account_id=account_id, user_id=user_id, printer=printer,
                state=str(ChargeState.RESERVED), estimate=amount, fee=fee,
                impressions=counts.impressions, charged=amount, created_at=now,
                updated_at=now))
            return Charge(job_uuid, account_id, user_id, printer, ChargeState.RESERVED, amount,
                          amount, 0, p.balance_after, account._mapping["currency"])
        return in_transaction(self.engine, work)

    charge = reserve  # the contract's wording: charge at intake == reserve

    # -- settle and refunds ------------------------------------------------------------
    def final_price(self, estimate: int, fee: int, ours: int, reported: int | None) -> int:
        """The price of a printed job under the trust setting (integer, half-up)."""
        if reported is None or reported == ours or ours == 0 or self.settings.trust == Trust.OURS:
            return estimate
        count = reported if self.settings.trust == Trust.PRINTER else min(reported, ours)
        return fee + round_half_up(Fraction((estimate - fee) * count, ours))

    def settle(self, job: JobId, outcome: Outcome = Outcome.COMPLETED,
               impressions: int | None = None) -> Charge:
        """Record the job's outcome once. ``impressions``: the printer's
        ``job-impressions-completed`` (RFC 8011 §5.3.18), ``0`` if nothing was
        printed (never reached the printer), ``None`` if unknown."""
        if impressions is not None and impressions < 0:
            raise InvalidOperation("impressions must not be negative")
        job_uuid = job_id(job)

        def work(conn: Connection) -> Charge:
            row = self._charge_row(conn, job_uuid, lock=True)
            if row is None:
                raise NotFound(f"no charge for job {job_uuid}")
            c = row._mapping
            if c["state"] != ChargeState.RESERVED:
                return self._charge(conn, row, replayed=True)
            p: Posting | None = None
            if outcome != Outcome.COMPLETED and impressions == 0:
                if c["charged"]:
                    p = self._post(conn, c, c["charged"], Kind.REFUND,
                                   f"refund:{job_uuid}:auto",
                                   f"job {outcome} before printing: automatic refund", "system")
                return self._update(conn, row, ChargeState.REFUNDED, 0, impressions, p)
            final = self.final_price(c["estimate"], c["fee"], c["impressions"], impressions)
            if impressions is not None and impressions != c["impressions"]:
                log.warning("job %s: printer reported %d impressions, we counted %d "
                            "(trust=%s, charged %s)", job_uuid, impressions, c["impressions"],
                            self.settings.trust, self.money(final))
            if final != c["charged"]:
                p = self._post(conn, c, c["charged"] - final, Kind.SETTLE, f"settle:{job_uuid}",
                               f"job {outcome}: final price {self.money(final)}", "system")
            return self._update(conn, row, ChargeState.SETTLED, final, impressions, p)
        return in_transaction(self.engine, work)

    def refund(self, job: JobId, amount: int | None = None, *, reason: str,
               actor: str, request_key: str | None = None) -> Charge:
        """Admin refund of a settled job: ``amount`` (default: all that is left).

        ``request_key`` makes a retried admin request idempotent; without it each
        call is a new refund."""
        if not reason.strip():
            raise InvalidOperation("a refund needs a reason")
        job_uuid = job_id(job)

        def work(conn: Connection) -> Charge:
            row = self._charge_row(conn, job_uuid, lock=True)
            if row is None:
                raise NotFound(f"no charge for job {job_uuid}")
            c = row._mapping
            key = f"refund:{job_uuid}:admin:{request_key or c['refunds'] + 1}"
            if request_key and find(conn, key) is not None:
                return self._charge(conn, row, replayed=True)
            if c["state"] != ChargeState.SETTLED:
                raise InvalidOperation(f"job {job_uuid} is {c['state']}: only printed jobs "
                                       "are refunded by an admin")
            value = c["charged"] if amount is None else amount
            if not 0 < value <= c["charged"]:
                raise InvalidOperation(f"refund must be between 0.01 and "
                                       f"{self.money(c['charged'])}")
            p = self._post(conn, c, value, Kind.REFUND, key, reason, actor)
            conn.execute(update(CHARGES).where(CHARGES.c.job_uuid == job_uuid).values(
                charged=c["charged"] - value, refunded=c["refunded"] + value,
                refunds=c["refunds"] + 1, updated_at=utcnow()))
            return self._charge(conn, self._charge_row(conn, job_uuid, lock=False) or row,
                                balance=p.balance_after)
        return in_transaction(self.engine, work)

    def reserved_charges(self, limit: int = 1000) -> list[tuple[uuid.UUID, dt.datetime]]:
        """``(job_uuid, reserved at)`` of charges still reserved, oldest first (the
        settlement sweep); read in a snapshot."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            rows = conn.execute(select(CHARGES.c.job_uuid, CHARGES.c.created_at)
                                .where(CHARGES.c.state == str(ChargeState.RESERVED))
                                .order_by(CHARGES.c.created_at).limit(limit))
            return [(r[0], r[1]) for r in rows]

    def get(self, job: JobId) -> Charge | None:
        job_uuid = job_id(job)

        def work(conn: Connection) -> Charge | None:
            row = self._charge_row(conn, job_uuid, lock=False)
            return None if row is None else self._charge(conn, row)
        return in_transaction(self.engine, work)

    # -- helpers -----------------------------------------------------------------------
    def _post(self, conn: Connection, c: RowMapping, amount: int, kind: Kind, key: str,
              reason: str, actor: str) -> Posting:
        return post(conn, c["account_id"], amount, kind=kind, key=key, reason=reason,
                    actor=actor, job_uuid=c["job_uuid"], exponent=self.settings.exponent)

    def _update(self, conn: Connection, row: Row[tuple[object, ...]], state: ChargeState,
                charged: int, impressions: int | None, p: Posting | None) -> Charge:
        c = row._mapping
        conn.execute(update(CHARGES).where(CHARGES.c.job_uuid == c["job_uuid"]).values(
            state=str(state), charged=charged, reported_impressions=impressions,
            updated_at=utcnow()))
        charge = self._charge(conn, row)
        return replace(charge, state=state, charged=charged,
                       balance=p.balance_after if p else charge.balance)

    def _charge_row(self, conn: Connection, job_uuid: uuid.UUID,
                    lock: bool) -> Row[tuple[object, ...]] | None:
        stmt = select(CHARGES).where(CHARGES.c.job_uuid == job_uuid)
        if lock and conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        return conn.execute(stmt).first()

    def _charge(self, conn: Connection, row: Row[tuple[object, ...]], replayed: bool = False,
                balance: int | None = None) -> Charge:
        c = row._mapping
        acct = conn.execute(select(ACCOUNTS.c.balance, ACCOUNTS.c.currency)
                            .where(ACCOUNTS.c.id == c["account_id"])).one()
        return Charge(c["job_uuid"], c["account_id"], c["user_id"], c["printer"],
                      ChargeState(c["state"]), c["estimate"], c["charged"], c["refunded"],
                      acct[0] if balance is None else balance, acct[1], replayed)
