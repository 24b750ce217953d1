"""The policy messages a user's client is shown live (issue 17 point 3,
services/policy_events.py), end to end: the real ``ippproxy serve`` with the built-in
colour printer, jobs by real IPP, the user's ``/api/v1/me/events`` stream.

Queue "grey" forces grayscale, "duplex" forces two-sided, "small" denies more than one
page, "findme" holds every job (a Find-Me queue of "colour"); an admin corrects alice's
balance over the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.server import IppProxy
from support.webapi import Client, first_password, login, remember_certificate

from ippproxy.ipp import Status

from .ipp_client import status_message
from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

RULES = """
[[rule]]
type = "max-pages"
limit = 1
printers = ["small"]
"""


class Users:
    def __init__(self, env: Env, alice: Client, bob: Client, admin: Client) -> None:
        self.env, self.alice, self.bob, self.admin = env, alice, bob, admin


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Users]:
    proxy = IppProxy(tmp_path_factory.mktemp("policy"), queues=[
        {"name": "colour", "cost_model": "colour"},
        {"name": "grey", "cost_model": "colour", "force_grayscale": True},
        {"name": "duplex", "cost_model": "colour", "force_duplex": True},
        {"name": "small", "cost_model": "colour"},
        {"name": "findme", "findme_printers": ["colour"]}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + RULES)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        for name in ("alice", "bob"):
            env.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                    "--balance", "10.00", stdin=f"{name}-pw\n")
        yield Users(env, login(proxy.https, "alice", "alice-pw"),
                    login(proxy.https, "bob", "bob-pw"),
                    login(proxy.https, "admin", first_password(proxy)))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def policy(stream: Stream, uuid: str | None, where: Any = None) -> dict[str, Any]:
    return stream.next("policy", uuid, timeout=60, where=where)  # type: ignore[arg-type]


def uuid_of(users: Users, queue: str, job_id: int) -> str:
    return str(users.env.job(queue, job_id)["job-uuid"]).removeprefix("urn:uuid:")


def test_converted_duplex_forced_and_held_are_told(users: Users) -> None:
    alice, bob = Stream(users.alice), Stream(users.bob)
    try:
        told = {}
        for queue, doc in (("grey", pdf([True], "grey")), ("duplex", pdf([False, False], "d")),
                           ("findme", pdf([True], "held"))):
            reply = users.env.print_job(queue, doc, user="alice")
            assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
            told[queue] = policy(alice, uuid_of(users, queue, _job_id(reply)))
        assert told["grey"]["actions"] == ["grayscale"]
        assert told["grey"]["message"] == "Printed in grayscale on grey"
        assert told["duplex"]["actions"] == ["duplex"]
        assert "double-sided" in told["duplex"]["message"]
        assert told["findme"]["actions"] == ["held"]
        assert "Find-Me: release it at a printer of colour" in told["findme"]["message"]
        plain = users.env.print_job("colour", pdf([True], "plain"), user="alice")
        plain_uuid = uuid_of(users, "colour", _job_id(plain))
        seen: list[tuple[str, dict[str, Any]]] = []
        while not any(k == "job-state" and d["uuid"] == plain_uuid
                      and d["state"] == "completed" for k, d in seen):
            seen.append(alice.events.get(timeout=60))
        assert ("policy", plain_uuid) not in {(k, d.get("uuid")) for k, d in seen}, seen
        assert not [d for k, d in list(bob.events.queue) if k == "policy"], "bob saw alice's"
    finally:
        alice.close()
        bob.close()


def test_denied_because_is_told(users: Users) -> None:
    alice = Stream(users.alice)
    try:
        reply = users.env.print_job("small", pdf([False, False], "too-long"), user="alice")
        assert reply.code == Status.CLIENT_ERROR_NOT_POSSIBLE, status_message(reply)
        told = policy(alice, None, where=lambda d: d["actions"] == ["denied"])
        assert told["printer"] == "small" and "2 pages" in told["message"], told
    finally:
        alice.close()


def test_a_balance_correction_is_told_to_its_owner(users: Users) -> None:
    accounts = users.admin.get("/api/v1/accounts", params={"kind": "personal"}).json()["items"]
    account = next(a for a in accounts if a["owner"] == "alice")
    alice, bob = Stream(users.alice), Stream(users.bob)
    try:
        alice.events.get(timeout=30)        # the balances on connecting
        bob.events.get(timeout=30)
        r = users.admin.post(f"/api/v1/accounts/{account['id']}/adjustments",
                             json={"amount": 250, "reason": "refund of a jammed job"})
        assert r.status_code == 201, r.text
        now = r.json()["balance"]
        kind, data = alice.events.get(timeout=30)
        assert (kind, data["amount"], data["reason"], data["balance"]) == (
            "balance-correction", 250, "refund of a jammed job", now)
        kind, data = alice.events.get(timeout=30)
        assert kind == "balance" and data["accounts"][0]["balance"] == now
        assert all(k != "balance-correction" for k, _ in list(bob.events.queue))
    finally:
        alice.close()
        bob.close()
