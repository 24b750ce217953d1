"""Secure release end to end (issue 17 §6, services/release.py): the real ``ippproxy serve``,
jobs and Release-Job by real IPP over TLS with HTTP Basic, the REST API as the users, the
ledger read back with ``ippproxy cmd``.

Queues (all HTTP Basic, priced by "colour"): "locked" (release = secure), "office"
(release-any), "approve" (approval by carol and the group "managers"), "jammed" (secure,
its printer a real IPP server on a socket that reports ``media-empty-error``). alice and bob
are staff, carol is staff, dave is a manager.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.cmd import run_cmd
from support.media_empty import ThreadedPrinter
from support.server import IppProxy
from support.webapi import Client, login, remember_certificate

from ippproxy.ipp import Attribute, Operation, Status, Tag

from .ipp_client import status_message
from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env, _basic, _job_id, pdf

MANAGERS = """
[[group]]
name = "managers"
"""
USERS = (("alice", "staff"), ("bob", "staff"), ("carol", "staff"), ("dave", "managers"))
HELD = (4, "job-hold-until-specified")


class Release:
    def __init__(self, env: Env, clients: dict[str, Client]) -> None:
        self.env, self.clients = env, clients

    def auth(self, user: str) -> str:
        return _basic(user, f"{user}-pw")

    def held(self, queue: str, user: str = "alice") -> dict[str, Any]:
        reply = self.env.print_job(queue, pdf([False], f"{queue}-{user}"), user=user,
                                   auth=self.auth(user))
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.job(queue, _job_id(reply))
        assert (attrs["job-state"], attrs["job-state-reasons"]) == HELD, attrs
        return attrs

    def job(self, queue: str, job_id: int) -> dict[str, Any]:
        return self.env.job(queue, job_id, auth=self.auth("alice"))

    def ipp_release(self, queue: str, job_id: int, auth: str | None) -> tuple[int, Any]:
        status, reply = self.env.request(Operation.RELEASE_JOB, queue, auth=auth, op_attrs=[
            Attribute.single("job-id", Tag.INTEGER, job_id)])
        return status, reply

    def rest(self, user: str, uuid: str, action: str) -> tuple[int, dict[str, Any]]:
        r = self.clients[user].post(f"/api/v1/me/jobs/{uuid}/{action}")
        return r.status_code, r.json()

    def wait_state(self, queue: str, job_id: int, state: int) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while (attrs := self.job(queue, job_id))["job-state"] != state:
            assert time.monotonic() < deadline, attrs
            time.sleep(0.2)
        return attrs

    def ledger(self, uuid: str) -> list[tuple[int, str]]:
        return [(amount, kind) for amount, _, kind, _ in self.env.ledger(uuid)]

    def audit(self, uuid: str) -> Any:
        """``ippproxy cmd audit`` of the job."""
        done = run_cmd(["--config", str(self.env.proxy.config_path), "--json", "audit",
                        "--kind", "job", "--name", uuid])
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _uuid(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    with ThreadedPrinter() as jammed:
        basic = {"cost_model": "colour", "authentication": "basic"}
        proxy = IppProxy(tmp_path_factory.mktemp("release"), queues=[
            {"name": "plain", "cost_model": "colour"},      # answers the start-up probe
            {"name": "locked", "release": "secure", **basic},
            {"name": "office", "release": "release-any", **basic},
            {"name": "approve", "release": "approval", "approvers": ["carol", "@managers"],
             **basic},
            {"name": "jammed", "release": "secure", "destination": jammed.uri,
             **basic},
            {"name": "billedlock", "release": "secure", "account_required": True,
             **basic}])
        proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + MANAGERS)
        with proxy:
            remember_certificate(proxy)
            env = Env(proxy)
            for name, group in USERS:
                env.cmd("add-internal-user", name, "--password-file", "-", "--group", group,
                        "--balance", "10.00", stdin=f"{name}-pw\n")
            yield Release(env, {n: login(proxy.https, n, f"{n}-pw") for n, _ in USERS})
            assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_secure_only_the_owner_releases(rel: Release) -> None:
    attrs = rel.held("locked")
    uuid, job_id = _uuid(attrs), attrs["job-id"]
    assert rel.ledger(uuid) == [(-15, "charge")]     # the price reserved as usual
    status, reply = rel.ipp_release("locked", job_id, rel.auth("bob"))
    assert status == 200 and reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, reply
    assert "owner" in status_message(reply)
    status, _ = rel.ipp_release("locked", job_id, None)       # nobody proven: log in
    assert status == 401
    code, body = rel.rest("bob", uuid, "release")
    assert code == 403 and body["status"] == 403 and "owner" in body["detail"], body
    assert (rel.job("locked", job_id)["job-state"]) == 4
    status, reply = rel.ipp_release("locked", job_id, rel.auth("alice"))
    assert status == 200 and reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    rel.wait_state("locked", job_id, 9)
    code, body = rel.rest("alice", uuid, "release")           # twice: it waits no more
    assert code == 409, body
    audit = rel.audit(uuid)
    entries = audit["items"] if isinstance(audit, dict) else audit
    assert [(e["action"], e["actor"]) for e in entries] == [("job.release", "alice")], audit


def test_release_any_by_another_user_over_rest(rel: Release) -> None:
    attrs = rel.held("office")
    uuid = _uuid(attrs)
    mine = rel.clients["alice"].get("/api/v1/me/held").json()["items"]
    assert uuid in {j["uuid"] for j in mine}
    code, body = rel.rest("bob", uuid, "release")
    assert code == 200 and body["state"] == "pending", body
    rel.wait_state("office", attrs["job-id"], 9)
    other = rel.held("office")                                 # and by IPP Release-Job
    status, reply = rel.ipp_release("office", other["job-id"], rel.auth("bob"))
    assert status == 200 and reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    rel.wait_state("office", other["job-id"], 9)


def test_approval_by_a_named_approver_and_a_group_refusal(rel: Release) -> None:
    first = rel.held("approve")
    for who in ("alice", "bob"):                             # the owner, someone else
        code, body = rel.rest(who, _uuid(first), "release")
        assert code == 403 and "approver" in body["detail"], body
    _status, reply = rel.ipp_release("approve", first["job-id"], rel.auth("alice"))
    assert reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, reply
    listed = rel.clients["carol"].get("/api/v1/me/approvals").json()["items"]
    assert [(j["uuid"], j["owner"], j["printer"]) for j in listed] == [
        (_uuid(first), "alice", "approve")] and "name" not in listed[0], listed
    assert rel.clients["bob"].get("/api/v1/me/approvals").json()["items"] == []
    code, body = rel.rest("carol", _uuid(first), "release")  # named in approvers
    assert code == 200, body
    rel.wait_state("approve", first["job-id"], 9)
    second = rel.held("approve")
    # The owner cannot let it go by Hold-Job job-hold-until=no-hold either.
    _, reply = rel.env.request(Operation.HOLD_JOB, "approve", auth=rel.auth("alice"),
                               op_attrs=[Attribute.single("job-id", Tag.INTEGER,
                                                          second["job-id"]),
                                         Attribute.single("job-hold-until", Tag.KEYWORD,
                                                          "no-hold")])
    assert reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, reply
    code, body = rel.rest("bob", _uuid(second), "cancel")    # not an approver, not owner
    assert code == 403, body
    told = Stream(rel.clients["alice"])                        # the owner's live events
    try:
        code, body = rel.rest("dave", _uuid(second), "cancel")   # @managers: refuses it
        assert code == 200 and body["state"] == "canceled", body
        event = told.next("job-state", _uuid(second), 60,
                          where=lambda d: d["state"] == "canceled")
        assert event["message"] == "refused by dave", event
    finally:
        told.close()
    done = rel.job("approve", second["job-id"])
    assert done["job-state"] == 7 and "refused by dave" in done["job-state-message"]
    deadline = time.monotonic() + 60
    while len(rows := rel.ledger(_uuid(second))) < 2:         # the settlement refunds it
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)
    assert sum(a for a, _ in rows) == 0, rows


def _ipp_cancel(rel: Release, job_id: int, user: str) -> Any:
    status, reply = rel.env.request(Operation.CANCEL_JOB, "approve", auth=rel.auth(user),
                                    op_attrs=[Attribute.single("job-id", Tag.INTEGER, job_id)])
    assert status == 200 and reply is not None, status
    return reply


def test_an_approvers_ipp_cancel_job_is_a_refusal(rel: Release) -> None:
    """Cancel-Job over IPPS with Basic auth by an approver (not the owner) refuses the job
    as the REST refusal does: canceled "refused by", the reservation refunded, the owner
    told, audited as a refusal; a non-approver's Cancel-Job stays not-authorized."""
    attrs = rel.held("approve")
    uuid, job_id = _uuid(attrs), attrs["job-id"]
    assert rel.ledger(uuid) == [(-15, "charge")]
    reply = _ipp_cancel(rel, job_id, "bob")                   # not an approver, not owner
    assert reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, status_message(reply)
    assert rel.job("approve", job_id)["job-state"] == 4
    told = Stream(rel.clients["alice"])                        # the owner's live events
    try:
        reply = _ipp_cancel(rel, job_id, "carol")              # named in approvers
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        event = told.next("job-state", uuid, 60, where=lambda d: d["state"] == "canceled")
        assert event["message"] == "refused by carol", event
    finally:
        told.close()
    done = rel.job("approve", job_id)
    assert done["job-state"] == 7 and "refused by carol" in done["job-state-message"]
    assert done["job-state-reasons"] == "job-canceled-by-operator"
    deadline = time.monotonic() + 60
    while len(rows := rel.ledger(uuid)) < 2:                  # the settlement refunds it
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)
    assert rows == [(-15, "charge"), (15, "refund")], rows
    reply = _ipp_cancel(rel, job_id, "carol")        # twice: it awaits approval no more
    assert reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, status_message(reply)
    time.sleep(1)
    assert rel.ledger(uuid) == [(-15, "charge"), (15, "refund")]
    audit = rel.audit(uuid)
    entries = audit["items"] if isinstance(audit, dict) else audit
    assert [(e["action"], e["actor"]) for e in entries] == [("job.refuse", "carol")], audit
    # The owner's own Cancel-Job is still an ordinary cancel.
    mine = rel.held("approve")
    reply = _ipp_cancel(rel, mine["job-id"], "alice")
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    own = rel.job("approve", mine["job-id"])
    assert own["job-state"] == 7 and own["job-state-reasons"] == "job-canceled-by-user"


