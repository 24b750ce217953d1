"""Find-Me (issue 17 point 7) end to end: the real ``ippproxy serve``, two real
``ippeveprinter`` printers, jobs by real IPP, the release over the REST API, the ledger
read back with ``ippproxy cmd``, the printed files analysed with the product's own colour
analysis.

Queue "findme" is virtual: its jobs are held and reserved at the dearest printer of its
group. "lab-colour" is a colour duplex printer (``-s 10,10``: a colour speed, so
``color-supported`` true; 0.10 mono, 0.50 colour per impression);
"lab-mono" an ippeveprinter without colour (``-s 10,0``: no colour speed, so
``color-supported`` false) and without duplex (no ``-2``), 0.05 per impression.
"elsewhere" is a queue outside the group; "findme-billed" a Find-Me queue whose jobs must
name an account."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy
from support.webapi import Client, first_password, login, remember_certificate

from ippproxy.filters import detect
from ippproxy.filters.analysis import analyse
from ippproxy.ipp import Attribute, Operation, Status, Tag
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter

from .ipp_client import status_message
from .test_account_answers import Stream
from .test_accounting_e2e import Env, _job_id, pdf

EXTRA = """
[forwarding]
poll_interval = 0.1
[accounting]
enabled = true
unknown_users = "refuse"
settle_interval = 0.5
[[cost_model]]
name = "colour"
mono = "0.10"
color = "0.50"
[[cost_model]]
name = "mono"
mono = "0.05"
color = "0.05"
[[group]]
name = "staff"
"""
TWO_SIDED = [Attribute.single("sides", Tag.KEYWORD, "two-sided-long-edge")]


class Lab:
    def __init__(self, env: Env, colour: EvePrinter, mono: EvePrinter, alice: Client,
                 bob: Client, admin: Client) -> None:
        self.env, self.colour, self.mono = env, colour, mono
        self.alice, self.bob, self.admin = alice, bob, admin

    def held(self, tag: str, user: str = "alice") -> dict[str, Any]:
        """A three-page job, pages 1 and 3 in colour, two-sided, held on findme."""
        reply = self.env.print_job("findme", pdf([True, False, True], tag), user=user,
                                   job_attrs=TWO_SIDED)
        assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        attrs = self.env.job("findme", _job_id(reply))
        assert (attrs["job-state"], attrs["job-state-reasons"]) == (
            4, "job-hold-until-specified"), attrs
        assert "lab-colour, lab-mono" in attrs["job-state-message"]
        return attrs

    def release(self, who: Client, attrs: dict[str, Any], printer: str,
                admin: bool = False) -> tuple[int, dict[str, Any]]:
        path = "/api/v1/jobs" if admin else "/api/v1/me/jobs"
        r = who.post(f"{path}/{uuid_of(attrs)}/release-to", json={"printer": printer})
        return r.status_code, r.json()

    def ledger(self, attrs: dict[str, Any]) -> list[tuple[int, str, str]]:
        return [(a, k, r) for a, _, k, r in self.env.ledger(uuid_of(attrs))]


def uuid_of(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("findme")
    dbus = PrivateDBus().start()
    colour = EvePrinter("FindMeColour", dbus=dbus, keep_files=True, spool_dir=base / "colour",
                        extra_args=("-s", "10,10"))
    mono = EvePrinter("FindMeMono", dbus=dbus, keep_files=True, spool_dir=base / "mono",
                      duplex=False, extra_args=("-s", "10,0"))
    try:
        colour.start()
        mono.start()
        proxy = IppProxy(base / "proxy", queues=[
            {"name": "lab-colour", "destination": colour.uri, "cost_model": "colour"},
            {"name": "lab-mono", "destination": mono.uri, "cost_model": "mono"},
            {"name": "elsewhere", "destination": colour.uri, "cost_model": "colour"},
            {"name": "findme", "destination": colour.uri,
             "findme_printers": ["lab-colour", "lab-mono"]},
            {"name": "findme-billed", "destination": colour.uri, "account_required": True,
             "findme_printers": ["lab-colour", "lab-mono"]}])
        proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
        with proxy:
            remember_certificate(proxy)
            env = Env(proxy)
            for name, balance in (("alice", "10.00"), ("bob", "10.00"), ("carol", "0.50")):
                env.cmd("add-internal-user", name, "--password-file", "-", "--group",
                        "staff", "--balance", balance, stdin=f"{name}-pw\n")
            yield Lab(env, colour, mono, login(proxy.https, "alice", "alice-pw"),
                      login(proxy.https, "bob", "bob-pw"),
                      login(proxy.https, "admin", first_password(proxy)))
            assert "Traceback" not in proxy.log(), proxy.log()[-3000:]
    finally:
        mono.stop()
        colour.stop()
        dbus.stop()


def printed(eve: EvePrinter, before: set[Path]) -> Path:
    """The one document the printer received since ``before`` (waited for, 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        new = [f for f in eve.spooled_files() if f.suffix != ".prn" and f not in before]
        if new:
            time.sleep(0.5)    # written whole once the job is processed
            return new[0]
        assert time.monotonic() < deadline, f"nothing printed on {eve.name}"
        time.sleep(0.2)


def colour_pages(path: Path) -> tuple[int, ...] | None:
    a = analyse(path, detect.detect_format(path.read_bytes()[:detect.HEAD_BYTES]))
    return a.colour_pages


def test_released_at_the_mono_printer_converted_and_priced_as_mono(lab: Lab) -> None:
    attrs = lab.held("to-mono")
    # reserved at the dearest printer: lab-colour, 2 x 0.50 + 0.10
    assert lab.ledger(attrs) == [(-110, "charge", "print job on lab-colour: 3 impressions")]
    mine = lab.alice.get(f"/api/v1/me/jobs/{uuid_of(attrs)}/release-to")
    assert mine.status_code == 200 and mine.json()["items"] == ["lab-colour", "lab-mono"]
    before = set(lab.mono.spooled_files())
    events = Stream(lab.alice)
    try:
        status, body = lab.release(lab.alice, attrs, "lab-mono")
        assert status == 200, body
        # the owner's client is told what was done for the printer (policy_events.py)
        told = events.next("policy", uuid_of(attrs), timeout=60,
                           where=lambda d: "grayscale" in d["actions"])
    finally:
        events.close()
    assert told["actions"] == ["grayscale", "one-sided"], told
    assert "released at lab-mono: converted to grayscale, printed one-sided" in told["message"]
    assert (body["before"], body["after"], body["grayscale"], body["one_sided"]) == (
        110, 15, True, True)
    assert body["job"]["printer"] == "lab-mono"
    assert body["job"]["message"] == ("released at lab-mono: converted to grayscale, printed "
                                      "one-sided")
    job_id = int(body["job"]["job_id"])
    # the refund of the colour difference: one row naming both printers
    rows = lab.ledger(attrs)
    assert [(a, k) for a, k, _ in rows] == [(-110, "charge"), (95, "refund")], rows
    assert "lab-colour" in rows[1][2] and "lab-mono" in rows[1][2] and "Find-Me" in rows[1][2]
    # the job that reached the printer is gray (the product's colour analysis of the file)
    assert colour_pages(printed(lab.mono, before)) == ()
    done = lab.env.wait_job("lab-mono", job_id, "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["ippproxy-cost-charged"] == "0.15 EUR"
    assert (done["print-color-mode"], done["sides"]) == ("monochrome", "one-sided")
    assert sum(a for a, _, _ in lab.ledger(attrs)) == -15


def test_released_at_the_colour_printer_priced_colour(lab: Lab) -> None:
    attrs = lab.held("to-colour")
    before = set(lab.colour.spooled_files())
    status, body = lab.release(lab.alice, attrs, "lab-colour")
    assert status == 200, body
    assert (body["before"], body["after"], body["grayscale"], body["one_sided"]) == (
        110, 110, False, False)
    assert colour_pages(printed(lab.colour, before)) == (1, 3)
    done = lab.env.wait_job("lab-colour", int(body["job"]["job_id"]), "ippproxy-cost-charged")
    assert done["ippproxy-cost-charged"] == "1.10 EUR" and done["sides"] == "two-sided-long-edge"
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]


def test_a_repeated_release_charges_once(lab: Lab) -> None:
    attrs = lab.held("twice")
    statuses: list[int] = []
    go = threading.Barrier(2)

    def release() -> None:
        go.wait()
        statuses.append(lab.release(lab.alice, attrs, "lab-mono")[0])

    threads = [threading.Thread(target=release) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(statuses) == [200, 409], statuses
    status, body = lab.release(lab.alice, attrs, "lab-mono")        # once more, later
    assert status == 409 and "released already" in body["detail"], body
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge"), (95, "refund")]


def test_bad_releases_leave_the_job_held(lab: Lab) -> None:
    attrs = lab.held("stay")
    for printer in ("elsewhere", "findme", "no-such-printer"):
        status, body = lab.release(lab.alice, attrs, printer)
        assert status == 422 and "lab-colour, lab-mono" in body["detail"], (printer, body)
    status, body = lab.release(lab.bob, attrs, "lab-mono")          # not bob's job
    assert status == 404, body
    assert lab.bob.get(f"/api/v1/me/jobs/{uuid_of(attrs)}/release-to").status_code == 404
    status, body = lab.release(lab.bob, attrs, "lab-mono", admin=True)   # no admin rights
    assert status == 403, body
    still = lab.env.job("findme", attrs["job-id"])
    assert (still["job-state"], still["job-state-reasons"]) == (4, "job-hold-until-specified")
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]
    # an ordinary job is no Find-Me job
    plain = lab.env.print_job("elsewhere", pdf([False], "plain"), user="alice")
    got = lab.env.job("elsewhere", _job_id(plain))
    assert lab.release(lab.alice, got, "lab-mono")[0] == 409
    # the admin's route releases anyone's job
    status, body = lab.release(lab.admin, attrs, "lab-mono", admin=True)
    assert status == 200 and body["job"]["printer"] == "lab-mono", body
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge"), (95, "refund")]


def test_ipp_release_job_is_not_possible_the_job_stays_held(lab: Lab) -> None:
    """A plain IPP Release-Job (or Hold-Job with no-hold) names no printer: a Find-Me job
    is released at a printer of its group, so the owner is told where, and it stays held
    with nothing more charged (before, it went to the queue's own destination)."""
    attrs = lab.held("ipp-release")
    job_id = [Attribute.single("job-id", Tag.INTEGER, attrs["job-id"])]
    before = set(lab.colour.spooled_files())
    for op, extra in ((Operation.RELEASE_JOB, []), (Operation.HOLD_JOB, [
            Attribute.single("job-hold-until", Tag.KEYWORD, "no-hold")])):
        status, reply = lab.env.request(op, "findme", user="alice", op_attrs=job_id + extra)
        assert status == 200 and reply is not None, status
        assert reply.code == Status.CLIENT_ERROR_NOT_POSSIBLE, (op, status_message(reply))
        message = status_message(reply)
        assert "Find-Me job: release it at a printer of lab-colour, lab-mono" in message
        assert "release station" in message
    # another user's Release-Job is refused as before (asked to authenticate: HTTP 401)
    status, _ = lab.env.request(Operation.RELEASE_JOB, "findme", user="bob", op_attrs=job_id)
    assert status == 401, status
    time.sleep(1)
    still = lab.env.job("findme", attrs["job-id"])
    assert (still["job-state"], still["job-state-reasons"]) == (4, "job-hold-until-specified")
    assert set(lab.colour.spooled_files()) == before
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]
    # released at a printer, it prints there
    status, body = lab.release(lab.alice, attrs, "lab-colour")
    assert status == 200 and body["job"]["printer"] == "lab-colour", body


