"""HTTP-level behaviour: keep-alive, broken HTTP, slow clients, the internal-error guard,
and an injected policy (allow / hold / deny)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

import pytest

from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Status, Tag, decode, encode
from ippproxy.jobs.spool import Spool
from ippproxy.policies import Decision, JobFacts

from .client import Ipp, a, message, status, value
from .conftest import Started

PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")


async def _raw(port: int, data: bytes, read_until_close: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        async with asyncio.timeout(10):
            out = await reader.read() if read_until_close else await reader.read(65536)
    finally:
        writer.close()
    return out


def _port(ipp: Ipp) -> int:
    return int(ipp.authority.rsplit(":", 1)[1])


async def test_keep_alive_serves_many_requests_on_one_connection(ipp: Ipp) -> None:
    body = encode(ipp.request(Op.GET_PRINTER_ATTRIBUTES,
                              a("requested-attributes", Tag.KEYWORD, "printer-state")))
    head = (f"POST /printers/default HTTP/1.1\r\nHost: {ipp.authority}\r\n"
            f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", _port(ipp))
    try:
        for _ in range(3):
            writer.write(head + body)
            status_line = await reader.readline()
            assert status_line.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reply = decode(await reader.readexactly(length))
            assert reply.code == Status.SUCCESSFUL_OK
    finally:
        writer.close()


async def test_broken_http_gets_http_400(ipp: Ipp) -> None:
    body = encode(ipp.request(Op.GET_PRINTER_ATTRIBUTES))
    head = (f"POST /printers/default HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    assert (await _raw(_port(ipp), head + body, True)).startswith(b"HTTP/1.1 400")
    # Expect: 100-continue with the wrong type is refused before the body is sent.
    head = (b"POST /printers/default HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Expect: 100-continue\r\nContent-Length: 10\r\n\r\n")
    assert (await _raw(_port(ipp), head)).startswith(b"HTTP/1.1 400")
    # A truncated IPP message is an IPP error, with the request-id echoed.
    cut = body[:20]
    head = (f"POST /printers/default HTTP/1.1\r\nHost: x\r\nContent-Type: application/ipp\r\n"
            f"Content-Length: {len(cut)}\r\nConnection: close\r\n\r\n").encode()
    reply = await _raw(_port(ipp), head + cut, True)
    assert reply.startswith(b"HTTP/1.1 200")
    m = decode(reply.split(b"\r\n\r\n", 1)[1])
    assert m.code == Status.CLIENT_ERROR_BAD_REQUEST and m.request_id == decode(body).request_id


async def test_undecodable_attributes_answered_with_the_header_echoed(ipp: Ipp) -> None:
    # RFC 8010 §3.1.1 / RFC 8011 §4.1.1: the error answer echoes the request-id, read by the
    # decoder as the SIGNED-INTEGER it is (here with the top bit set), and the version.
    charset = bytes([0x47, 0, 18]) + b"attributes-charset" + bytes([0, 5]) + b"utf-8"
    negative = bytes([0x44, 0, 4]) + b"name" + bytes([0xFF, 0xFF])   # value length -1
    for version, answered in (((2, 0), (2, 0)), ((1, 1), (1, 1)), ((9, 9), (1, 1))):
        body = (bytes([*version]) + int(Op.GET_PRINTER_ATTRIBUTES).to_bytes(2, "big")
                + bytes([0x80, 0, 0, 7, 0x01]) + charset + negative + b"\x03")
        head = (f"POST /printers/default HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        reply = await _raw(_port(ipp), head + body, True)
        assert reply.startswith(b"HTTP/1.1 200")
        raw = reply.split(b"\r\n\r\n", 1)[1]
        assert raw[4:8] == bytes([0x80, 0, 0, 7])
        m = decode(raw)
        assert m.version == answered and m.request_id == -0x7FFFFFF9
        assert m.code == Status.CLIENT_ERROR_BAD_REQUEST
        assert "negative value length" in message(m)


async def test_slow_client_is_cut_off(start_proxy: Started) -> None:
    ipp = await start_proxy(header_timeout=0.3)
    body = encode(ipp.request(Op.GET_PRINTER_ATTRIBUTES))
    head = (f"POST /printers/default HTTP/1.1\r\nHost: x\r\nContent-Type: application/ipp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    reply = await _raw(_port(ipp), head + body[:10], True)    # and then nothing
    assert reply.startswith(b"HTTP/1.1 408")
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD,
                                                   "printer-state"))
    assert status(m) == "successful-ok"


class Rules:
    """A policy (``decide(JobFacts) -> Decision``): deny "mallory", hold "holly"'s jobs
    for an account, raise for "boom"."""

    name = "test-rules"

    def __init__(self) -> None:
        self.seen: list[JobFacts] = []

    def decide(self, job: JobFacts) -> Decision:
        self.seen.append(job)
        if job.user == "boom":
            raise RuntimeError("policy bug")
        if job.user == "mallory":
            return Decision.deny("printing quota used", "allowed-users")
        if job.user == "holly":
            return Decision.hold("choose an account", keyword="account-info-needed")
        return Decision.allow()


async def test_policy_allow_hold_deny_and_guard(start_proxy: Started, pdf: bytes,
                                                tmp_path: Path) -> None:
    rules = Rules()
    ipp = await start_proxy(policies=(rules,))
    spool = Spool(tmp_path / "spool", 1 << 30)
    # Larger than storage.copy_max_bytes: the document is a spool file from the start.
    doc = pdf + b"%" + b"x" * 100_000 + b"\n"
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc, user="holly")
    assert status(m) == "successful-ok"
    assert value(m, Tag.JOB_ATTRIBUTES, "job-state") == 4
    assert value(m, Tag.JOB_ATTRIBUTES, "job-state-reasons") == "account-info-needed"
    facts = rules.seen[-1]
    assert (facts.user, facts.printer, facts.size) == ("holly", ipp.queue, len(doc))
    assert facts.sha256 == hashlib.sha256(doc).hexdigest() and facts.job_uuid
    kept = spool.names()
    assert len(kept) == 1                                       # the held job's document
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc + b"%2\n", user="mallory")
    assert status(m) == "client-error-not-authorized" and message(m) == "printing quota used"
    assert rules.seen[-1].user == "mallory"
    assert spool.names() == kept                                # the refused file is gone
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc + b"%3\n", user="boom")
    assert status(m) == "server-error-internal-error"
    assert "Traceback" not in message(m) and "policy bug" not in message(m)
    assert spool.names() == kept                                # and so is this one
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD,
                                                   "queued-job-count"))
    assert status(m) == "successful-ok"
    assert value(m, Tag.PRINTER_ATTRIBUTES, "queued-job-count") == 1
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf, user="alice")
    assert status(m) == "successful-ok"
    assert value(m, Tag.JOB_ATTRIBUTES, "job-state") != 4        # allowed: not held
    assert rules.seen[-1].user == "alice"


async def test_client_gone_mid_document_creates_no_job(
        ipp: Ipp, pdf: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ippproxy.server.http")
    body = encode(ipp.request(Op.PRINT_JOB, PDF_FMT)) + pdf
    for framing in ("length", "chunked"):
        if framing == "length":
            head = (f"POST /printers/default HTTP/1.1\r\nHost: x\r\n"
                    f"Content-Type: application/ipp\r\nContent-Length: {len(body) + 100000}"
                    f"\r\n\r\n").encode()
            data = head + body
        else:
            head = (b"POST /printers/default HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/ipp\r\nTransfer-Encoding: chunked\r\n\r\n")
            data = head + b"%x\r\n" % len(body) + body + b"\r\n"
        _, writer = await asyncio.open_connection("127.0.0.1", _port(ipp))
        writer.write(data)
        await writer.drain()
        writer.close()                       # gone before the document is complete
        await writer.wait_closed()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while sum("broke off" in r.message for r in caplog.records) < 2:   # both noticed
        assert loop.time() < deadline, caplog.text
        await asyncio.sleep(0.02)
    assert "internal error" not in caplog.text
    m = await ipp.call(Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "all"))
    assert status(m) == "successful-ok"
    assert m.groups_of(Tag.JOB_ATTRIBUTES) == []
