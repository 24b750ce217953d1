"""``authentication = "popup"`` end to end (issue 17 point 1, the seed's "unauthenticated
printer"): the real ``ippproxy serve``; a job sent without credentials is accepted and held
``ippproxy-identity-needed`` with nothing charged; the client of the user it names (a real
``ippproxy-client``) is asked who printed it and answers with a user name and password;
the proven user owns the job and pays for it. ``requesting-user-name`` alone never picks
the owner: a wrong password keeps the job waiting, another user's password makes it
theirs, and unanswered the popup timeout deletes it with nothing charged."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy
from support.userclient import UserClient
from support.webapi import Client, login, remember_certificate

from ippproxy.ipp import Attribute, Operation, Status, Tag

from .ipp_client import status_message
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

ASK = """
[[rule]]
type = "ask-account"
name = "ask"
printers = ["walkask"]
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    proxy = IppProxy(tmp_path_factory.mktemp("popupauth"), queues=[
        {"name": "open"},
        {"name": "walkup", "cost_model": "colour", "authentication": "popup"},
        {"name": "walkask", "cost_model": "colour", "authentication": "popup"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + ASK)
    with proxy:
        remember_certificate(proxy)
        e = Env(proxy)
        for name in ("alice", "bob"):
            e.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                  "--balance", "10.00", stdin=f"{name}-pw\n")
        yield e
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _uuid(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


def _send(env: Env, tag: str, claimed: str, auth: str | None = None,
          source: str | None = None) -> dict[str, Any]:
    reply = env.print_job("walkup", pdf([False], tag), user=claimed, auth=auth, source=source)
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    return env.job("walkup", _job_id(reply), auth=auth)


def _charges(env: Env, user: str) -> list[tuple[int, str]]:
    rows = env.cmd("list-transactions", "--user", user)
    return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


def _identify(who: Client, attrs: dict[str, Any], name: str, password: str
              ) -> tuple[int, dict[str, Any]]:
    r = who.post(f"/api/v1/me/jobs/{_uuid(attrs)}/identity",
                 json={"username": name, "password": password})
    return r.status_code, r.json()


def test_the_client_confirms_who_printed_and_that_user_pays(env: Env, tmp_path: Path
                                                            ) -> None:
    client = UserClient(env.proxy, tmp_path / "alice", "--user", "alice", "--password-file",
                        "-", "--confirm-identity", "--once", stdin="alice-pw\n")
    try:
        client.next("connection", where=lambda d: d["status"] == "connected")
        attrs = _send(env, "walk-up", "alice")          # no credentials: a claim
        asked = client.next("identity-needed", where=lambda d: d["uuid"] == _uuid(attrs))
        assert asked["reasons"] == ["ippproxy-identity-needed"] and asked["deadline"]
        assert "cost" not in asked                       # not priced before it is proven
        client.next("answered", where=lambda d: d["uuid"] == _uuid(attrs))
        code, err = client.wait()
        assert code == 0, err
    finally:
        client.stop()
    done = env.wait_job("walkup", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["job-originating-user-name"] == "alice"
    assert env.ledger(_uuid(attrs)) == [(-15, 985, "charge",
                                         "print job on walkup: 1 impressions")]
    # With valid credentials the sender is proven at once: nothing to confirm.
    basic = "Basic " + base64.b64encode(b"bob:bob-pw").decode()
    direct = _send(env, "basic", "mallory", auth=basic)
    assert direct["job-originating-user-name"] == "bob"
    assert env.wait_job("walkup", direct["job-id"], "ippproxy-cost-charged",
                        auth=basic)["job-state"] == 9


def test_the_password_decides_not_the_claimed_name(env: Env) -> None:
    alice = login(env.proxy.https, "alice", "alice-pw")
    bob = login(env.proxy.https, "bob", "bob-pw")
    # Sent from another computer (127.0.0.2) than bob's: a client at the job's address
    # may answer (test_popup_address.py), bob's may not.
    attrs = _send(env, "claimed-alice", "alice", source="127.0.0.2")
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "ippproxy-identity-needed")
    assert env.ledger(_uuid(attrs)) == []
    status, body = _identify(bob, attrs, "bob", "bob-pw")       # bob's client is not asked
    assert status == 404, body
    status, body = _identify(alice, attrs, "alice", "wrong")
    assert status == 403 and "wrong name or password" in body["detail"], body
    still = env.job("walkup", attrs["job-id"])
    assert (still["job-state"], still["job-state-reasons"]) == (4, "ippproxy-identity-needed")
    # The claimed owner cannot release it over IPP either: only the proof does.
    _, reply = env.request(Operation.RELEASE_JOB, "walkup", user="alice", op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, attrs["job-id"])])
    assert reply is not None and reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, reply
    assert "confirm who printed it" in status_message(reply)
    before = _charges(env, "alice")
    # Printed from alice's machine by bob, who types his own name and password.
    status, body = _identify(alice, attrs, "bob", "bob-pw")
    assert status == 200, body
    done = env.wait_job("walkup", attrs["job-id"], "ippproxy-cost-charged",
                        auth="Basic " + base64.b64encode(b"bob:bob-pw").decode())
    assert done["job-originating-user-name"] == "bob" and done["job-state"] == 9
    assert [(a, k) for a, _, k, _ in env.ledger(_uuid(attrs))] == [(-15, "charge")]
    assert _charges(env, "alice") == before
    status, body = _identify(alice, attrs, "alice", "alice-pw")  # twice: too late
    assert status in (404, 409), body                           # (it is bob's job now)