def test_too_little_credit_for_the_dearest_printer_released_where_it_can_pay(lab: Lab) -> None:
    """carol has 0.50: the reservation at lab-colour (1.10) cannot be made, so the job is
    held for its payer (never refused); at lab-colour it stays held (409), at lab-mono
    (0.15) it is charged there and prints."""
    reply = lab.env.print_job("findme", pdf([True, False, True], "carol"), user="carol",
                              job_attrs=TWO_SIDED)
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    attrs = lab.env.job("findme", _job_id(reply))
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-limit-reached")
    carol = login(lab.env.proxy.https, "carol", "carol-pw")
    status, body = lab.release(carol, attrs, "lab-colour")
    assert status == 409 and "lab-colour" in body["detail"], body
    assert lab.env.job("findme", attrs["job-id"])["job-state"] == 4
    assert lab.ledger(attrs) == []
    before = set(lab.mono.spooled_files())
    status, body = lab.release(carol, attrs, "lab-mono")
    assert status == 200 and body["after"] == 15, body
    assert colour_pages(printed(lab.mono, before)) == ()
    done = lab.env.wait_job("lab-mono", int(body["job"]["job_id"]), "ippproxy-cost-charged")
    assert done["ippproxy-cost-charged"] == "0.15 EUR"
    rows = lab.ledger(attrs)
    assert [(a, k) for a, k, _ in rows] == [(-15, "charge")] and "lab-mono" in rows[0][2]


