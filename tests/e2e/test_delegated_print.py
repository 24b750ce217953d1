"""Delegated print end to end (issue 18): the real ``ippproxy serve``, jobs by real IPP,
roles set over the REST API. ann (group students: print-delegate) is offered boris's
account (group staff: print-delegator) in the user side's account list and is charged to
it, by answering a held job's account question and by ``job-account-id`` on Print-Job;
bob (staff: a delegator, no delegate) cannot print on boris's behalf: refused, nothing
charged (the job held account-authorization-failed, saying why)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.server import IppProxy
from support.webapi import Client, first_password, login, remember_certificate

from ippproxy.ipp import Attribute, Status, Tag

from .ipp_client import status_message
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf


class Side:
    def __init__(self, env: Env, admin: Client, ann: Client, bob: Client) -> None:
        self.env, self.admin, self.ann, self.bob = env, admin, ann, bob

    def balance(self, user: str) -> int:
        return int(self.admin.get(f"/api/v1/users/{user}").json()["balance"])

    def held_job(self, user: str) -> dict[str, Any]:
        reply = self.env.print_job("billed", pdf([False], "delegated"), user=user)
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.env.job("billed", _job_id(reply))
        assert attrs["job-state-reasons"] == "account-info-needed"
        return attrs

    def answer(self, who: Client, attrs: dict[str, Any], account: str | None
               ) -> tuple[int, dict[str, Any]]:
        uuid = str(attrs["job-uuid"]).removeprefix("urn:uuid:")
        r = who.post(f"/api/v1/me/jobs/{uuid}/account", json={"account": account})
        return r.status_code, r.json()


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    proxy = IppProxy(tmp_path_factory.mktemp("delegated"), queues=[
        {"name": "colour", "cost_model": "colour"},
        {"name": "billed", "cost_model": "colour", "account_required": True}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        for name, group in (("ann", "students"), ("boris", "staff"), ("bob", "staff")):
            env.cmd("add-internal-user", name, "--password-file", "-", "--group", group,
                    "--balance", "10.00", stdin=f"{name}-pw\n")
        admin = login(proxy.https, "admin", first_password(proxy))
        for group, role in (("students", "print-delegate"), ("staff", "print-delegator")):
            r = admin.request("PUT", f"/api/v1/groups/{group}/roles",
                              json={"roles": {role: "enabled"}})
            assert r.status_code == 200, r.text
        yield Side(env, admin, login(proxy.https, "ann", "ann-pw"),
                   login(proxy.https, "bob", "bob-pw"))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_a_delegate_answers_with_a_delegators_account(side: Side) -> None:
    offered = side.ann.get("/api/v1/me/accounts").json()["items"]
    assert [(a["code"], a["balance"]) for a in offered] == [
        (None, 1000), ("delegator:bob", 1000), ("delegator:boris", 1000)]
    assert [a["code"] for a in side.bob.get("/api/v1/me/accounts").json()["items"]] == [None]
    attrs = side.held_job("ann")
    status, body = side.answer(side.ann, attrs, "delegator:boris")
    assert status == 200, body
    done = side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9
    assert (side.balance("boris"), side.balance("ann")) == (1000 - 15, 1000)

    theirs = side.held_job("bob")                       # bob is no delegate
    status, body = side.answer(side.bob, theirs, "delegator:boris")
    assert status == 409 and "on behalf" in body["detail"], body
    assert (side.balance("boris"), side.balance("bob")) == (1000 - 15, 1000)


def test_job_account_id_on_print_job(side: Side) -> None:
    account = Attribute.single("job-account-id", Tag.NAME, "delegator:boris")
    reply = side.env.print_job("colour", pdf([False], "ipp"), user="ann", job_attrs=[account])
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    done = side.env.wait_job("colour", _job_id(reply), "ippproxy-cost-charged")
    assert done["job-state"] == 9
    assert side.balance("boris") == 1000 - 30
    refused = side.env.print_job("colour", pdf([False], "ipp"), user="bob",
                                 job_attrs=[account])
    assert refused.code == Status.SUCCESSFUL_OK, status_message(refused)
    held = side.env.job("colour", _job_id(refused))     # held, its payer refused
    assert (held["job-state"], held["job-state-reasons"]) == (4, "account-authorization-failed")
    assert "on behalf of others" in held["job-state-message"]
    assert side.balance("boris") == 1000 - 30
