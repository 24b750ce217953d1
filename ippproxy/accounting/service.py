"""The charging lifecycle, keyed by job UUID: ``AccountingService``.

Theory of operation
-------------------
``estimate`` prices a job without writing. ``reserve`` (at intake, after the
policies) debits the job's account by the estimate with ledger key
``charge:<uuid>``; for a restricted account a debit below ``-credit_limit``
is refused with :class:`CreditRefused` (its message says balance and cost:
``client-error-account-limit-reached``). Debiting at intake means a ``kill -9``
between printing and charging cannot lose the charge, and two nodes cannot
overspend: the debit and the credit check happen under the account's row lock.

``settle`` records the outcome once and ``refund`` is the admin's (settlement.py); the
charge rows and their states are charges.py, the settings settings.py. Each method is
one transaction (txn.py); the user who prints is found, or created with the configured
defaults, inside it. Lock order everywhere: job charge, then account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine, Row

from ippproxy.accounting import (
    charges,
    delegation,
    groupsettings,
    payer,
    roles_store,
    settlement,
    users,
)
from ippproxy.accounting.charges import (
    Charge,
    ChargeState,
    JobId,
    Outcome,
    Reservation,
    job_id,
)
from ippproxy.accounting.cost import JobCounts, Pricing, fee_part, group_multiplier, price
from ippproxy.accounting.errors import InvalidOperation, NotFound, NotPermitted
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.ledger import Kind, debit
from ippproxy.accounting.money import format_money
from ippproxy.accounting.payer import find_payer
from ippproxy.accounting.roles import Role
from ippproxy.accounting.settings import DEFAULTS, AccountingSettings, GroupDefaults
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import GroupConfig
from ippproxy.db.engine import reading

T = TypeVar("T")


@dataclass(frozen=True)
class Estimate:
    amount: int
    currency: str
    text: str  # "1.20 EUR"


class AccountingService:
    """Charging with a shared engine; safe to use from several threads and nodes."""

    def __init__(self, engine: Engine, pricing: Pricing,
                 settings: AccountingSettings = DEFAULTS) -> None:
        self.engine = engine
        self.pricing = pricing
        self.settings = settings

    def money(self, minor: int) -> str:
        return format_money(minor, self.settings.currency, self.settings.exponent)

    # -- users ------------------------------------------------------------------------
    def _user(self, conn: Connection, username: str) -> Row[tuple[object, ...]]:
        """The user who prints (created when configured); refused when disabled or when
        the role print-job-creator resolves to denied (roles.py)."""
        row = self._find_or_create(conn, username)
        m = row._mapping
        verdict = roles_store.user_role(conn, m["id"], Role.PRINT_JOB_CREATOR)
        if not verdict.granted:
            raise NotPermitted(f"user {m['username']!r} may not print: "
                               f"{verdict.reason(Role.PRINT_JOB_CREATOR)}")
        return row

    def _find_or_create(self, conn: Connection, username: str) -> Row[tuple[object, ...]]:
        row = users.find_user(conn, username)
        if row is not None:
            if row._mapping["disabled"]:
                raise InvalidOperation(f"the account of user {row._mapping['username']!r} is disabled")
            return row
        if not self.settings.create_unknown_users:
            raise NotFound(f"unknown user {canonical_name(username)!r}")
        s = self.settings
        defaults = self.new_user_defaults()
        groups: tuple[str, ...] = ()
        if s.new_user_group:
            found = users.group_defaults(conn, s.new_user_group, s.currency)
            if found is not None:
                defaults, groups = found, (s.new_user_group,)
        users.add_user(conn, username, defaults=defaults, groups=groups)
        return users.get_user(conn, username)

    def new_user_defaults(self) -> users.UserDefaults:
        """The financial defaults of a new user (configuration [accounting])."""
        s = self.settings
        return users.UserDefaults(s.currency, s.new_user_balance, s.new_user_restricted,
                                  s.new_user_credit_limit)

    def ensure_user(self, username: str) -> uuid.UUID:
        """Look a user up, creating it if configured (issue 5 §2); raises NotFound."""
        row = in_transaction(self.engine, lambda c: self._user(c, username))
        return uuid.UUID(str(row._mapping["id"]))

    def live_groups(self, username: str, reader: Connection | None = None
                    ) -> frozenset[str] | None:
        """The groups of a live, enabled user who may print, read in a snapshot (no write
        lock); None when the user is unknown, disabled or denied print-job-creator.
        Blocking. ``reader``: a connection of the caller's, kept open for such reads and
        used by one thread at a time, its transactions deferred (db.engine.nowait_reader)."""
        if reader is not None:
            with reader.begin():
                return self._live_groups(reader, username)
        with reading(self.engine) as conn:
            return self._live_groups(conn, username)

    @staticmethod
    def _live_groups(conn: Connection, username: str) -> frozenset[str] | None:
        found = payer.live_user(conn, username)
        if found is None:
            return None
        user_id, groups = found
        if not roles_store.user_role(conn, user_id, Role.PRINT_JOB_CREATOR).granted:
            return None  # ensure_user then raises NotPermitted with the reason
        return groups

    def verify_password(self, username: str, password: str) -> str | None:
        """The canonical name when ``password`` is that of a live, enabled user, else None
        (HTTP Basic, RFC 7617). argon2 is slow by design: call it in a thread."""
        try:
            name = canonical_name(username)
        except ValueError:
            return None
        uid = in_transaction(self.engine, lambda c: users.authenticate(c, name, password))
        return None if uid is None else name

    def group_configs(self) -> list[GroupConfig]:
        """Every group's settings as ``[[group]]`` declares them (multiplier, new-user
        defaults), read in a snapshot. Blocking."""
        with reading(self.engine) as conn:
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
        # The groups only matter when one of them changes the price.
        discounted = any(m != 1 for m in self.pricing.multipliers.values())
        groups = users.user_groups(conn, user_id) if discounted else []
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
        return self.run(self.reservation(job, username=username, printer=printer,
                                         counts=counts, account_code=account_code, pin=pin))

    def run(self, unit: Callable[[Connection], T]) -> T:
        """A unit of work of ``reservation`` in the ledger's own transaction (retried as
        txn.py says)."""
        return in_transaction(self.engine, unit)

    def reservation(self, job: JobId, *, username: str, printer: str, counts: JobCounts,
                    account_code: str | None = None, pin: str | None = None
                    ) -> ReserveUnit:
        """``reserve``'s unit of work, for a caller that runs it in a transaction of its
        own choosing (it only reads and writes through the connection it is given)."""
        return ReserveUnit(self, job_id(job), username, printer, counts, account_code, pin)

    @property
    def read_ahead(self) -> Callable[[Connection, Sequence[object]], None] | None:
        """For a caller that runs several units of :meth:`reservation` one after another
        in one transaction: a function that reads first, at once, what each of them
        would read alone (their payers, one statement); None where that saves nothing
        (SQLite's statements cost no round trip)."""
        return read_payers_ahead if self.engine.dialect.name == "postgresql" else None

    def _reserve_shared(self, conn: Connection, job_uuid: uuid.UUID, username: str,
                        printer: str, counts: JobCounts, account_code: str,
                        pin: str | None) -> Charge:
        existing = charges.find(conn, job_uuid, lock=False)
        if existing is not None:
            return charges.load(existing, replayed=True)
        user = self._user(conn, username)._mapping
        delegator = delegation.delegator_of(account_code)
        if delegator is not None:   # delegated print: the roles, then their account
            account = delegation.account_for(conn, user["username"], delegator)
        else:
            account = users.shared_account(conn, account_code)
            users.check_access(conn, user["id"], account, pin)
        a = account._mapping
        return self._debit(conn, job_uuid, user["id"], user["username"], a["id"],
                           a["currency"], printer, counts)

    def _debit(self, conn: Connection, job_uuid: uuid.UUID, user_id: uuid.UUID,
               username: str, account_id: uuid.UUID, currency: str, printer: str,
               counts: JobCounts) -> Charge:
        """The charge of a job that has none yet: its charge row and its ledger row (the
        key is new: no charge row), the account locked by the debit's statement
        (ledger.debit, whose docstring says where the charge row goes, and why)."""
        amount, fee = self._price(conn, user_id, printer, counts)
        row = charges.reserved_row(job_uuid, account_id, user_id, printer, amount, fee,
                                   counts.impressions, self.settings.node)
        p = debit(conn, account_id, -amount, kind=Kind.CHARGE, key=f"charge:{job_uuid}",
                  reason=f"print job on {printer}: {counts.impressions} impressions",
                  actor=username, job_uuid=job_uuid, exponent=self.settings.exponent,
                  beside=row)
        return Charge(job_uuid, account_id, user_id, printer, ChargeState.RESERVED, amount,
                      amount, 0, p.balance_after, currency)

    charge = reserve  # the contract's wording: charge at intake == reserve

    def _reserve_personal(self, conn: Connection, unit: ReserveUnit) -> Charge:
        ahead = unit.take_payer(conn)
        payer = (find_payer(conn, unit.username, unit.job_uuid)
                 if isinstance(ahead, _NotRead) else ahead)
        if payer is None or payer.charged:
            existing = charges.find(conn, unit.job_uuid, lock=False)
            if existing is not None:
                return charges.load(existing, replayed=True)
            self._user(conn, unit.username)  # created now (or NotFound)
            payer = find_payer(conn, unit.username, unit.job_uuid)
            assert payer is not None
        if payer.disabled:
            raise InvalidOperation(f"user {payer.username!r} is disabled")
        return self._debit(conn, unit.job_uuid, payer.user_id, payer.username,
                           payer.account_id, payer.currency, unit.printer, unit.counts)

    # -- settle and refunds (settlement.py) --------------------------------------------
    def final_price(self, estimate: int, fee: int, ours: int, reported: int | None) -> int:
        """The price of a printed job under the trust setting (integer, half-up)."""
        return settlement.final_price(self.settings.trust, estimate, fee, ours, reported)

    def settle(self, job: JobId, outcome: Outcome = Outcome.COMPLETED,
               impressions: int | None = None) -> Charge:
        """Record the job's outcome once. ``impressions``: the printer's
        ``job-impressions-completed`` (RFC 8011 §5.3.18), ``0`` if nothing was
        printed (never reached the printer), ``None`` if unknown."""
        if impressions is not None and impressions < 0:
            raise InvalidOperation("impressions must not be negative")
        job_uuid = job_id(job)
        return in_transaction(self.engine, lambda c: settlement.settle(
            c, self.settings, job_uuid, outcome, impressions))

    def refund(self, job: JobId, amount: int | None = None, *, reason: str,
               actor: str, request_key: str | None = None) -> Charge:
        """Admin refund of a settled job: ``amount`` (default: all that is left).

        ``request_key`` makes a retried admin request idempotent; without it each
        call is a new refund."""
        if not reason.strip():
            raise InvalidOperation("a refund needs a reason")
        job_uuid = job_id(job)
        return in_transaction(self.engine, lambda c: settlement.refund(
            c, self.settings, job_uuid, amount, reason, actor, request_key))

    def release(self, job: JobId, reason: str) -> Charge:
        """Refund the whole reservation of a job that was never stored (an orphan), with
        ``reason``; idempotent. The caller knows that the job does not exist."""
        job_uuid = job_id(job)
        return in_transaction(self.engine, lambda c: settlement.release(
            c, self.settings, job_uuid, reason))

    def reserved_charges(self, limit: int = 1000, after: Reservation | None = None
                         ) -> list[Reservation]:
        """Charges still reserved, oldest first, with the node that reserved them (the
        settlement sweep; ``after`` the last of the previous page); read in a snapshot."""
        with reading(self.engine) as conn:
            return charges.reserved(conn, limit, after)

    def unrecorded_charges(self, limit: int = 1000) -> list[uuid.UUID]:
        """Jobs whose charge is final but whose amount was not yet written back into the
        job (the settlement sweep repairs them); read in a snapshot."""
        with reading(self.engine) as conn:
            return charges.unrecorded(conn, limit)

    def mark_recorded(self, jobs: Iterable[JobId]) -> None:
        """The jobs show their final amount now (one transaction; none: no write)."""
        uuids = [job_id(j) for j in jobs]
        if uuids:
            in_transaction(self.engine, lambda c: charges.mark_recorded(c, uuids))

    def charged(self, jobs: Iterable[JobId]) -> dict[str, int]:
        """Job UUID -> the net amount charged (minor units), for the jobs with a charge;
        read in a snapshot (the admin's job list shows each job's price)."""
        wanted = [job_id(j) for j in jobs]
        with reading(self.engine) as conn:
            return charges.amounts(conn, wanted)

    def get(self, job: JobId) -> Charge | None:
        job_uuid = job_id(job)

        def work(conn: Connection) -> Charge | None:
            row = charges.find(conn, job_uuid, lock=False)
            return None if row is None else charges.load(row)
        return in_transaction(self.engine, work)


class _NotRead:
    """Nothing read ahead for the unit's next call in this transaction."""


_NOT_READ = _NotRead()


@dataclass(eq=False)
class ReserveUnit:
    """A reservation's unit of work (:meth:`AccountingService.reservation`): ``unit(conn)``
    reserves the job's price and returns its :class:`Charge`. What
    :func:`read_payers_ahead` read for it serves its next call only, and only in the
    transaction it was read in: a call run again (a retry, the unit alone after its
    batch failed) reads for itself."""

    svc: AccountingService
    job_uuid: uuid.UUID
    username: str
    printer: str
    counts: JobCounts
    account_code: str | None
    pin: str | None
    # (the transaction it was read in, the payer)
    _ahead: tuple[object, payer.Payer | None] | None = field(default=None, init=False,
                                                            repr=False)

    def __call__(self, conn: Connection) -> Charge:
        if self.account_code:
            return self.svc._reserve_shared(conn, self.job_uuid, self.username, self.printer,
                                            self.counts, self.account_code, self.pin)
        return self.svc._reserve_personal(conn, self)

    def give_payer(self, conn: Connection, found: payer.Payer | None) -> None:
        self._ahead = (conn.get_transaction(), found)

    def take_payer(self, conn: Connection) -> payer.Payer | None | _NotRead:
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] is None or ahead[0] is not conn.get_transaction():
            return _NOT_READ
        return ahead[1]


def read_payers_ahead(conn: Connection, units: Sequence[object]) -> None:
    """The payers of the units of :meth:`AccountingService.reservation` in ``units`` that
    charge a personal account, read in one statement (``payer.find_payers``) and handed to
    each for its next call in this transaction; the others read their own."""
    personal = [u for u in units if isinstance(u, ReserveUnit) and not u.account_code]
    if not personal:
        return
    found = payer.find_payers(conn, [(u.username, u.job_uuid) for u in personal])
    for u, p in zip(personal, found, strict=True):
        u.give_payer(conn, p)
