"""A bounded fuzz run against a real ``ippproxy serve`` (issue 15 part 7).

Valid requests of the common operations are mutated from a fixed seed — bytes flipped or
replaced by boundary values, length fields made huge, slices cut, repeated or inserted,
request-ids and job ids at the edges of their ranges — and sent with a few HTTP-level
variants (paths with encoded CR/LF and backslashes, a false ``Content-Encoding``, an
``Expect: 100-continue``). Every answer must be an HTTP 4xx or HTTP 200 with an IPP status
other than ``server-error-internal-error``; never an HTTP 5xx. Afterwards the server still
prints, its log holds no traceback, and no log line was forged by a client's CR/LF.
``make test`` sends ``REQUESTS``; ``make soak`` ``SCALE`` times as many (marker soak).
"""

from __future__ import annotations

import asyncio
import random
import struct
from pathlib import Path

import aiohttp
import pytest
from support import soak
from support.server import IppProxy, tracebacks

from ippproxy.ipp import Attribute, Group, Message, Operation, Status, Tag, decode, encode

from .docs import make_pdf
from .ipp_client import build, print_job

SEED = 20261202
REQUESTS = 3000
CONCURRENCY = 4
FORGED = "FORGED-LOG-LINE"
BOUNDARY = (0x00, 0x01, 0x7F, 0x80, 0xFF)
PATHS = ("/printers/default", "/ipp/print", "/", "/admin", "/jobs/default/1",
         "/printers/default%0d%0a" + FORGED, "/jobs/default/%C2%B2",
         "/jobs/default/" + "9" * 40, "/printers/%00", "/printers/a%5Cb")


def _corpus(uri: str) -> list[bytes]:
    pdf = make_pdf("fuzz")
    op = Operation

    def req(code: int, *attrs: Attribute, doc: bytes = b"",
            groups: tuple[Group, ...] = ()) -> bytes:
        msg = build(code, uri, op_attrs=attrs)
        if groups:
            msg = Message(msg.version, msg.code, msg.request_id, msg.groups + groups)
        return encode(msg) + doc

    kw = Attribute.single
    return [
        req(op.GET_PRINTER_ATTRIBUTES, Attribute.multi("requested-attributes", Tag.KEYWORD,
                                                       ["all", "media-col-database"])),
        req(op.PRINT_JOB, kw("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
            kw("job-name", Tag.NAME, "fuzz"), doc=pdf),
        req(op.VALIDATE_JOB, kw("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")),
        req(op.CREATE_JOB, kw("job-name", Tag.NAME, "fuzz")),
        req(op.SEND_DOCUMENT, kw("job-id", Tag.INTEGER, 1), kw("last-document", Tag.BOOLEAN,
                                                               True), doc=pdf),
        req(op.GET_JOBS, kw("which-jobs", Tag.KEYWORD, "all"), kw("limit", Tag.INTEGER, 5)),
        req(op.GET_JOB_ATTRIBUTES, kw("job-id", Tag.INTEGER, 1)),
        req(op.CANCEL_JOB, kw("job-id", Tag.INTEGER, 2)),
        req(op.CREATE_PRINTER_SUBSCRIPTIONS, groups=(Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
            kw("notify-pull-method", Tag.KEYWORD, "ippget"),
            kw("notify-events", Tag.KEYWORD, "job-completed"))),)),
        req(op.GET_NOTIFICATIONS, Attribute.multi("notify-subscription-ids", Tag.INTEGER,
                                                  [1])),
    ]


