"""``authentication = "popup"``: the identity popup goes to the clients at the job's network
address (issue 17 point 1; the seed's "unauthenticated printer" asks the user client on
the computer that sent the job). The real ``ippproxy serve``; "computers" are loopback
addresses: a Print-Job and event streams bound to 127.0.0.2 or 127.0.0.3 come from another
computer than 127.0.0.1 (the server sees each socket's peer). Android sends the phone's
model as requesting-user-name: nobody of that name has a client, yet the person at that
computer is asked; a client of another user at another address never is, nor may it
answer."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.server import IppProxy
from support.webapi import Client, from_address, login, remember_certificate

from ippproxy.ipp import Attribute, Operation, Status, Tag

from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

# What a person at that computer sees: the job's name, pages, printer and time.
SHOWN = {"uuid", "job_id", "printer", "name", "pages", "created_at", "state", "reasons",
         "deadline"}
PHONE = "127.0.0.2"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    proxy = IppProxy(tmp_path_factory.mktemp("popupaddress"), queues=[
        {"name": "open"},
        {"name": "walkup", "cost_model": "colour", "authentication": "popup"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        remember_certificate(proxy)
        e = Env(proxy)
        for name in ("alice", "bob", "carol"):
            e.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                  "--balance", "10.00", stdin=f"{name}-pw\n")
        yield e
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _uuid(attrs: dict[str, Any]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


def _at(env: Env, user: str, address: str | None = None) -> Client:
    return login(env.proxy.https, user, f"{user}-pw",
                 from_address(address) if address else None)


def _send(env: Env, tag: str, claimed: str, source: str) -> dict[str, Any]:
    _, reply = env.request(Operation.PRINT_JOB, "walkup", user=claimed,
                           document=pdf([False], tag), source=source, op_attrs=[
                               Attribute.single("job-name", Tag.NAME, tag),
                               Attribute.single("document-format", Tag.MIME_MEDIA_TYPE,
                                                "application/pdf")])
    assert reply is not None and reply.code == Status.SUCCESSFUL_OK, reply
    attrs = env.job("walkup", _job_id(reply))
    assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "ippproxy-identity-needed")
    return attrs


def _never(stream: Stream, uuid: str, seconds: float) -> None:
    """No identity-needed event for ``uuid`` arrives on ``stream`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            kind, data = stream.events.get(timeout=left)
        except queue.Empty:
            return
        assert not (kind == "identity-needed" and data.get("uuid") == uuid), data


def _identify(who: Client, attrs: dict[str, Any], name: str, password: str
              ) -> tuple[int, dict[str, Any]]:
    r = who.post(f"/api/v1/me/jobs/{_uuid(attrs)}/identity",
                 json={"username": name, "password": password})
    return r.status_code, r.json()


def test_only_the_client_at_the_jobs_address_is_asked(env: Env) -> None:
    carol = _at(env, "carol", PHONE)             # logged in on the computer that prints
    bob = _at(env, "bob")                        # another user at another computer
    near, far, elsewhere = Stream(carol), Stream(bob), Stream(_at(env, "carol"))
    try:
        attrs = _send(env, "from-the-phone", "Pixel 7", PHONE)   # a made-up user name
        asked = near.next("identity-needed", _uuid(attrs), 30)
        assert set(asked) == SHOWN, asked          # no price, account or message
        assert (asked["printer"], asked["job_id"]) == ("walkup", attrs["job-id"])
        assert asked["name"] == "from-the-phone" and asked["deadline"]
        _never(far, _uuid(attrs), 3)
        _never(elsewhere, _uuid(attrs), 0.5)     # carol's own client at another computer
    finally:
        for s in (near, far, elsewhere):
            s.close()
    # bob is neither the claimed user nor at that address: the job is not his to answer
    status, body = _identify(bob, attrs, "bob", "bob-pw")
    assert status == 404 and body["status"] == 404 and "job" in body["detail"], body
    status, body = _identify(carol, attrs, "alice", "wrong")
    assert status == 403 and "wrong name or password" in body["detail"], body
    assert env.job("walkup", attrs["job-id"])["job-state-reasons"] == \
        "ippproxy-identity-needed"
    assert env.ledger(_uuid(attrs)) == []
    # alice, at carol's computer, types her name and password: the job is hers and she pays
    status, body = _identify(carol, attrs, "alice", "alice-pw")
    assert status == 200, body
    done = env.wait_job("walkup", attrs["job-id"], "ippproxy-cost-charged")
    assert done["job-state"] == 9 and done["job-originating-user-name"] == "alice"
    assert [(a, k) for a, _, k, _ in env.ledger(_uuid(attrs))] == [(-15, "charge")]
    status, body = _identify(carol, attrs, "alice", "alice-pw")   # twice: too late
    assert status == 409, body


def test_the_claimed_users_client_elsewhere_is_asked_too(env: Env) -> None:
    alice = _at(env, "alice")                    # the claimed user, at 127.0.0.1
    carol = _at(env, "carol", PHONE)             # at the computer that printed
    bob = _at(env, "bob")                        # neither
    streams = {who: Stream(c) for who, c in (("alice", alice), ("carol", carol),
                                             ("bob", bob))}
    try:
        attrs = _send(env, "claimed-alice", "alice", PHONE)
        for who in ("alice", "carol"):
            assert set(streams[who].next("identity-needed", _uuid(attrs), 30)) == SHOWN
        _never(streams["bob"], _uuid(attrs), 3)
    finally:
        for s in streams.values():
            s.close()
    status, body = _identify(bob, attrs, "bob", "bob-pw")
    assert status == 404, body
    status, body = _identify(alice, attrs, "alice", "alice-pw")   # from elsewhere: her name
    assert status == 200, body


def test_a_client_connecting_later_at_that_address_is_asked(env: Env) -> None:
    attrs = _send(env, "before-anyone", "Galaxy S23", "127.0.0.3")
    late, other = Stream(_at(env, "carol", "127.0.0.3")), Stream(_at(env, "bob", PHONE))
    try:
        asked = late.next("identity-needed", _uuid(attrs), 30)
        assert asked["name"] == "before-anyone"
        _never(other, _uuid(attrs), 3)
    finally:
        late.close()
        other.close()