def test_unanswered_deleted_nothing_charged(env: Env) -> None:
    alice = login(env.proxy.https, "alice", "alice-pw")
    attrs = _send(env, "nobody", "alice")
    ghost = _send(env, "phone", "Pixel 7")           # an Android client's "user name"
    env.proxy.option("set", "accounting.popup_timeout", "1")
    try:
        for job in (attrs, ghost):
            deadline = time.monotonic() + 60
            while (state := env.job("walkup", job["job-id"]))["job-state"] != 7:
                assert time.monotonic() < deadline, state
                time.sleep(0.5)
            assert state["job-state-reasons"] == "ippproxy-identity-needed"
            assert "nobody confirmed who printed it" in state["job-state-message"]
            assert env.ledger(_uuid(job)) == []
        status, body = _identify(alice, attrs, "alice", "alice-pw")
        assert status == 409 and "canceled" in body["detail"], body
        users = {str(u["username"]) for u in env.cmd("list-users")}
        assert "pixel 7" not in {u.lower() for u in users}, users
    finally:
        env.proxy.option("clear", "accounting.popup_timeout")


def test_proven_then_asked_for_the_account(env: Env) -> None:
    """Proof first, then the rules run as the proven user's: an ask-account rule holds the
    job again for its account; nothing is charged until that is answered too."""
    alice = login(env.proxy.https, "alice", "alice-pw")
    reply = env.print_job("walkask", pdf([False], "then-ask"), user="alice")
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    attrs = env.job("walkask", _job_id(reply))
    assert attrs["job-state-reasons"] == "ippproxy-identity-needed"
    r = alice.post(f"/api/v1/me/jobs/{_uuid(attrs)}/identity",
                   json={"username": "alice", "password": "alice-pw"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["reasons"]) == ("pending-held", ["account-info-needed"])
    assert r.json()["estimate"] == 15 and env.ledger(_uuid(attrs)) == []
    r = alice.post(f"/api/v1/me/jobs/{_uuid(attrs)}/account", json={"account": None})
    assert r.status_code == 200, r.text
    done = env.wait_job("walkask", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9
    assert [(a, k) for a, _, k, _ in env.ledger(_uuid(attrs))] == [(-15, "charge")]

