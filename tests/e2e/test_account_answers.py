"""A held job's account question answered by its owner over the REST API (issue 17,
services/userside.py), end to end: the real ``ippproxy serve``, jobs by real IPP, the
ledger read back with ``ippproxy cmd``.

Queue "billed" needs an account (``account_required``): a job without one is held
``account-info-needed``. Queue "confirm" asks the last-chance confirmation (a confirm-job
rule). alice may charge Physics (not Chemistry); bob is another user."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.server import IppProxy
from support.webapi import Client, first_password, login, remember_certificate, trust

from ippproxy.ipp import Status

from .ipp_client import status_message
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

CONFIRM = """
[[rule]]
type = "confirm-job"
name = "last-chance"
printers = ["confirm"]
"""


class Side:
    def __init__(self, env: Env, alice: Client, bob: Client) -> None:
        self.env, self.alice, self.bob = env, alice, bob

    def held_job(self) -> dict[str, Any]:
        reply = self.env.print_job("billed", pdf([False], "answer"), user="alice")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.env.job("billed", _job_id(reply))
        assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-info-needed")
        return attrs

    def answer(self, who: Client, attrs: dict[str, Any], account: str | None
               ) -> tuple[int, dict[str, Any]]:
        uuid = str(attrs["job-uuid"]).removeprefix("urn:uuid:")
        r = who.post(f"/api/v1/me/jobs/{uuid}/account", json={"account": account})
        return r.status_code, r.json()

    def charges(self, account: str) -> list[tuple[int, str]]:
        rows = self.env.cmd("list-transactions", "--account", account)
        return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    proxy = IppProxy(tmp_path_factory.mktemp("answers"), queues=[
        {"name": "colour", "cost_model": "colour"},
        {"name": "billed", "cost_model": "colour", "account_required": True},
        {"name": "confirm", "cost_model": "colour"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + CONFIRM)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        for name in ("alice", "bob"):
            env.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                    "--balance", "10.00", stdin=f"{name}-pw\n")
        for name, code in (("Physics", "physics"), ("Chemistry", "chemistry")):
            env.cmd("add-shared-account", name, code, "--balance", "20.00")
        env.cmd("grant-account", "--user", "alice", "physics")
        yield Side(env, login(proxy.https, "alice", "alice-pw"),
                   login(proxy.https, "bob", "bob-pw"))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_the_owner_answers_once_and_the_job_prints_charged_once(side: Side) -> None:
    attrs = side.held_job()
    uuid = str(attrs["job-uuid"]).removeprefix("urn:uuid:")
    mine = side.alice.get("/api/v1/me/jobs").json()["items"]
    assert [(j["state"], j["reasons"]) for j in mine if j["uuid"] == uuid] == [
        ("pending-held", ["account-info-needed"])]
    assert uuid not in {j["uuid"] for j in side.bob.get("/api/v1/me/jobs").json()["items"]}
    accounts = side.alice.get("/api/v1/me/accounts").json()["items"]
    assert [(a["code"], a["balance"]) for a in accounts] == [(None, 1000), ("physics", 2000)]
    assert [a["code"] for a in side.bob.get("/api/v1/me/accounts").json()["items"]] == [None]
    status, body = side.answer(side.bob, attrs, "physics")        # not bob's job
    assert status == 404 and "physics" not in str(body), body
    status, body = side.answer(side.alice, attrs, "chemistry")    # not alice's account
    assert status == 409 and "may not charge" in body["detail"], body
    after = side.env.job("billed", attrs["job-id"])
    assert (after["job-state"], after["job-state-reasons"]) == (4, "account-authorization-failed")
    assert side.charges("chemistry") == []
    status, body = side.answer(side.alice, attrs, "physics")
    assert status == 200 and body["account"] == "physics", body
    done = side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["job-account-id"] == "physics"
    status, body = side.answer(side.alice, attrs, "physics")      # twice: too late
    assert status == 409 and "waits for no account" in body["detail"], body
    assert side.charges("physics") == [(-15, "charge")]


def test_the_personal_account_and_an_unanswered_question(side: Side) -> None:
    attrs = side.held_job()
    status, body = side.answer(side.alice, attrs, None)
    assert status == 200 and body["account"] is None, body
    done = side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["ippproxy-cost-charged"] == "0.15 EUR"
    # The popup timeout, set live as an option: the next housekeeping pass cancels it.
    late = side.held_job()
    proxy = side.env.proxy
    proxy.option("set", "accounting.popup_timeout", "1")
    deadline = time.monotonic() + 40
    while (state := side.env.job("billed", late["job-id"]))["job-state"] != 7:
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["job-state-reasons"] == "account-info-needed"
    assert "nothing was charged" in state["job-state-message"]
    status, body = side.answer(side.alice, late, "physics")
    assert status == 409 and "canceled" in body["detail"], body
    assert side.charges("physics") == [(-15, "charge")]
    proxy.option("clear", "accounting.popup_timeout")


class Stream:
    """A user's ``/api/v1/me/events`` read by a thread into a queue of (kind, data)."""

    def __init__(self, client: Client, path: str = "/api/v1/me/events") -> None:
        import queue
        import threading

        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        get = client.session.get if client.session is not None else requests.get
        self.response = get(client.base + path, headers=client.headers(), stream=True,
                            timeout=60, verify=trust(client.base))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind = ""
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw.startswith("event: "):
                    kind = raw[7:]
                elif raw.startswith("data: "):
                    self.events.put((kind, json.loads(raw[6:])))
        except (requests.RequestException, AttributeError, ValueError):
            return

    def next(self, kind: str, uuid: str, timeout: float = 30.0,
             where: Any = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind} event for {uuid}"
            k, data = self.events.get(timeout=left)
            if k == kind and data.get("uuid") == uuid and (where is None or where(data)):
                return data

    def close(self) -> None:
        """Shut the socket first: closing a response whose body a thread is reading
        waits for the server's next write (its keep-alive, seconds away)."""
        try:
            self.response.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.response.close()


