"""Hostile input found by probing (issue 15 part 7): each gets an HTTP 4xx or the right IPP
status, never an HTTP 500 or ``server-error-internal-error``, and no traceback in the log."""

from __future__ import annotations

import asyncio
import gzip
import logging
import struct

import pytest

from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Status, Tag, decode, encode
from ippproxy.server import clientlog

from .client import Ipp, a, status

# 4,300 digits make the URI longer than a uri may be (RFC 8011 §5.1.6): value-too-long
NOT_A_JOB = ("client-error-not-found", "client-error-bad-request",
             "client-error-request-value-too-long")


async def _raw(ipp: Ipp, body: bytes, path: str = "/printers/default",
               headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    h = {"Content-Type": "application/ipp", **(headers or {})}
    async with ipp.session.post(ipp.base + path, data=body, headers=h) as r:
        return r.status, await r.read()


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for rec in caplog.records:
        assert rec.exc_info is None, rec.getMessage()
        assert "Traceback" not in rec.getMessage()


async def test_undecodable_request_with_a_large_request_id(
        ipp: Ipp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for request_id in (2**31, 2**32 - 1):
        # version 2.0, Get-Printer-Attributes, the request-id, then a bad delimiter tag
        body = struct.pack(">bbhI", 2, 0, Op.GET_PRINTER_ATTRIBUTES, request_id) + b"\x09\xff"
        code, reply = await _raw(ipp, body)
        assert code == 200
        m = decode(reply)
        assert m.code == Status.CLIENT_ERROR_BAD_REQUEST
    _no_traceback(caplog)


@pytest.mark.parametrize("job", [str(2**63), str(2**31), "\u00b2", "1" * 4300, "0" * 20 + "1"])
async def test_hostile_job_ids_in_a_job_uri(
        ipp: Ipp, job: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    uri = f"ipp://{ipp.authority}/jobs/default/{job}"
    msg = ipp.request(Op.GET_JOB_ATTRIBUTES, a("job-uri", Tag.URI, uri), target=False)
    code, reply = await _raw(ipp, encode(msg))
    assert code == 200
    assert status(decode(reply)) in NOT_A_JOB
    for expect in ({}, {"Expect": "100-continue"}):
        code, reply = await _raw(ipp, encode(msg), path=f"/jobs/default/{job}",
                                 headers=expect)
        assert code in (200, 400, 404), code
        if code == 200:
            assert status(decode(reply)) in NOT_A_JOB
    _no_traceback(caplog)


async def test_a_bogus_gzip_body_is_400(ipp: Ipp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    msg = encode(ipp.request(Op.GET_PRINTER_ATTRIBUTES))
    code, _ = await _raw(ipp, msg, headers={"Content-Encoding": "gzip"})
    assert code == 400
    code, reply = await _raw(ipp, gzip.compress(msg), headers={"Content-Encoding": "gzip"})
    assert code == 200 and status(decode(reply)) == "successful-ok"
    _no_traceback(caplog)


MALFORMED = (b"GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n",
             b"POST /printers/default HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
             b"GET / HTTP/9.9.9\r\n\r\n",
             b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
             b"GET /\r\x1b[2J HTTP/1.1\r\n\r\n")


async def _send_raw(ipp: Ipp, data: bytes) -> bytes:
    host, port = ipp.authority.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(1024), 5)
    finally:
        writer.close()


async def test_malformed_requests_log_one_line_each_without_traceback(
        ipp: Ipp, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    monkeypatch.setattr(clientlog.MISTAKES, "_start", float("-inf"))
    for data in MALFORMED:
        answer = await _send_raw(ipp, data)
        assert answer.startswith(b"HTTP/1.") and answer.split()[1][:1] in b"34", answer
    _no_traceback(caplog)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("aiohttp")]
    assert lines and all(m.startswith("malformed request from 127.0.0.1") for m in lines)
    assert all("\n" not in m and "\r" not in m and "\x1b" not in m for m in lines)


async def test_malformed_requests_are_logged_within_a_rate_limit(
        ipp: Ipp, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp")
    # a fresh window, whatever the tests before spent of the process-wide one
    monkeypatch.setattr(clientlog.MISTAKES, "_start", float("-inf"))
    for _ in range(3 * clientlog.BURST):
        await _send_raw(ipp, MALFORMED[1])
    lines = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert len(lines) == clientlog.BURST
