"""Property-based: random jobs, cancels, printer failures, duplicate events, restarts.

Invariants after every step: every balance == opening + ledger; each printed job
is charged exactly once at the cost model's price; each job that never printed
(refused, cancelled or aborted before printing) is charged nothing.
"""

from __future__ import annotations

import uuid
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select
from support.soak import examples

from ippproxy.accounting import ledger, users
from ippproxy.accounting.charges import Outcome
from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.errors import CreditRefused
from ippproxy.accounting.models import ACCOUNTS, LEDGER
from ippproxy.accounting.service import AccountingService
from ippproxy.db import make_engine

# The same prices, for the test's own arithmetic: (mono, colour, two-sided discount, fee).
PRICES = {"colour": (Fraction(7), Fraction(45), Fraction(1, 3), Fraction(3, 2)),
          "mono": (Fraction(5, 2), Fraction(5, 2), Fraction(0), Fraction(0))}


def expected_price(printer: str, half: bool, mono: int, colour: int, copies: int,
                   duplex: bool) -> int:
    """What the job must cost, computed here (not with ``Pricing.price``): each copy prints
    the mono pages, then the colour pages (``JobCounts.simple``), two to a sheet when
    duplex; a page on a sheet with both sides printed is discounted; the fee once per job
    that prints; the group's half price; one rounding of the total, half up."""
    mono_price, colour_price, discount, fee = PRICES[printer]
    pages = [mono_price] * mono + [colour_price] * colour
    per_copy = Fraction(0)
    step = 2 if duplex else 1
    for i in range(0, len(pages), step):
        sheet = pages[i:i + step]
        per_copy += sum((p * (1 - discount) if len(sheet) == 2 else p for p in sheet),
                        Fraction(0))
    total = (per_copy * copies + (fee if pages else 0)) * (Fraction(1, 2) if half else 1)
    return int(total + Fraction(1, 2))  # floor(x + 1/2): half up, for x >= 0


PRICING = Pricing(
    models={"colour": CostModel(default=MediaPrice(Fraction(7), Fraction(45)),
                                duplex_discount=Fraction(1, 3), job_fee=Fraction(3, 2))},
    default=CostModel(default=MediaPrice(Fraction(5, 2), Fraction(5, 2))),
)


