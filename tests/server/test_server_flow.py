"""End to end through build_app: Print-Job -> spool -> store -> forward -> completed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ippproxy.config import QueueConfig
from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag

from .client import Ipp, a, status, value
from .conftest import Started, make_config

J = Tag.JOB_ATTRIBUTES
PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")


async def wait_state(ipp: Ipp, job_id: int, states: set[int], timeout: float = 30.0) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                           a("requested-attributes", Tag.KEYWORD, "job-state"))
        state = value(m, J, "job-state")
        assert isinstance(state, int)
        if state in states or loop.time() > deadline:
            return state
        await asyncio.sleep(0.05)


async def test_print_job_reaches_completed_on_builtin_printer(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    assert status(m) == "successful-ok"
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    assert value(m, J, "job-impressions-completed") == 1
    assert value(m, J, "job-state-reasons") == "job-completed-successfully"
    assert isinstance(value(m, J, "time-at-completed"), int)


async def test_pause_holds_back_forwarding(ipp: Ipp, pdf: bytes) -> None:
    admin = await ipp.admin()
    assert status(await admin.call(Op.PAUSE_PRINTER)) == "successful-ok"
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    # Paused: the job is not claimed (it stays pending while we look a few times).
    for _ in range(5):
        assert await wait_state(ipp, job_id, {3}, timeout=1.0) == 3
    assert status(await admin.call(Op.RESUME_PRINTER)) == "successful-ok"
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9


async def test_forward_to_ippeveprinter(start_proxy: Started, ippeveprinter: object,
                                        tmp_path: Path, pdf: bytes) -> None:
    eve = ippeveprinter()  # type: ignore[operator]
    cfg = make_config(tmp_path, queues=(QueueConfig("eve", destination=eve.uri),))
    ipp = await start_proxy(cfg)
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES,
                       a("requested-attributes", Tag.KEYWORD, "printer-make-and-model",
                         "media-supported"))
    media = m.get(Tag.PRINTER_ATTRIBUTES, "media-supported")
    assert media is not None and len(media.values) > 2      # ippeveprinter's own list
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES,
                       a("requested-attributes", Tag.KEYWORD, "media-col-database"))
    database = m.get(Tag.PRINTER_ATTRIBUTES, "media-col-database")
    assert database is not None and len(database.values) > 2   # asked of the destination
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    assert status(m) == "successful-ok"
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9


async def test_destination_state_and_markers_follow_the_printer(
        start_proxy: Started, virtual_printer: object, tmp_path: Path) -> None:
    vp = await virtual_printer()  # type: ignore[operator]
    cfg = make_config(tmp_path, queues=(QueueConfig("vp", destination=vp.uri),))
    ipp = await start_proxy(cfg)
    wanted = a("requested-attributes", Tag.KEYWORD, "printer-state", "printer-state-reasons",
               "marker-names", "marker-levels")

    reached = False   # once the destination has answered, its markers are always there

    async def state() -> tuple[object, Sequence[object]]:
        m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, wanted)
        reasons = m.get(Tag.PRINTER_ATTRIBUTES, "printer-state-reasons")
        plain = reasons.plain if reasons is not None else []
        if reached:
            assert m.get(Tag.PRINTER_ATTRIBUTES, "marker-names") is not None
        return value(m, Tag.PRINTER_ATTRIBUTES, "printer-state"), plain

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    # Until the destination first answers, a request waits at most FIRST_GRACE and is
    # answered from the static capabilities with offline-report (forwarding/
    # capabilities.py): on a loaded machine the first answer may come after that.
    while "offline-report" in (first := await state())[1]:
        assert loop.time() < deadline, first
        await asyncio.sleep(0.1)
    reached = True
    first = await state()
    assert first[0] == 3
    await vp.set_state("jam")
    while (current := await state())[0] != 5:
        assert loop.time() < deadline, current
        await asyncio.sleep(0.1)
    assert "media-jam-error" in current[1]
    await vp.set_state("clear")
    await vp.set_state("offline")     # unreachable: reported; the last capabilities stay
    while "offline-report" not in (current := await state())[1]:
        assert loop.time() < deadline, current
        await asyncio.sleep(0.1)
    assert current[0] == 3


async def test_one_document_per_job(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.CREATE_JOB, a("job-name", Tag.NAME, "two docs"))
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    jid = a("job-id", Tag.INTEGER, job_id)
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, a("last-document", Tag.BOOLEAN, False),
                       data=pdf)
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, a("last-document", Tag.BOOLEAN, True),
                       data=pdf)
    assert status(m) == "server-error-multiple-document-jobs-not-supported"
    assert status(await ipp.call(Op.CLOSE_JOB, jid)) == "successful-ok"
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, jid)
    assert value(m, J, "number-of-documents") == 1
    assert value(m, J, "job-impressions-completed") == 1


async def test_close_job_ends_an_open_job(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.CREATE_JOB)
    jid = a("job-id", Tag.INTEGER, value(m, J, "job-id"))
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, a("last-document", Tag.BOOLEAN, False),
                       data=pdf)
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.CLOSE_JOB, jid)
    assert status(m) == "successful-ok"
    assert await wait_state(ipp, int(jid.value), {7, 8, 9}) == 9  # type: ignore[arg-type]
    m = await ipp.call(Op.CLOSE_JOB, jid)
    assert status(m) == "client-error-not-possible"
