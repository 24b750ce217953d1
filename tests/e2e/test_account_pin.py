"""A shared account's PIN in the answer to a held job's account question (issue 17 items 2
and 5), end to end: the real ``ippproxy serve``, jobs by real IPP, answers over the REST
API and by the real ``ippproxy-client`` subprocess, the ledger read back with ``ippproxy
cmd``.

Queue "billed" needs an account: a job without one is held ``account-info-needed``. alice
may charge Physics (PIN 4711), Optics (PIN 2468) and Biology (no PIN); Chemistry (PIN 1357)
is not hers. The test that exhausts the PIN throttle runs last: wrong PINs count against
the client's address as wrong passwords do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy
from support.userclient import UserClient, client_command, run_client
from support.webapi import Client, first_password, login, remember_certificate

from ippproxy.ipp import Status

from .ipp_client import status_message
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf
from .test_user_client import Terminal


class Side:
    def __init__(self, env: Env, alice: Client) -> None:
        self.env, self.alice = env, alice

    def held_job(self, tag: str) -> dict[str, Any]:
        reply = self.env.print_job("billed", pdf([False], tag), user="alice")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.env.job("billed", _job_id(reply))
        assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-info-needed")
        return attrs

    def answer(self, attrs: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        r = self.alice.post(f"/api/v1/me/jobs/{_uuid(attrs)}/account", json=body)
        return r.status_code, r.json()

    def still_held(self, attrs: dict[str, Any]) -> None:
        now = self.env.job("billed", attrs["job-id"])
        assert now["job-state"] == 4, now

    def charges(self, account: str) -> list[tuple[int, str]]:
        rows = self.env.cmd("list-transactions", "--account", account)
        return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


def _uuid(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    proxy = IppProxy(tmp_path_factory.mktemp("pins"), queues=[
        {"name": "colour", "cost_model": "colour"},
        {"name": "billed", "cost_model": "colour", "account_required": True}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        env.cmd("add-internal-user", "alice", "--password-file", "-", "--group", "staff",
                "--balance", "10.00", stdin="alice-pw\n")
        for name, code, pin in (("Physics", "physics", "4711"), ("Optics", "optics", "2468"),
                                ("Chemistry", "chemistry", "1357"),
                                ("Biology", "biology", None)):
            env.cmd("add-shared-account", name, code, "--balance", "20.00",
                    *(("--pin-file", "-") if pin else ()), stdin=f"{pin}\n" if pin else "")
        for code in ("physics", "optics", "biology"):
            env.cmd("grant-account", "--user", "alice", code)
        yield Side(env, login(proxy.https, "alice", "alice-pw"))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_the_list_says_which_accounts_need_a_pin_and_searches(side: Side) -> None:
    items = side.alice.get("/api/v1/me/accounts").json()["items"]
    assert [(a["code"], a["pin"]) for a in items] == [
        (None, False), ("biology", False), ("optics", True), ("physics", True)]
    found = side.alice.get("/api/v1/me/accounts", params={"q": "PHY"}).json()["items"]
    assert [a["code"] for a in found] == ["physics"]
    found = side.alice.get("/api/v1/me/accounts", params={"q": "o", "limit": 2}).json()
    assert [a["code"] for a in found["items"]] == ["biology", "optics"]
    assert "chemistry" not in str(side.alice.get("/api/v1/me/accounts",
                                                 params={"q": "chem"}).json())


def test_a_pin_account_is_charged_with_its_pin_once(side: Side) -> None:
    attrs = side.held_job("pin-answer")
    status, body = side.answer(attrs, {"account": "physics"})          # no PIN
    assert status == 403 and "wrong or missing account PIN" in body["detail"], body
    side.still_held(attrs)
    status, body = side.answer(attrs, {"account": "physics", "pin": "0000"})
    assert status == 403 and "nothing was charged" in body["detail"], body
    side.still_held(attrs)
    for bad in ("47a1", "1" * 33, ""):          # letters, too long, empty: the field named
        status, body = side.answer(attrs, {"account": "physics", "pin": bad})
        assert status == 422 and body["errors"][0]["field"] == "body.pin", body
    status, body = side.answer(attrs, {"account": None, "pin": "4711"})  # PIN, no account
    assert status == 422 and body["errors"][0]["field"] == "pin", body
    assert side.charges("physics") == []
    status, body = side.answer(attrs, {"account": "physics", "pin": "4711"})
    assert status == 200 and body["account"] == "physics", body
    done = side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["job-account-id"] == "physics"
    status, body = side.answer(attrs, {"account": "physics", "pin": "4711"})   # twice
    assert status == 409 and "waits for no account" in body["detail"], body
    assert side.charges("physics") == [(-15, "charge")]
    # Each wrong PIN is audited, without the PIN.
    admin = login(side.env.proxy.https, "admin", first_password(side.env.proxy))
    audit = admin.get("/api/v1/audit", params={"action": "job.account-pin-failed"}
                      ).json()["items"]
    failed = [e for e in audit if e["name"] == _uuid(attrs)]
    assert len(failed) == 2 and all(e["actor"] == "alice" for e in failed), failed
    assert "0000" not in str(audit) and "4711" not in str(audit)


def test_by_code_a_pin_never_replaces_the_grant(side: Side) -> None:
    attrs = side.held_job("not-granted")
    status, body = side.answer(attrs, {"account": "chemistry", "pin": "1357"})
    assert status == 409 and "may not charge" in body["detail"], body
    side.still_held(attrs)
    assert side.charges("chemistry") == []
    status, body = side.answer(attrs, {"account": "biology"})   # no PIN needed
    assert status == 200 and body["account"] == "biology", body
    side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert side.charges("biology") == [(-15, "charge")]


def test_the_client_answers_a_pin_account(side: Side, tmp_path: Path) -> None:
    config = tmp_path / "alice-config"
    pin_file = tmp_path / "pin"
    pin_file.write_text("2468\n")
    client = UserClient(side.env.proxy, config, "--user", "alice", "--password-file", "-",
                        "--answer-account", "Optics", "--account-pin-file", str(pin_file),
                        "--once", stdin="alice-pw\n")
    try:
        client.next("connection", where=lambda d: d["status"] == "connected")
        reply = side.env.print_job("billed", pdf([False], "client-pin"), user="alice")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        job_id = _job_id(reply)
        popup = client.next("account-needed", where=lambda d: d["job_id"] == job_id)
        assert [(c["code"], c["pin"]) for c in popup["choices"]][2] == ("optics", True)
        answered = client.next("answered", where=lambda d: d["job_id"] == job_id)
        assert answered["account"] == "optics"
        code, err = client.wait()
        assert code == 0, err
    finally:
        client.stop()
    done = side.env.wait_job("billed", job_id, "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["job-account-id"] == "optics"
    assert side.charges("optics") == [(-15, "charge")]
    # Without the PIN (saved login, --job): refused with the reason, nothing charged.
    attrs = side.held_job("client-no-pin")
    code, lines, err = run_client(side.env.proxy, config, "--job", _uuid(attrs),
                                  "--answer-account", "code:optics")
    assert code == 1 and "wrong or missing account PIN" in err, (lines, err)
    assert lines[-1]["data"]["status"] == 403
    side.still_held(attrs)
    assert side.charges("optics") == [(-15, "charge")]


def test_at_a_terminal_the_pin_is_asked_without_echo(side: Side, tmp_path: Path) -> None:
    term = Terminal([*client_command(), side.env.proxy.https, "--user", "alice",
                     "--cafile", str(side.env.proxy.cert), "--config-dir",
                     str(tmp_path / "tty"), "--no-notify"])
    try:
        term.expect("Password for alice:")
        term.type("alice-pw")
        term.expect("[connected]")
        attrs = side.held_job("typed-pin")
        mine = f"Account for job {attrs['job-id']} (number, code:CODE; Enter: not now):"
        prompts = 0
        while True:   # alice's jobs held by the tests before are asked first: not now
            prompts += 1
            shown = term.expect("(number, code:CODE; Enter: not now):", times=prompts)
            if shown.rstrip().endswith(mine):
                break
            term.type("")
        assert "[4] Physics (code physics, balance 19.85 EUR, needs its PIN)" in shown
        term.type("4")
        term.expect("PIN of account physics:")
        term.type("4711")
        term.expect(f"Answered: job {attrs['job-id']}")
        assert "4711" not in term.text            # not echoed
    finally:
        term.close()
    side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert side.charges("physics") == [(-15, "charge"), (-15, "charge")]


def test_wrong_pins_are_throttled(side: Side) -> None:
    """Five wrong PINs are free (the login throttle's ``free``), counted per user and
    account and per address (the earlier tests' wrong PIN counts too); an answer without
    a PIN is no guess: never throttled."""
    attrs = side.held_job("guessing")
    answers = [side.answer(attrs, {"account": "optics", "pin": f"00{i:02d}"})[0]
               for i in range(1, 8)]
    first = answers.index(429)
    assert 1 <= first <= 5 and answers[:first] == [403] * first, answers
    assert answers[first:] == [429] * (len(answers) - first), answers
    status, body = side.answer(attrs, {"account": "optics", "pin": "2468"})   # right, late
    assert status == 429 and body["type"].endswith("/throttled"), body
    # The web app's answer form is the same guess: its page says so, and how long to wait.
    page = side.alice.post(f"/user/jobs/{_uuid(attrs)}/account", data={
        "csrf_token": side.alice.csrf, "account": "optics", "pin": "2468"})
    assert page.status_code == 429 and "try again later" in page.text, page.status_code
    assert int(page.headers["Retry-After"]) > 0      # RFC 6585 §4
    assert side.answer(attrs, {"account": "optics"})[0] == 403   # no PIN: not throttled
    side.still_held(attrs)
    assert side.charges("optics") == [(-15, "charge")]
    # The personal account needs no PIN: not throttled.
    status, body = side.answer(attrs, {"account": None})
    assert status == 200 and body["account"] is None, body
