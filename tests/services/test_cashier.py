"""The web cashier's service (services/cashier.py) on SQLite and PostgreSQL: only users
whose web-cashier role resolves granted; finding by id, name, card and ID number; exact
amounts (letters, signs, zero, too many decimals, fullwidth digits refused, nothing
written); one deposit per form token and cashier; the receipt only the cashier's own;
balance == opening + ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.accounting import ledger, roles_store, sync_apply, users
from ippproxy.accounting.roles import Role, RoleState
from ippproxy.accounting.sync_plan import Change, Field, SyncPlan
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.cashier import Cashier, new_token
from ippproxy.services.errors import Forbidden, Invalid, NotFound


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, e: AuditEntry) -> None:
        self.entries.append(e)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        users.add_group(conn, "front-desk")
        for name, full, groups in (("cass", "Cass Cashier", ("front-desk",)),
                                   ("kim", "Kim Kassa", ("front-desk",)),
                                   ("dora", "Dora Depositor", ()), ("ed", "Ed Else", ())):
            users.add_user(conn, name, defaults=users.UserDefaults("EUR", 100, True, 0),
                           groups=groups, full_name=full)
        roles_store.set_group_role(conn, "front-desk", Role.WEB_CASHIER, RoleState.ENABLED)
        users.set_user_property(conn, "dora", "card-number", "04A1B2C3")
        sync_apply.apply(conn, SyncPlan(changes=(
            Change("dora", {Field.ID_NUMBER: (None, "778899")}),)),
            defaults=users.UserDefaults(), delete_missing=False, actor="test")
    try:
        yield eng
    finally:
        eng.dispose()


def _balance(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        uid = users.get_user(conn, name)._mapping["id"]
        return int(users.personal_account(conn, uid)._mapping["balance"])


def test_only_cashiers_find_and_deposit(engine: Engine) -> None:
    audit = Recorded()
    svc = Cashier(engine, audit)
    cass, dora = Actor("cass", Via.SESSION), Actor("dora", Via.SESSION)
    master = Actor.system("admin", Via.SESSION)
    assert svc.may_use(cass) and not svc.may_use(dora) and not svc.may_use(master)
    with pytest.raises(Forbidden):
        svc.find(dora, "dora")
    for query in ("DORA", "Deposit", "04a1b2c3", "778899"):
        assert [m["username"] for m in svc.find(cass, query)] == ["dora"], query
    assert svc.find(cass, "nobody") == []
    assert [m["username"] for m in svc.find(cass, "kim")] == ["kim"]

    token = new_token()
    for bad in ("ten", "-5", "0", "1.234", "１０", "1e3", "", " ", "99999999999999999"):
        with pytest.raises(Invalid) as e:
            svc.deposit(cass, "dora", bad, "", token)
        assert e.value.field == "amount", bad
    assert _balance(engine, "dora") == 100
    with pytest.raises(Invalid):
        svc.deposit(cass, "dora", "5", "line\nbreak", token)
    with pytest.raises(Invalid):
        svc.deposit(cass, "dora", "5", "", "short")
    with pytest.raises(NotFound):
        svc.deposit(cass, "nobody", "5", "", token)

    r = svc.deposit(cass, "Dora", "12.5", "coins", token)
    assert (r.amount, r.balance_after, r.cashier, r.username) == (
        "12.50 EUR", "13.50 EUR", "cass", "dora")
    again = svc.deposit(cass, "dora", "12.5", "coins", token)        # sent twice
    assert again.number == r.number and _balance(engine, "dora") == 1350
    other = svc.deposit(Actor("kim", Via.SESSION), "dora", "1", "", token)  # kim's own key
    assert other.number != r.number and _balance(engine, "dora") == 1450
    assert svc.receipt(cass, token).number == r.number
    with pytest.raises(NotFound):
        svc.receipt(cass, new_token())
    with pytest.raises(Forbidden):
        svc.receipt(dora, token)
    assert [(e.actor, e.action, e.after["amount"]) for e in audit.entries if e.after] == [
        ("cass", "account.deposit", 1250), ("kim", "account.deposit", 100)]
    with engine.connect() as conn:
        uid = users.get_user(conn, "dora")._mapping["id"]
        acct = users.personal_account(conn, uid)._mapping["id"]
        rows = ledger.entries(conn, account_id=acct)
    assert sum(x.amount for x in rows) == _balance(engine, "dora")
    assert {x.actor for x in rows if x.kind == "adjust"} == {"cass", "kim"}