def test_release_refused_while_the_printer_reports_media_empty(rel: Release) -> None:
    attrs = rel.held("jammed")
    code, body = rel.rest("alice", _uuid(attrs), "release")
    assert code == 409 and "media-empty" in body["detail"], body
    _status, reply = rel.ipp_release("jammed", attrs["job-id"], rel.auth("alice"))
    assert reply.code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "media-empty" in status_message(reply)
    assert (rel.job("jammed", attrs["job-id"])["job-state"],
            rel.job("jammed", attrs["job-id"])["job-state-reasons"]) == HELD


def test_unreleased_jobs_expire_refunded(rel: Release) -> None:
    attrs = rel.held("locked")
    proxy = rel.env.proxy
    option = ["--config", str(proxy.config_path), "option"]
    assert run_cmd([*option, "set", "accounting.release_expiry", "1"]).returncode == 0
    try:
        done = rel.wait_state("locked", attrs["job-id"], 7)   # the housekeeping pass
    finally:
        assert run_cmd([*option, "clear", "accounting.release_expiry"]).returncode == 0
    assert "not released within" in done["job-state-message"], done
    deadline = time.monotonic() + 60
    while len(rows := rel.env.ledger(_uuid(attrs))) < 2:
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)
    assert sum(r[0] for r in rows) == 0 and rows[-1][3], rows   # refunded, with a reason


def test_a_job_held_for_its_payer_then_waits_for_its_release(rel: Release) -> None:
    """Choosing the account pays the job; on a hold/release queue it then waits for its
    release instead of printing at once."""
    reply = rel.env.print_job("billedlock", pdf([False], "payer-first"), user="alice",
                              auth=rel.auth("alice"))
    attrs = rel.job("billedlock", _job_id(reply))
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-info-needed")
    r = rel.clients["alice"].post(f"/api/v1/me/jobs/{_uuid(attrs)}/account",
                                  json={"account": None})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["reasons"]) == ("pending-held",
                                                         ["job-hold-until-specified"])
    assert rel.ledger(_uuid(attrs)) == [(-15, "charge")]
    code, body = rel.rest("alice", _uuid(attrs), "release")
    assert code == 200, body
    rel.wait_state("billedlock", attrs["job-id"], 9)
