"""Property-based (issue 18): random sequences of edits, balance settings, erasures,
deletes and creations never break ``balance == opening balance + sum(ledger)`` for any
account, never lose a ledger row, and a refused change changes nothing."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, func, select
from support.soak import examples

from ippproxy.accounting.models import ACCOUNTS, LEDGER
from ippproxy.config import UsersConfig
from ippproxy.db import make_engine
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.errors import ServiceError
from ippproxy.services.user_edit import UserChanges, UserEdit
from ippproxy.services.user_life import NewUser, UserLife

ADMIN = Actor("admin", Via.TOKEN, superuser=True)
CONFIG = UsersConfig(password_length_min=8)
SLOTS = 4


class Users(RuleBasedStateMachine):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.tag = uuid.uuid4().hex[:8]
        self.engine = make_engine(url)
        self.edit = UserEdit(self.engine, LogAudit(), lambda: CONFIG)
        self.life = UserLife(self.engine, LogAudit(), lambda: CONFIG, lambda: "EUR")
        self.names: dict[int, str] = {}  # slot -> live user name
        self.ledger_rows = self._rows()

    def _rows(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(LEDGER)).scalar() or 0)

    def _name(self, slot: int) -> str | None:
        return self.names.get(slot)

    @rule(slot=st.integers(0, SLOTS - 1))
    def create(self, slot: int) -> None:
        if slot in self.names:
            return
        self.names[slot] = self.life.create_internal(
            ADMIN, NewUser(f"u{slot}-{self.tag}", "password!"))

    @rule(slot=st.integers(0, SLOTS - 1), balance=st.integers(-10**6, 10**6),
          key=st.sampled_from(["a", "b", None]))
    def set_balance(self, slot: int, balance: int, key: str | None) -> None:
        name = self._name(slot)
        if name is None:
            return
        k = f"{self.tag}-{slot}-{key}" if key else None
        try:
            self.edit.set_balance(ADMIN, name, balance, "property test", key=k)
        except ServiceError:
            pass  # a reused key with another amount: refused, nothing written

    @rule(slot=st.integers(0, SLOTS - 1),
          change=st.builds(UserChanges,
                           emails=st.sampled_from([None, "", "a@example.org",
                                                   "b@example.org c@example.org", "bad"]),
                           card_number=st.sampled_from([None, "", "0A0B", "ZZ", "2826"]),
                           pin=st.sampled_from([None, "", "1234", "12ab"]),
                           credit_source=st.sampled_from([None, "none", "group",
                                                          "individual"]),
                           credit_limit=st.sampled_from([None, 0, 500, -1]),
                           disabled=st.sampled_from([None, True, False])))
    def update(self, slot: int, change: UserChanges) -> None:
        name = self._name(slot)
        if name is None:
            return
        try:
            self.edit.update(ADMIN, name, change)
        except ServiceError:
            pass

    @rule(slot=st.integers(0, SLOTS - 1))
    def erase(self, slot: int) -> None:
        name = self._name(slot)
        if name is not None:
            self.names[slot] = self.life.erase(ADMIN, name)["username"]

    @rule(slot=st.integers(0, SLOTS - 1))
    def delete(self, slot: int) -> None:
        name = self.names.pop(slot, None)
        if name is not None:
            self.life.delete(ADMIN, name)

    @invariant()
    def balances_equal_their_ledgers(self) -> None:
        with self.engine.connect() as conn:
            sums = dict(conn.execute(select(LEDGER.c.account_id, func.sum(LEDGER.c.amount))
                                     .group_by(LEDGER.c.account_id)).all())
            for aid, opening, balance in conn.execute(select(
                    ACCOUNTS.c.id, ACCOUNTS.c.opening_balance, ACCOUNTS.c.balance)):
                assert balance == opening + (sums.get(aid) or 0)
        rows = self._rows()
        assert rows >= self.ledger_rows  # no ledger row is ever lost
        self.ledger_rows = rows

    def teardown(self) -> None:
        self.engine.dispose()


@pytest.mark.hypothesis
def test_random_edits_keep_every_balance_equal_to_its_ledger(engine: Engine,
                                                             db_url: str) -> None:
    runs = examples(5 if db_url.startswith("postgresql") else 8)
    run_state_machine_as_test(
        lambda: Users(db_url),
        settings=settings(max_examples=runs, stateful_step_count=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]))