def test_a_findme_queue_made_over_the_api(lab: Lab) -> None:
    bad = lab.admin.post("/api/v1/queues", json={
        "name": "findme-bad", "destination": lab.mono.uri,
        "findme_printers": ["lab-mono", "nowhere"]})
    assert bad.status_code == 422 and "nowhere" in bad.text, bad.text
    r = lab.admin.post("/api/v1/queues", json={
        "name": "findme-api", "destination": lab.mono.uri, "findme_printers": ["lab-mono"]})
    assert r.status_code == 201 and r.json()["findme_printers"] == ["lab-mono"], r.text
    deadline = time.monotonic() + 30
    while True:     # served once this node took the catalog change
        reply = lab.env.print_job("findme-api", pdf([False], "api"), user="alice")
        if reply.code == Status.SUCCESSFUL_OK:
            break
        assert time.monotonic() < deadline, status_message(reply)
        time.sleep(0.5)
    attrs = lab.env.job("findme-api", _job_id(reply))
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "job-hold-until-specified")
    status, body = lab.release(lab.alice, attrs, "lab-colour")
    assert status == 422 and "lab-mono" in body["detail"], body


def test_the_account_answered_first_then_the_printer(lab: Lab) -> None:
    """On a Find-Me queue that needs an account, a job without one waits for it
    (account-info-needed): release-to is refused until the owner answers; the answer
    reserves at the dearest printer and the job stays held for its printer."""
    reply = lab.env.print_job("findme-billed", pdf([True, False, True], "billed"),
                              user="alice", job_attrs=TWO_SIDED)
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    attrs = lab.env.job("findme-billed", _job_id(reply))
    assert attrs["job-state-reasons"] == "account-info-needed", attrs
    status, body = lab.release(lab.alice, attrs, "lab-mono")
    assert status == 409 and "choose one first" in body["detail"], body
    r = lab.alice.post(f"/api/v1/me/jobs/{uuid_of(attrs)}/account", json={"account": None})
    assert r.status_code == 200 and r.json()["state"] == "pending-held", r.text
    held = lab.env.job("findme-billed", attrs["job-id"])
    assert held["job-state-reasons"] == "job-hold-until-specified", held
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]
    status, body = lab.release(lab.alice, attrs, "lab-mono")
    assert status == 200 and body["after"] == 15, body
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge"), (95, "refund")]