def _uuid_of(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


def test_the_users_client_gets_the_question_live_and_answers_it(side: Side) -> None:
    earlier = side.held_job()                        # before the client connects
    alice, bob = Stream(side.alice), Stream(side.bob)
    try:
        replayed = alice.next("account-needed", _uuid_of(earlier))
        assert replayed["reasons"] == ["account-info-needed"] and replayed["deadline"]
        attrs = side.held_job()
        uuid = _uuid_of(attrs)
        popup = alice.next("account-needed", uuid)
        assert [c["code"] for c in popup["choices"]] == [None, "physics"]
        assert (popup["printer"], popup["pages"], popup["cost"]) == ("billed", 1, "0.15 EUR")
        assert popup["message"] and "job-account-id" in popup["message"]
        status, _ = side.answer(side.alice, attrs, "physics")
        assert status == 200
        done = alice.next("job-state", uuid, where=lambda d: d["state"] == "completed")
        assert done["account"] == "physics"
        status, _ = side.answer(side.alice, earlier, None)
        assert status == 200
        alice.next("job-state", _uuid_of(earlier), where=lambda d: d["state"] != "pending-held")
        assert all(d.get("uuid") not in (uuid, _uuid_of(earlier))
                   for _, d in list(bob.events.queue)), "bob saw alice's jobs"
    finally:
        alice.close()
        bob.close()


def test_two_answers_at_once_charge_once(side: Side) -> None:
    import threading

    attrs = side.held_job()
    statuses: list[int] = []
    go = threading.Barrier(2)

    def answer() -> None:
        go.wait()
        statuses.append(side.answer(side.alice, attrs, "physics")[0])

    threads = [threading.Thread(target=answer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200, 409], statuses
    done = side.env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
    rows = side.env.cmd("list-transactions", "--job", str(done["job-uuid"]).removeprefix(
        "urn:uuid:"))
    assert [(r["amount"], r["kind"]) for r in rows] == [(-15, "charge")]


def test_balance_and_the_low_credit_warning(side: Side) -> None:
    """accounting.low_credit_threshold (set live): a client is told its balance on
    connecting and after each job, and warned once when the personal balance falls below
    the threshold."""
    alice_balance = side.alice.get("/api/v1/me/accounts").json()["items"][0]["balance"]
    assert alice_balance < 990
    side.env.proxy.option("set", "accounting.low_credit_threshold", "\"9.90\"")
    alice, bob = Stream(side.alice), Stream(side.bob)
    try:
        kind, data = alice.events.get(timeout=30)
        assert kind == "balance" and data["accounts"][0]["balance"] == alice_balance
        kind, data = alice.events.get(timeout=30)
        assert (kind, data["balance"], data["threshold"]) == ("low-credit", alice_balance, 990)
        kind, data = bob.events.get(timeout=30)
        assert kind == "balance" and data["accounts"][0]["balance"] == 1000
        reply = side.env.print_job("colour", pdf([False], "bob"), user="bob")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        deadline = time.monotonic() + 30
        seen: list[str] = []
        while "low-credit" not in seen:
            kind, data = bob.events.get(timeout=max(0.1, deadline - time.monotonic()))
            seen.append(kind)
        assert data["balance"] == 985 and seen.count("low-credit") == 1
    finally:
        alice.close()
        bob.close()
        side.env.proxy.option("clear", "accounting.low_credit_threshold")


def test_client_unavailable_alert_on_the_admin_dashboard(side: Side) -> None:
    """accounting.client_alert (set live): a job waiting for an account choice whose owner
    has no client connected raises client-unavailable on the admin's live activity; with
    the owner's client connected, no alert. A client that has just gone away (its stream
    not written to since) is not connected."""
    side.env.proxy.option("set", "accounting.client_alert", "true")
    admin = login(side.env.proxy.https, "admin", first_password(side.env.proxy))
    live = Stream(admin, "/admin/events")
    alice = Stream(side.alice)
    try:
        nobody = side.held_job()          # alice's client is connected: asked, no alert
        alice.next("account-needed", _uuid_of(nobody))
        bob = Stream(side.bob)
        assert bob.events.get(timeout=30)[0] == "balance"   # subscribed: bob is connected
        bob.close()                       # and his client went away a moment ago
        reply = side.env.print_job("billed", pdf([False], "bob"), user="bob")
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        bobs = _job_id(reply)
        deadline = time.monotonic() + 30
        alerts: list[dict[str, Any]] = []
        while not alerts:
            kind, data = live.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if kind == "client-unavailable":
                alerts.append(data)
        assert (alerts[0]["user"], alerts[0]["queue"], alerts[0]["job_id"]) == (
            "bob", "billed", bobs)
        time.sleep(1)
        later = [d for k, d in list(live.events.queue) if k == "client-unavailable"]
        assert all(d["user"] != "alice" for d in later), later
    finally:
        live.close()
        alice.close()
        side.env.proxy.option("clear", "accounting.client_alert")


def test_last_chance_confirmation_print_or_cancel(side: Side) -> None:
    """confirm-job: the job is priced and reserved, the owner's client is asked (name,
    pages, cost, printer); cancel refunds it all, print prints it charged once; a second
    answer is 409, another user's 404."""
    alice = Stream(side.alice)
    try:
        jobs = []
        for tag in ("cancel-me", "print-me"):
            reply = side.env.print_job("confirm", pdf([True], tag), user="alice")
            assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
            attrs = side.env.job("confirm", _job_id(reply))
            assert attrs["job-state"] == 4
            assert attrs["job-state-reasons"] == "ippproxy-confirmation-needed"
            asked = alice.next("confirm-needed", _uuid_of(attrs))
            assert (asked["printer"], asked["pages"], asked["colour_impressions"],
                    asked["cost"]) == ("confirm", 1, 1, "0.55 EUR")
            assert [(a, k) for a, _, k, _ in side.env.ledger(_uuid_of(attrs))] == [
                (-55, "charge")]                      # reserved while it waits
            jobs.append(attrs)
        no, yes = jobs

        def confirm(who: Client, attrs: dict[str, Any], go: bool) -> tuple[int, Any]:
            r = who.post(f"/api/v1/me/jobs/{_uuid_of(attrs)}/confirm", json={"print": go})
            return r.status_code, r.json()

        assert confirm(side.bob, no, True)[0] == 404
        status, body = confirm(side.alice, no, False)
        assert status == 200 and body["state"] == "canceled", body
        deadline = time.monotonic() + 30
        while sum(a for a, _, _, _ in side.env.ledger(_uuid_of(no))) != 0:
            assert time.monotonic() < deadline, side.env.ledger(_uuid_of(no))
            time.sleep(0.3)
        status, body = confirm(side.alice, yes, True)
        assert status == 200, body
        done = side.env.wait_job("confirm", yes["job-id"], "ippproxy-cost-charged")
        assert done["job-state"] == 9
        assert [a for a, _, _, _ in side.env.ledger(_uuid_of(yes))] == [-55]
        assert confirm(side.alice, yes, False)[0] == 409
        assert confirm(side.alice, no, True)[0] == 409
    finally:
        alice.close()
