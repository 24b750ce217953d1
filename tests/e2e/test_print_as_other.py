""""Print as another user" (issue 17 item 2), end to end: the real ``ippproxy serve``,
jobs by real IPP, the answer over the REST API, the ledger read back with ``ippproxy cmd``.

Queue "askother" is under an ask-account rule with ``allow_print_as_other``; queue "ask"
under one without it. alice prints; bob's password lets her print as bob (charged to and
owned by bob); carol is disabled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy
from support.userclient import run_client
from support.webapi import Client, first_password, login, remember_certificate

from ippproxy.ipp import Status

from .ipp_client import status_message
from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

RULES = """
[[rule]]
type = "ask-account"
name = "ask-or-other"
printers = ["askother"]
allow_print_as_other = true

[[rule]]
type = "ask-account"
name = "ask-only"
printers = ["ask"]
"""


class Side:
    def __init__(self, env: Env, alice: Client, bob: Client) -> None:
        self.env, self.alice, self.bob = env, alice, bob

    def held_job(self, queue: str, tag: str) -> dict[str, Any]:
        reply = self.env.print_job(queue, pdf([False], tag), user="alice")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.env.job(queue, _job_id(reply))
        assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-info-needed")
        return attrs

    def answer(self, attrs: dict[str, Any], body: dict[str, Any],
               who: Client | None = None) -> tuple[int, Any]:
        r = (who or self.alice).post(f"/api/v1/me/jobs/{_uuid(attrs)}/account", json=body)
        return r.status_code, r.json()

    def personal(self, user: str) -> list[tuple[int, str]]:
        rows = self.env.cmd("list-transactions", "--user", user)
        return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


def _uuid(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    proxy = IppProxy(tmp_path_factory.mktemp("printas"), queues=[
        {"name": "colour", "cost_model": "colour"},
        {"name": "askother", "cost_model": "colour"},
        {"name": "ask", "cost_model": "colour"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + RULES)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        for name in ("alice", "bob", "carol"):
            env.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                    "--balance", "10.00", stdin=f"{name}-pw\n")
        env.cmd("set-user-property", "carol", "disabled", "true")
        yield Side(env, login(proxy.https, "alice", "alice-pw"),
                   login(proxy.https, "bob", "bob-pw"))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_bad_answers_leave_the_job_held_and_alices(side: Side) -> None:
    attrs = side.held_job("askother", "as-bob-bad")
    for body, status, field in (
            ({"as_user": "bob", "password": "bob-pw", "account": None}, 422, "as_user"),
            ({"as_user": "bob"}, 422, "password"),
            ({}, 422, "account")):
        got, problem = side.answer(attrs, body)
        assert got == status and problem["errors"][0]["field"] == field, problem
    status, problem = side.answer(attrs, {"as_user": "bob", "password": "wrong"})
    assert status == 403 and "keeps waiting" in problem["detail"], problem
    status, problem = side.answer(attrs, {"as_user": "carol", "password": "carol-pw"})
    assert status == 403 and "may not print" in problem["detail"], problem
    status, problem = side.answer(attrs, {"as_user": "alice", "password": "alice-pw"})
    assert status == 422 and problem["errors"][0]["field"] == "as_user", problem
    now = side.env.job("askother", attrs["job-id"])
    assert now["job-state"] == 4 and now["job-originating-user-name"] == "alice"
    assert side.personal("bob") == [] and side.personal("alice") == []
    # Where the rule does not offer it: refused, even with the right password.
    other = side.held_job("ask", "as-bob-not-offered")
    status, problem = side.answer(other, {"as_user": "bob", "password": "bob-pw"})
    assert status == 403 and "not offered" in problem["detail"], problem
    assert side.env.job("ask", other["job-id"])["job-state"] == 4
    assert side.personal("bob") == []


def test_alice_prints_as_bob_charged_to_and_owned_by_bob(side: Side) -> None:
    attrs = side.held_job("askother", "as-bob")
    uuid = _uuid(attrs)
    alice, bob = Stream(side.alice), Stream(side.bob)
    try:
        alice.next("account-needed", uuid)
        status, body = side.answer(attrs, {"as_user": "BOB", "password": "bob-pw"})
        assert status == 200 and body["account"] is None, body
        told_alice = alice.next("policy", uuid)
        told_bob = bob.next("policy", uuid)
    finally:
        alice.close()
        bob.close()
    assert told_alice["actions"] == ["printed-as"] and "as bob" in told_alice["message"]
    assert "alice printed" in told_bob["message"]
    done = side.env.wait_job("askother", attrs["job-id"], "ippproxy-cost-charged")
    # bob's job now: alice (the request's user) no longer sees its owner (job privacy)
    assert done["job-state"] == 9 and "job-originating-user-name" not in done
    assert side.personal("bob") == [(-15, "charge")]
    assert side.personal("alice") == []
    assert uuid in {j["uuid"] for j in side.bob.get("/api/v1/me/jobs").json()["items"]}
    assert uuid not in {j["uuid"] for j in side.alice.get("/api/v1/me/jobs").json()["items"]}
    # Twice: no longer alice's job; bob's answer is too late. Charged once.
    status, _ = side.answer(attrs, {"as_user": "bob", "password": "bob-pw"})
    assert status == 404
    status, problem = side.answer(attrs, {"account": None}, who=side.bob)
    assert status == 409 and "waits for no account" in problem["detail"], problem
    assert side.personal("bob") == [(-15, "charge")]
    admin = login(side.env.proxy.https, "admin", first_password(side.env.proxy))
    audit = admin.get("/api/v1/audit", params={"action": "job.as-user"}).json()["items"]
    mine = [e for e in audit if e["name"] == uuid]
    assert len(mine) == 1 and mine[0]["actor"] == "alice", mine
    assert (mine[0]["before"], mine[0]["after"]["owner"]) == ({"owner": "alice"}, "bob")
    assert "bob-pw" not in str(audit)
    failed = admin.get("/api/v1/audit", params={"action": "job.as-user-failed"}).json()
    assert len(failed["items"]) == 2 and "wrong" not in str(failed)


def test_the_rule_flag_is_set_over_the_rest_api(side: Side) -> None:
    admin = login(side.env.proxy.https, "admin", first_password(side.env.proxy))
    r = admin.post("/api/v1/rules", json={"name": "dup-other", "type": "max-copies",
                                          "limit": 3, "allow_print_as_other": True})
    assert r.status_code == 422 and "allow_print_as_other" in r.text, r.text
    r = admin.post("/api/v1/rules", json={"name": "ask-colour", "type": "ask-account",
                                          "printers": ["colour"],
                                          "allow_print_as_other": True})
    assert r.status_code in (200, 201), r.text
    got = admin.get("/api/v1/rules/ask-colour").json()
    assert got["allow_print_as_other"] is True


def test_the_client_prints_as_bob(side: Side, tmp_path: Path) -> None:
    attrs = side.held_job("askother", "client-as-bob")
    secret = tmp_path / "bob-password"
    secret.write_text("bob-pw\n")
    config = tmp_path / "alice-config"
    code, lines, err = run_client(side.env.proxy, config, "--user", "alice",
                                  "--password-file", "-", "--job", _uuid(attrs),
                                  "--answer-as-user", "bob", "--as-user-password-file",
                                  str(secret), stdin="alice-pw\n")
    assert code == 0, (lines, err)
    assert lines[-1]["event"] == "answered" and lines[-1]["data"]["uuid"] == _uuid(attrs)
    assert "bob-pw" not in str(lines) + err
    side.env.wait_job("askother", attrs["job-id"], "ippproxy-cost-charged")
    assert side.personal("bob") == [(-15, "charge"), (-15, "charge")]
    # A wrong password: the server's refusal, the job still alice's and held.
    late = side.held_job("askother", "client-as-bob-wrong")
    secret.write_text("not-bob\n")
    code, lines, err = run_client(side.env.proxy, config, "--job", _uuid(late),
                                  "--answer-as-user", "bob", "--as-user-password-file",
                                  str(secret))
    assert code == 1 and "keeps waiting" in err, (lines, err)
    assert lines[-1]["data"]["status"] == 403
    assert side.env.job("askother", late["job-id"])["job-state"] == 4
    assert side.personal("bob") == [(-15, "charge"), (-15, "charge")]