def _mutate(rng: random.Random, body: bytes) -> bytes:
    b = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        kind = rng.randrange(8)
        i = rng.randrange(len(b))
        if kind == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            b[i] = rng.choice(BOUNDARY)
        elif kind == 2 and i + 2 <= len(b):     # a length field (or anything) made huge
            b[i:i + 2] = struct.pack(">H", rng.choice((0, 0x7FFF, 0x8000, 0xFFFF)))
        elif kind == 3:
            del b[i:]
        elif kind == 4:
            j = min(len(b), i + rng.randint(1, 64))
            b[i:i] = b[i:j] * rng.randint(1, 8)
        elif kind == 5:
            b[i:i] = rng.randbytes(rng.randint(1, 32))
        elif kind == 6 and len(b) >= 8:         # request-id at the edges of its range
            b[4:8] = struct.pack(">I", rng.choice((0, 2**31 - 1, 2**31, 2**32 - 1)))
        else:                                   # an integer value at its edges
            for tag_at in range(len(b) - 1):
                if b[tag_at] == Tag.INTEGER and rng.random() < 0.5 and tag_at + 5 < len(b):
                    n = struct.unpack(">H", b[tag_at + 1:tag_at + 3])[0]
                    end = tag_at + 3 + n + 2
                    if end + 4 <= len(b):
                        b[end:end + 4] = struct.pack(
                            ">i", rng.choice((0, -1, 2**31 - 1, -(2**31))))
                        break
    return bytes(b)


async def _run(port: int, corpus: list[bytes], n: int) -> dict[str, int]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(n):
        body = _mutate(rng, rng.choice(corpus))
        path = rng.choice(PATHS) if rng.random() < 0.2 else "/printers/default"
        headers = {"Content-Type": "application/ipp"}
        if rng.random() < 0.05:
            headers["Content-Encoding"] = "gzip"
        if rng.random() < 0.1:
            headers["Expect"] = "100-continue"
        cases.append((path, headers, body))
    seen: dict[str, int] = {}
    bad: list[str] = []
    sem = asyncio.Semaphore(CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", timeout=timeout,
                                     skip_auto_headers=("Content-Type",)) as session:
        async def one(i: int, path: str, headers: dict[str, str], body: bytes) -> None:
            async with sem:
                try:
                    async with session.post(path, data=body, headers=headers) as r:
                        data = await r.read()
                        key = f"http-{r.status}"
                        if r.status >= 500:
                            bad.append(f"case {i}: HTTP {r.status} on {path}")
                        elif r.status == 200:
                            code = decode(data).code
                            key = Status.keyword_of(code)
                            if code == Status.SERVER_ERROR_INTERNAL_ERROR:
                                bad.append(f"case {i}: internal error on {path}: {body[:64]!r}")
                except aiohttp.ClientError as e:
                    key = type(e).__name__   # the server closed a broken request: allowed
                seen[key] = seen.get(key, 0) + 1
        await asyncio.gather(*(one(i, *c) for i, c in enumerate(cases)))
    assert not bad, bad[:10]
    return seen


async def _forge(port: int) -> None:
    """A client mistake whose path carries CR/LF: logged, with CR/LF escaped."""
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{port}/printers/x%0d%0a{FORGED}%0a", data=b"\x1f\x8bnot gzip",
            headers={"Content-Type": "application/ipp", "Content-Encoding": "gzip"}) as r:
        assert r.status == 400


def _fuzz(tmp_path: Path, n: int) -> None:
    # The per-user job cap (server.max_jobs_per_user) is tested in tests/server/test_caps.py;
    # here the mutations' jobs (alice's) must not use it up before the last print.
    with IppProxy(tmp_path, server={"header_timeout": 5.0,
                                    "max_jobs_per_user": 1_000_000}) as server:
        asyncio.run(_forge(server.port))    # first, before the log's rate limit is spent
        seen = asyncio.run(_run(server.port, _corpus(server.uri()), n))
        assert sum(seen.values()) == n
        assert len(seen) > 5, seen          # the mutations reach many different answers
        print_job(server.port, server.uri(), make_pdf("after the fuzz"))
        log = server.log()
    assert not tracebacks(log), log[-3000:]
    assert not any(line.startswith(FORGED) for line in log.splitlines())
    assert f"\\r\\n{FORGED}\\n" in log     # logged (within the rate limit), escaped
    assert "internal error" not in log


def test_fuzz_bounded(tmp_path: Path) -> None:
    _fuzz(tmp_path, REQUESTS)


@pytest.mark.soak
def test_fuzz_soak(tmp_path: Path) -> None:
    _fuzz(tmp_path, REQUESTS * soak.SCALE)
