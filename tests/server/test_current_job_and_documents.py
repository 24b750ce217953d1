"""Cancel-Current-Job and Pause-Printer-After-Current-Job (RFC 3998), Get-Documents and
Get-Document-Attributes (PWG 5100.5), over real IPP.

The "current job" is made real: the queue forwards to a virtual printer that is jammed, so
the job it was handed stays processing there until it is canceled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ippproxy.config import QueueConfig
from ippproxy.ipp import Message, Tag
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, status, value
from .conftest import Started, make_config
from .test_server_flow import PDF_FMT, wait_state

J, P, D = Tag.JOB_ATTRIBUTES, Tag.PRINTER_ATTRIBUTES, Tag.DOCUMENT_ATTRIBUTES


async def _printer_state(ipp: Ipp) -> tuple[object, list[object]]:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD,
                                                    "printer-state", "printer-state-reasons"))
    reasons = m.get(P, "printer-state-reasons")
    return value(m, P, "printer-state"), list(reasons.plain) if reasons else []


async def _print(ipp: Ipp, pdf: bytes, *attrs: object) -> int:
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, *attrs, data=pdf)  # type: ignore[arg-type]
    assert status(m) == "successful-ok", m
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    return job_id


async def test_cancel_current_job_and_pause_after_it(
        start_proxy: Started, virtual_printer: object, tmp_path: Path, pdf: bytes) -> None:
    vp = await virtual_printer()  # type: ignore[operator]
    ipp = await start_proxy(make_config(tmp_path, queues=(
        QueueConfig("vp", destination=vp.uri),)))
    admin = await ipp.admin()
    # No job under way: nothing to cancel.
    m = await admin.call(Op.CANCEL_CURRENT_JOB)
    assert status(m) == "client-error-not-possible"
    await vp.set_state("jam")
    job_id = await _print(ipp, pdf)
    assert await wait_state(ipp, job_id, {5, 6}) in (5, 6)
    waiting = await _print(ipp, pdf)                  # behind it, not yet current

    # Operators only (RFC 3998): a claimed name is not enough.
    code, _, reply = await ipp.exchange(Op.CANCEL_CURRENT_JOB, user="root")
    assert code == 401 and reply is not None and status(reply) == \
        "client-error-not-authenticated"
    m = await admin.call(Op.PAUSE_PRINTER_AFTER_CURRENT_JOB)
    assert status(m) == "successful-ok"
    # The job under way goes on: the queue is moving to paused, not yet stopped.
    p_state, reasons = await _printer_state(ipp)
    assert p_state == 4 and "moving-to-paused" in reasons and "paused" not in reasons

    m = await admin.call(Op.CANCEL_CURRENT_JOB, a("job-id", Tag.INTEGER, waiting))
    assert status(m) == "client-error-not-possible"            # not the current job
    m = await admin.call(Op.CANCEL_CURRENT_JOB)
    assert status(m) == "successful-ok"
    assert await wait_state(ipp, job_id, {7}) == 7
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    job_reasons = m.get(J, "job-state-reasons")
    assert job_reasons is not None and "job-canceled-by-operator" in job_reasons.plain

    # Paused after it: the next job is not started, and the queue now reports paused.
    await asyncio.sleep(0.5)
    assert await wait_state(ipp, waiting, {3}) == 3
    p_state, reasons = await _printer_state(ipp)
    assert p_state == 5 and "paused" in reasons and "moving-to-paused" not in reasons
    m = await admin.call(Op.CANCEL_CURRENT_JOB)
    assert status(m) == "client-error-not-possible"            # nothing under way now


async def _documents(ipp: Ipp, job_id: int, *attrs: object) -> Message:
    return await ipp.call(Op.GET_DOCUMENTS, a("job-id", Tag.INTEGER, job_id),
                          *attrs)  # type: ignore[arg-type]


async def test_get_documents_and_document_attributes(ipp: Ipp, pdf: bytes) -> None:
    job_id = await _print(ipp, pdf, a("document-name", Tag.NAME, "budget.pdf"))
    assert await wait_state(ipp, job_id, {9}) == 9
    m = await _documents(ipp, job_id)
    groups = m.groups_of(D)
    assert status(m) == "successful-ok" and len(groups) == 1
    assert [x.name for x in groups[0].attributes] == ["document-number"]   # the default
    m = await _documents(ipp, job_id, a("requested-attributes", Tag.KEYWORD, "all"))
    doc = {x.name: x.value for x in m.groups_of(D)[0].attributes}
    assert doc["document-number"] == 1 and doc["document-job-id"] == job_id
    assert doc["document-state"] == 9 and doc["last-document"] is True
    assert doc["document-format"] == "application/pdf"
    assert doc["document-name-supplied"] == "budget.pdf"
    assert doc["document-job-uri"] == f"ipp://{ipp.authority}/jobs/default/{job_id}"
    assert doc["k-octets"] == (len(pdf) + 1023) // 1024

    number = a("document-number", Tag.INTEGER, 1)
    m = await ipp.call(Op.GET_DOCUMENT_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id), number,
                       a("requested-attributes", Tag.KEYWORD, "document-state", "k-octets"))
    assert status(m) == "successful-ok"
    assert [x.name for x in m.groups_of(D)[0].attributes] == ["document-state", "k-octets"]
    # Another user does not see the document's name (the queue keeps jobs private).
    m = await ipp.call(Op.GET_DOCUMENT_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id), number,
                       user="mallory")
    names = {x.name for x in m.groups_of(D)[0].attributes}
    assert "document-name-supplied" not in names and "document-state" in names

    m = await ipp.call(Op.GET_DOCUMENT_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                       a("document-number", Tag.INTEGER, 2))
    assert status(m) == "client-error-not-found"
    m = await ipp.call(Op.GET_DOCUMENT_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    assert status(m) == "client-error-bad-request"
    m = await ipp.call(Op.GET_DOCUMENT_ATTRIBUTES, a("job-id", Tag.INTEGER, 9999), number)
    assert status(m) == "client-error-not-found"
    m = await _documents(ipp, job_id, a("limit", Tag.INTEGER, 0))
    assert status(m) == "client-error-bad-request"
    m = await _documents(ipp, job_id, a("first-index", Tag.INTEGER, 2))
    assert status(m) == "successful-ok" and not m.groups_of(D)


async def test_the_operations_are_advertised(ipp: Ipp) -> None:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES,
                       a("requested-attributes", Tag.KEYWORD, "operations-supported"))
    ops = m.get(P, "operations-supported")
    assert ops is not None and {Op.CANCEL_CURRENT_JOB, Op.PAUSE_PRINTER_AFTER_CURRENT_JOB,
                                Op.GET_DOCUMENTS, Op.GET_DOCUMENT_ATTRIBUTES} <= set(ops.plain)


async def test_message_from_operator_is_only_an_operators(ipp: Ipp) -> None:
    async def from_operator() -> object:
        m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a(
            "requested-attributes", Tag.KEYWORD, "printer-message-from-operator"))
        return value(m, P, "printer-message-from-operator")

    assert await from_operator() == ""
    # Anyone may identify the printer with a message: it is no operator's word.
    m = await ipp.call(Op.IDENTIFY_PRINTER, a("message", Tag.TEXT, "Call 555-0100 for help"),
                       user="mallory")
    assert status(m) == "successful-ok"
    assert await from_operator() == ""
    admin = await ipp.admin()
    assert status(await admin.call(Op.PAUSE_PRINTER)) == "successful-ok"
    assert await from_operator() == "paused"
    assert status(await admin.call(Op.RESUME_PRINTER)) == "successful-ok"
    assert await from_operator() == ""
