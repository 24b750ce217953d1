"""``services.users`` on a real database (SQLite and PostgreSQL): paged, filtered and sorted
users and accounts, a balance adjustment as one ledger row (applied once per key), and the
section rights it checks."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import ledger, users
from ippproxy.accounting.directory import Page
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.users import Users

ADMIN = Actor("admin", Via.TOKEN, superuser=True)
READER = Actor("reader", Via.TOKEN, rights=((Section.FINANCE, Access.READ),
                                            (Section.USERS, Access.READ)))


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@pytest.fixture
def populated(engine: Engine) -> Engine:
    def work(conn: Connection) -> None:
        users.add_group(conn, "staff")
        for i, name in enumerate(["zoe", "adam", "mia", "Bert", "carl"]):
            users.add_user(conn, name, defaults=users.UserDefaults(balance=100 * i),
                           groups=("staff",) if i % 2 else ())
        users.set_user_property(conn, "mia", "admin", "true")
    in_transaction(engine, work)
    return engine


def test_users_are_paged_sorted_and_filtered(populated: Engine) -> None:
    svc = Users(populated, Recorded())
    first, total = svc.list_users(READER, Page(limit=2))
    rest, _ = svc.list_users(READER, Page(offset=2, limit=3))
    assert total == 5
    assert [u["username"] for u in first + rest] == ["adam", "bert", "carl", "mia", "zoe"]
    by_balance, _ = svc.list_users(READER, Page(sort="balance", descending=True, limit=2))
    assert [u["balance"] for u in by_balance] == [400, 300]
    staff, n = svc.list_users(READER, Page(), group="STAFF")
    assert n == 2 and {u["username"] for u in staff} == {"adam", "bert"}
    admins, n = svc.list_users(READER, Page(), admin=True)
    assert n == 1 and admins[0]["username"] == "mia"
    found, n = svc.list_users(READER, Page(), search="%")  # a literal, not a wildcard
    assert n == 0 and found == []
    assert svc.get_user(READER, " BERT")["username"] == "bert"
    with pytest.raises(NotFound):
        svc.get_user(READER, "bert2")
    with pytest.raises(Invalid):
        svc.list_users(READER, Page(limit=501))
    with pytest.raises(Invalid):
        svc.list_users(READER, Page(sort="password_hash"))
    with pytest.raises(Forbidden):
        svc.list_users(Actor("nobody", Via.SESSION), Page())


def test_an_adjustment_is_one_ledger_row_once_per_key(populated: Engine) -> None:
    audit = Recorded()
    svc = Users(populated, audit)
    accounts, total = svc.list_accounts(READER, Page(sort="balance"), kind="personal")
    assert total == 5 and [a["balance"] for a in accounts] == [0, 100, 200, 300, 400]
    carl = next(a for a in accounts if a["owner"] == "carl")
    with pytest.raises(Forbidden):
        svc.adjust(READER, carl["id"], 50, "refund of a jam")
    after = svc.adjust(ADMIN, carl["id"], -150, "printed on the wrong paper", key="k1")
    again = svc.adjust(ADMIN, carl["id"], -150, "printed on the wrong paper", key="k1")
    assert after["balance"] == again["balance"] == carl["balance"] - 150
    rows, n = svc.transactions(READER, carl["id"], Page(sort="id", descending=True))
    assert n == 2 and rows[0]["amount"] == -150 and rows[0]["kind"] == "adjust"
    assert rows[0]["reason"] == "printed on the wrong paper" and rows[0]["actor"] == "admin"
    with pytest.raises(Invalid):
        svc.adjust(ADMIN, carl["id"], 0, "nothing")
    with pytest.raises(Invalid):
        svc.adjust(ADMIN, carl["id"], 5, "   ")
    with pytest.raises(NotFound):
        svc.adjust(ADMIN, "not-a-uuid", 5, "x")
    assert [e.action for e in audit.entries] == ["account.adjust"]
    with populated.connect() as conn:
        assert ledger.audit(conn) == []  # every balance is its ledger's sum