def _create_and_send(lab: Lab, *, last: bool) -> int:
    """Create-Job on the Find-Me queue, then Send-Document of a 3-page PDF (the middle page
    gray); the job-id."""
    reply = lab.env.request(Operation.CREATE_JOB, "findme", job_attrs=TWO_SIDED)[1]
    assert reply is not None and reply.code == Status.SUCCESSFUL_OK, reply
    job_id = _job_id(reply)
    _, sent = lab.env.request(Operation.SEND_DOCUMENT, "findme",
                              document=pdf([True, False, True], "sent"), op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, job_id),
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
        Attribute.single("last-document", Tag.BOOLEAN, last)])
    assert sent is not None and sent.code == Status.SUCCESSFUL_OK, sent
    return job_id


def test_a_create_job_and_send_document_job_is_held_and_converted(lab: Lab) -> None:
    """Create-Job then Send-Document: held like a Print-Job (the last document decides),
    and released at the mono printer its document is replaced by a gray one."""
    job_id = _create_and_send(lab, last=True)
    attrs = lab.env.job("findme", job_id)
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "job-hold-until-specified")
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]
    before = set(lab.mono.spooled_files())
    status, body = lab.release(lab.alice, attrs, "lab-mono")
    assert status == 200 and (body["after"], body["grayscale"]) == (15, True), body
    assert colour_pages(printed(lab.mono, before)) == ()
    lab.env.wait_job("lab-mono", int(body["job"]["job_id"]), "ippproxy-cost-charged")


def test_a_document_sent_not_last_then_close_job_is_held_and_charged(lab: Lab) -> None:
    """Send-Document with last-document=false, then Close-Job (RFC 8011 §4.3.1, PWG
    5100.18 §4.2): the document is metered when it arrives, not only when it is the last,
    so the job is held and charged like any other (it used to print for nothing)."""
    job_id = _create_and_send(lab, last=False)
    _, closed = lab.env.request(Operation.CLOSE_JOB, "findme", op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, job_id)])
    assert closed is not None and closed.code == Status.SUCCESSFUL_OK, closed
    attrs = lab.env.job("findme", job_id)
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "job-hold-until-specified")
    assert [(a, k) for a, k, _ in lab.ledger(attrs)] == [(-110, "charge")]