class Charging(RuleBasedStateMachine):
    open_jobs = Bundle("open_jobs")
    finished = Bundle("finished")

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.tag = uuid.uuid4().hex[:8]
        self.pricing = Pricing(models=PRICING.models, default=PRICING.default,
                               multipliers={f"half-{self.tag}": Fraction(1, 2)})
        self.engine = make_engine(url)
        self.svc = AccountingService(self.engine, self.pricing)
        self.expected: dict[uuid.UUID, int] = {}  # job -> what it must be charged now
        self.impressions: dict[uuid.UUID, int] = {}
        self.accounts: list[uuid.UUID] = []
        self.groups: list[tuple[str, ...]] = []

    @initialize(balances=st.lists(st.integers(0, 400), min_size=2, max_size=2),
                half=st.booleans())
    def setup(self, balances: list[int], half: bool) -> None:
        self.users = [f"u{i}-{self.tag}" for i in range(2)]
        self.code = f"acct-{self.tag}"
        self.groups = [(), (f"half-{self.tag}",) if half else ()]
        with self.engine.begin() as conn:
            users.add_group(conn, f"half-{self.tag}")
            for name, bal, groups in zip(self.users, balances, self.groups, strict=True):
                uid = users.add_user(conn, name, defaults=users.UserDefaults("EUR", bal),
                                     groups=groups)
                self.accounts.append(users.personal_account(conn, uid)._mapping["id"])
            users.add_shared_account(conn, "shared", self.code, currency="EUR",
                                     restricted=True, balance=300)
            users.grant_account(conn, self.code, user=self.users[1])
            self.accounts.append(users.shared_account(conn, self.code)._mapping["id"])

    @rule(target=open_jobs, who=st.integers(0, 1), mono=st.integers(0, 6),
          colour=st.integers(0, 3), copies=st.integers(1, 3), duplex=st.booleans(),
          shared=st.booleans(), printer=st.sampled_from(["colour", "mono"]))
    def submit(self, who: int, mono: int, colour: int, copies: int, duplex: bool,
               shared: bool, printer: str) -> uuid.UUID:
        job = uuid.uuid4()
        counts = JobCounts.simple(mono, colour, copies=copies, duplex=duplex)
        price = expected_price(printer, bool(self.groups[who]), mono, colour, copies, duplex)
        self.expected[job] = 0
        self.impressions[job] = counts.impressions
        try:
            c = self.svc.reserve(job, username=self.users[who], printer=printer, counts=counts,
                                 account_code=self.code if shared and who == 1 else None)
        except CreditRefused:
            return job
        assert c.charged == price
        self.expected[job] = price
        # A retried submission (client retry, second node) never charges twice.
        assert self.svc.reserve(job, username=self.users[who], printer=printer,
                                counts=counts).replayed
        return job

    @rule(target=finished, job=consumes(open_jobs), report=st.booleans())
    def complete(self, job: uuid.UUID, report: bool) -> uuid.UUID:
        if self.svc.get(job) is not None:
            self.svc.settle(job, Outcome.COMPLETED, self.impressions[job] if report else None)
        return job

    @rule(target=finished, job=consumes(open_jobs),
          outcome=st.sampled_from([Outcome.CANCELED, Outcome.ABORTED]))
    def fail_before_printing(self, job: uuid.UUID, outcome: Outcome) -> uuid.UUID:
        if self.svc.get(job) is not None:
            self.svc.settle(job, outcome, impressions=0)
            self.expected[job] = 0
        return job

    @rule(target=finished, job=consumes(open_jobs), printed=st.integers(1, 5))
    def abort_mid_print(self, job: uuid.UUID, printed: int) -> uuid.UUID:
        if self.svc.get(job) is not None:
            self.svc.settle(job, Outcome.ABORTED, impressions=printed)  # keeps the charge
        return job

    @rule(job=finished, outcome=st.sampled_from(list(Outcome)),
          impressions=st.sampled_from([None, 0, 3]))
    def duplicate_event(self, job: uuid.UUID, outcome: Outcome, impressions: int | None) -> None:
        if self.svc.get(job) is not None:
            assert self.svc.settle(job, outcome, impressions).replayed

    @rule()
    def restart(self) -> None:
        self.engine.dispose()
        self.engine = make_engine(self.url)
        self.svc = AccountingService(self.engine, self.pricing)

    @invariant()
    def money_adds_up(self) -> None:
        if not self.accounts:
            return
        with self.engine.begin() as conn:
            assert [b for b in ledger.audit(conn) if b[0] in self.accounts] == []
            by_job = dict(conn.execute(
                select(LEDGER.c.job_uuid, func.sum(LEDGER.c.amount))
                .where(LEDGER.c.account_id.in_(self.accounts), LEDGER.c.job_uuid.is_not(None))
                .group_by(LEDGER.c.job_uuid)).all())
            for job, want in self.expected.items():
                assert -int(by_job.get(job, 0)) == want, job
            restricted = conn.execute(select(ACCOUNTS.c.balance).where(
                ACCOUNTS.c.id.in_(self.accounts))).scalars().all()
            assert min(restricted) >= 0  # all restricted, no credit limit: never overdrawn

    def teardown(self) -> None:
        self.engine.dispose()


@pytest.mark.hypothesis  # (not @given: hypothesis does not mark it) `make soak` runs it
def test_charging_state_machine(engine: Engine, db_url: str) -> None:
    runs = examples(12 if db_url.startswith("postgresql") else 20)
    run_state_machine_as_test(
        lambda: Charging(db_url),
        settings=settings(max_examples=runs, stateful_step_count=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]))
