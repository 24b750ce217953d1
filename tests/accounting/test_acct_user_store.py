"""What other packages ask the user store through AccountingService (never its tables):
live groups, password checks, configured groups, reserved charges. SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine

from ippproxy.accounting import (
    AccountingService,
    AccountingSettings,
    GroupDefaults,
    JobCounts,
    Outcome,
    users,
)
from ippproxy.accounting.cost import CostModel, MediaPrice, Pricing
from ippproxy.accounting.txn import in_transaction


def _service(engine: Engine) -> AccountingService:
    return AccountingService(engine, Pricing(default=CostModel(default=MediaPrice(10, 50))),
                             AccountingSettings(new_user_restricted=False))


def test_define_groups_creates_then_updates(engine: Engine) -> None:
    svc = _service(engine)
    svc.define_groups([GroupDefaults("Staff", 500, False, 100), GroupDefaults("students")])
    svc.define_groups([GroupDefaults("staff", 700, True, 0)])           # existing: updated
    got = in_transaction(engine, lambda c: (users.group_defaults(c, "staff", "EUR"),
                                            users.group_defaults(c, "students", "EUR")))
    assert got == (users.UserDefaults("EUR", 700, True, 0),
                   users.UserDefaults("EUR", 0, True, 0))


def test_live_groups_and_verify_password(engine: Engine) -> None:
    svc = _service(engine)
    svc.define_groups([GroupDefaults("staff")])
    defaults = users.UserDefaults("EUR", 0, True, 0)
    in_transaction(engine, lambda c: users.add_user(
        c, "Alice", defaults=defaults, groups=("staff",), internal=True, password="pw"))
    in_transaction(engine, lambda c: users.add_user(c, "bob", defaults=defaults))
    in_transaction(engine, lambda c: users.set_user_property(c, "bob", "disabled", "true"))
    assert svc.live_groups("ALICE") == frozenset({"staff"})
    assert svc.live_groups("bob") is None                                 # disabled
    assert svc.live_groups("nobody") is None
    assert svc.verify_password("ALICE", "pw") == "alice"                  # canonical name
    assert svc.verify_password("alice", "wrong") is None
    assert svc.verify_password("bob", "") is None
    assert svc.verify_password("\x00", "pw") is None                      # not a name


def test_reserved_charges_oldest_first_and_only_reserved(engine: Engine) -> None:
    svc = _service(engine)
    jobs = [uuid.uuid4() for _ in range(3)]
    for j in jobs:
        svc.reserve(j, username="carol", printer="p", counts=JobCounts.simple(1))
        time.sleep(0.005)                    # distinct reservation times: a defined order
    svc.settle(jobs[1], Outcome.CANCELED, 0)
    assert [r.job_uuid for r in svc.reserved_charges()] == [jobs[0], jobs[2]]
    assert [r.job_uuid for r in svc.reserved_charges(limit=1)] == [jobs[0]]
    assert all(r.created_at.tzinfo is not None and r.node == ""
               for r in svc.reserved_charges())
    # Page by page: the page after the first one's last.
    first = svc.reserved_charges(limit=1)
    assert [r.job_uuid for r in svc.reserved_charges(limit=1, after=first[-1])] == [jobs[2]]
    assert svc.reserved_charges(limit=1, after=svc.reserved_charges()[-1]) == []
