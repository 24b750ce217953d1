"""Personal printer URLs end to end (issue 17): the real ``ippproxy serve`` with queues that
take ``authentication = "token"``; alice makes a URL through ``/api/v1/me/printer-urls``
(logged in as herself), prints to ``/printers/mine/u/SECRET`` over IPPS and owns the job
whatever ``requesting-user-name`` says; bob cannot touch her URLs; a revoked URL is 401;
plain ``ipp://`` is refused unless the queue allows it; a queue without tokens serves none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.server import IppProxy
from support.webapi import Client, login, remember_certificate

from ippproxy.ipp import Attribute, Message, Operation, Status, Tag, decode, encode

from .ipp_client import build, status_message
from .test_accounting_e2e import EXTRA, Env, pdf
from .wire import http_exchange, post_request


class Urls:
    def __init__(self, env: Env, alice: Client, bob: Client) -> None:
        self.env, self.alice, self.bob = env, alice, bob


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Urls]:
    proxy = IppProxy(tmp_path_factory.mktemp("urls"), queues=[
        {"name": "open"},   # first: the start-up probe asks it without credentials
        {"name": "mine", "cost_model": "colour", "authentication": "token"},
        {"name": "plainok", "authentication": "token", "token_over_ipp": True}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        for name in ("alice", "bob"):
            env.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                    "--balance", "10.00", stdin=f"{name}-pw\n")
        yield Urls(env, login(proxy.https, "alice", "alice-pw"),
                   login(proxy.https, "bob", "bob-pw"))
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _send(env: Env, op: int, path: str, *, tls: bool = True, document: bytes = b"",
          user: str = "mallory", extra: list[Attribute] | None = None,
          queue: str = "mine") -> tuple[int, Message | None]:
    msg = build(op, f"ipps://{env.proxy.authority}/printers/{queue}", user=user,
                op_attrs=extra or [])
    raw = post_request(encode(msg) + document, path, env.proxy.port)
    resp = http_exchange(env.proxy.port, raw, timeout=120, tls=tls)
    return resp.status, decode(resp.body) if resp.status == 200 else None


def _make(client: Client, name: str) -> dict[str, Any]:
    r = client.post("/api/v1/me/printer-urls", json={"name": name})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_personal_url_prints_as_its_owner_until_revoked(urls: Urls) -> None:
    env = urls.env
    made = _make(urls.alice, "phone")
    secret = made["secret"]
    assert made["name"] == "phone" and made["revoked_at"] is None
    assert made["urls"] == [f"ipps://{env.proxy.authority}/printers/{q}/u/{secret}"
                            for q in ("mine", "plainok")]
    path = f"/printers/mine/u/{secret}"
    fmt = Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/octet-stream")
    status, reply = _send(env, Operation.PRINT_JOB, path, document=pdf([False], "url"),
                          extra=[fmt])
    assert status == 200 and reply is not None and reply.code == Status.SUCCESSFUL_OK, (
        status, reply and status_message(reply))
    job_id = reply.get(Tag.JOB_ATTRIBUTES, "job-id")
    assert job_id is not None
    # The client follows its job through the same URL (printer-uri + job-id).
    status, got = _send(env, Operation.GET_JOB_ATTRIBUTES, path, extra=[
        Attribute.single("job-id", Tag.INTEGER, job_id.value),
        Attribute.single("requested-attributes", Tag.KEYWORD, "job-originating-user-name")])
    assert status == 200 and got is not None and got.code == Status.SUCCESSFUL_OK
    owner = got.get(Tag.JOB_ATTRIBUTES, "job-originating-user-name")
    assert owner is not None and owner.value == "alice"
    listed = urls.alice.get("/api/v1/me/printer-urls").json()["items"]
    assert [u["id"] for u in listed if u["name"] == "phone"] == [made["id"]]
    assert all("secret" not in u for u in listed)
    r = urls.alice.request("DELETE", f"/api/v1/me/printer-urls/{made['id']}")
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    status, _ = _send(env, Operation.PRINT_JOB, path, document=pdf([False], "gone"),
                      extra=[fmt])
    assert status == 401


def test_no_url_no_job_and_the_wrong_transport_or_queue(urls: Urls) -> None:
    env = urls.env
    secret = _make(urls.alice, "laptop")["secret"]
    gpa = Operation.GET_PRINTER_ATTRIBUTES
    assert _send(env, gpa, "/printers/mine")[0] == 401            # a token queue: proof needed
    assert _send(env, gpa, "/printers/mine/u/ipxu_madeup")[0] == 401
    assert _send(env, gpa, f"/printers/mine/u/{secret}x")[0] == 401
    assert _send(env, gpa, f"/printers/mine/u/{secret}", tls=False)[0] == 426
    status, reply = _send(env, gpa, f"/printers/plainok/u/{secret}", tls=False,
                          queue="plainok")
    assert status == 200 and reply is not None and reply.code == Status.SUCCESSFUL_OK
    # Posted to the plain-allowed queue's URL, naming the TLS-only queue: refused.
    assert _send(env, gpa, f"/printers/plainok/u/{secret}", tls=False)[0] == 426
    assert _send(env, gpa, f"/printers/open/u/{secret}", queue="open")[0] == 404
    status, reply = _send(env, gpa, f"/printers/mine/u/{secret}")
    assert status == 200 and reply is not None
    offered = reply.get(Tag.PRINTER_ATTRIBUTES, "printer-uri-supported")
    assert offered is not None and offered.plain == [
        f"ipps://{env.proxy.authority}/printers/mine"]


def test_nobody_else_sees_or_revokes_a_users_urls(urls: Urls) -> None:
    made = _make(urls.alice, "tablet")
    r = urls.bob.request("DELETE", f"/api/v1/me/printer-urls/{made['id']}")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith(
        "application/problem+json"), r.text
    assert made["id"] not in {u["id"] for u in
                              urls.bob.get("/api/v1/me/printer-urls").json()["items"]}
    assert urls.alice.get("/api/v1/me/printer-urls").status_code == 200
    anonymous = Client(urls.alice.base)
    assert anonymous.get("/api/v1/me/printer-urls").status_code == 401
    r = urls.alice.post("/api/v1/me/printer-urls", json={"name": ""})
    assert r.status_code == 422
    no_csrf = Client(urls.alice.base, cookie=urls.alice.cookie)
    assert no_csrf.post("/api/v1/me/printer-urls", json={"name": "x"}).status_code == 403
