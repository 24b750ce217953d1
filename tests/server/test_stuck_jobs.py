"""A Create-Job job whose Send-Document fails is aborted at once with a reason (issue 15
part 8), instead of staying pending with ``job-incoming`` until multiple-operation-time-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag, encode

from .client import Ipp, a, status, value
from .conftest import Started

J = Tag.JOB_ATTRIBUTES
PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")
ABORTED = 8


async def _create(ipp: Ipp) -> int:
    m = await ipp.call(Op.CREATE_JOB, a("job-name", Tag.NAME, "one doc"))
    assert status(m) == "successful-ok"
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    return job_id


async def _state(ipp: Ipp, job_id: int) -> tuple[object, list[object], object]:
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    reasons = m.get(J, "job-state-reasons")
    return (value(m, J, "job-state"), [] if reasons is None else list(reasons.plain),
            value(m, J, "job-state-message"))


async def test_a_refused_send_document_aborts_the_job(start_proxy: Started, pdf: bytes) -> None:
    ipp = await start_proxy(max_document_bytes=len(pdf) // 2)
    job_id = await _create(ipp)
    m = await ipp.call(Op.SEND_DOCUMENT, a("job-id", Tag.INTEGER, job_id), PDF_FMT,
                       a("last-document", Tag.BOOLEAN, True), data=pdf)
    assert status(m) == "client-error-request-entity-too-large"
    state, reasons, msg = await _state(ipp, job_id)
    assert state == ABORTED
    assert "submission-interrupted" in reasons and "job-incoming" not in reasons
    assert isinstance(msg, str) and msg.startswith("Send-Document failed")


async def test_a_send_document_that_breaks_off_aborts_the_job(ipp: Ipp, pdf: bytes) -> None:
    job_id = await _create(ipp)
    head = encode(ipp.request(Op.SEND_DOCUMENT, a("job-id", Tag.INTEGER, job_id), PDF_FMT,
                              a("last-document", Tag.BOOLEAN, True)))

    async def body() -> AsyncIterator[bytes]:
        yield head + pdf[:20]
        await asyncio.sleep(0.3)
        raise ConnectionResetError("client gives up")

    try:
        async with ipp.session.post(f"{ipp.base}/printers/{ipp.queue}", data=body(),
                                    headers={"Content-Type": "application/ipp"}) as r:
            await r.read()
    except (aiohttp.ClientError, ConnectionError):
        pass
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (await _state(ipp, job_id))[0] != ABORTED and loop.time() < deadline:
        await asyncio.sleep(0.1)
    state, reasons, _msg = await _state(ipp, job_id)
    assert state == ABORTED and "submission-interrupted" in reasons
