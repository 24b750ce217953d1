"""A job moved to another queue is priced there (issue 13): the reservation follows the
new queue's cost model by one ledger row with its reason, both ways and to a free queue;
a restricted account that cannot pay the new price keeps the job where it was (409), and
the job's own cost estimate (Get-Job-Attributes) follows the move."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e.ipp_client import build, expect_ok, print_job, send
from support.server import IppProxy, tracebacks
from support.webapi import Client, first_password, login, register

from ippproxy.ipp import Attribute, Operation, Tag

from .test_api_e2e import one_page_pdf

PRICES = """
[accounting]
enabled = true
unknown_users = "create"
initial_balance = "1.00"
restricted = true
[[cost_model]]
name = "cheap"
mono = "0.10"
[[cost_model]]
name = "mid"
mono = "0.50"
[[cost_model]]
name = "dear"
mono = "1.50"
"""


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    p = IppProxy(tmp_path_factory.mktemp("move"), queues=[
        {"name": "office", "cost_model": "cheap"}, {"name": "copyshop", "cost_model": "mid"},
        {"name": "plotter", "cost_model": "dear"}, {"name": "free"}])
    p.config_path.write_text(p.config_path.read_text() + PRICES)
    with p:
        register(p)
        yield p
        assert tracebacks(p.log()) == []


def balance_and_last_row(admin: Client, owner: str) -> tuple[int, dict[str, object]]:
    accounts = admin.get("/api/v1/accounts", params={"kind": "personal"}).json()["items"]
    account = next(a for a in accounts if a["owner"] == owner)
    rows = admin.get(f"/api/v1/accounts/{account['id']}/transactions",
                     params={"order": "desc", "limit": 1}).json()["items"]
    return int(account["balance"]), rows[0]


def cost_estimate(proxy: IppProxy, queue: str, job_id: int) -> str:
    msg = build(Operation.GET_JOB_ATTRIBUTES, proxy.uri(queue), user="alice", op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, job_id),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["all"])])
    reply = expect_ok(send(proxy.port, msg, path=proxy.path(queue)))
    found = reply.get(Tag.JOB_ATTRIBUTES, "ippproxy-cost-estimate")
    assert found is not None, reply
    return str(found.value)


def test_a_moved_job_is_priced_on_its_new_queue(proxy: IppProxy) -> None:
    admin = login(proxy.https, "admin", first_password(proxy))
    held = [Attribute.single("job-hold-until", Tag.KEYWORD, "indefinite")]
    print_job(proxy.port, proxy.uri("office"), one_page_pdf(), user="alice",
              path=proxy.path("office"), job_attrs=held)
    [job] = admin.get("/api/v1/jobs", params={"user": "alice"}).json()["items"]
    assert balance_and_last_row(admin, "alice")[0] == 90          # 1.00 - 0.10

    def move(to: str) -> dict[str, object]:
        r = admin.post(f"/api/v1/jobs/{job['uuid']}/move", json={"printer": to})
        assert r.status_code == 200, r.text
        moved: dict[str, object] = r.json()
        return moved

    moved = move("copyshop")
    balance, row = balance_and_last_row(admin, "alice")
    assert balance == 50 and row["amount"] == -40 and row["kind"] == "charge"
    assert "office" in str(row["reason"]) and "copyshop" in str(row["reason"])
    assert "0.50" in cost_estimate(proxy, "copyshop", int(str(moved["job_id"])))

    # more than the restricted account can pay: refused, nothing changed
    refused = admin.post(f"/api/v1/jobs/{job['uuid']}/move", json={"printer": "plotter"})
    assert refused.status_code == 409, refused.text
    assert "plotter" in refused.json()["detail"]
    assert balance_and_last_row(admin, "alice")[0] == 50
    assert admin.get(f"/api/v1/jobs/{job['uuid']}").json()["printer"] == "copyshop"

    move("free")
    balance, row = balance_and_last_row(admin, "alice")
    assert balance == 100 and row["amount"] == 50 and row["kind"] == "refund"
    move("office")
    assert balance_and_last_row(admin, "alice")[0] == 90
    entries = [line for line in proxy.log().splitlines() if '"job.move"' in line]
    assert len(entries) == 3 and '"price": 10' in entries[0] and '"price": 50' in entries[0]
