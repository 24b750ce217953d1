"""The virtual printer with real clients: ipptool, CUPS (lpadmin -m everywhere, lp), HTTP control."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ippproxy.config import VirtualPrinterConfig
from ippproxy.ipp import Attribute, Group, JobState, Message, Operation, Status, Tag, decode, encode
from ippproxy.virtualprinter.builtin import start_builtin
from ippproxy.virtualprinter.record import JobIds, create_document
from testprinters.documents import make_pdf
from testprinters.ports import free_port, wait_for_port


async def ipptool(uri: str, test: str, *opts: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, ["ipptool", "-T", "5", "-t", *opts, uri, test], capture_output=True,
        text=True, timeout=60, check=False)


@pytest.mark.parametrize("test", ["get-printer-attributes.test", "print-job.test",
                                  "create-job.test", "print-job-gzip.test",
                                  "print-job-deflate.test", "get-jobs.test",
                                  "validate-job.test"])
async def test_ipptool_suites(virtual_printer: Any, tmp_path: Path, test: str) -> None:
    printer = await virtual_printer()
    pdf = make_pdf(tmp_path / "a.pdf", 2)
    r = await ipptool(printer.uri, test, "-f", str(pdf))
    assert r.returncode == 0, r.stdout


async def test_keep_documents_and_counts(virtual_printer: Any, tmp_path: Path) -> None:
    printer = await virtual_printer(keep_documents=True, spool_dir=tmp_path / "kept")
    pdf = make_pdf(tmp_path / "a.pdf", 4)
    r = await ipptool(printer.uri, "print-job.test", "-f", str(pdf))
    assert r.returncode == 0, r.stdout
    await printer.wait_for(lambda: printer.jobs[1].terminal)
    job = printer.jobs[1]
    assert (job.pages, job.impressions_completed, job.sheets_completed) == (4, 4, 4)
    assert job.kept[0].read_bytes() == pdf.read_bytes()


async def test_control_endpoint(virtual_printer: Any) -> None:
    printer = await virtual_printer()
    async with aiohttp.ClientSession() as http:
        async with http.post(printer.control_url, json={"state": "jam"}) as r:
            body = await r.json()
            assert body["printer-state"] == "stopped"
            assert body["printer-state-reasons"] == ["media-jam-error"]
        async with http.post(printer.control_url, json={"state": "sideways"}) as r:
            assert r.status == 400
        async with http.post(printer.control_url, data=b"{") as r:
            assert r.status == 400
        async with http.post(printer.control_url, json={"state": "offline"}) as r:
            assert (await r.json())["online"] is False
        assert (await ipptool(printer.uri, "get-printer-attributes.test")).returncode != 0
        async with http.post(printer.control_url, json={"state": "online"}) as r:
            assert r.status == 200
        assert (await ipptool(printer.uri, "get-printer-attributes.test")).returncode == 0


async def test_lp_through_cupsd_everywhere_queue(virtual_printer: Any, private_cupsd: Any,
                                                 tmp_path: Path) -> None:
    """cupsd builds an IPP Everywhere queue from our capability set and prints to it."""
    printer = await virtual_printer()
    await asyncio.to_thread(private_cupsd.add_queue, "virt", printer.uri)
    job_id = await asyncio.to_thread(private_cupsd.lp, "virt", make_pdf(tmp_path / "a.pdf", 2))
    done = await asyncio.to_thread(private_cupsd.wait_job_completed, "virt", job_id)
    assert done, private_cupsd.error_log()
    assert len(printer.jobs) == 1


def test_runs_as_a_module() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ippproxy.virtualprinter", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for_port("127.0.0.1", port, proc)  # type: ignore[arg-type]
        r = subprocess.run(["ipptool", "-T", "5", "-t", f"ipp://127.0.0.1:{port}/ipp/print",
                            "get-printer-attributes.test"], capture_output=True, text=True,
                           check=False)
        assert r.returncode == 0, r.stdout
    finally:
        proc.terminate()
        proc.wait(10)


def _start_module(port: int, control: int, spool: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "ippproxy.virtualprinter", "--port",
                             str(port), "--control-port", str(control), "--keep",
                             "--spool", str(spool)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert wait_for_port("127.0.0.1", control, proc)  # type: ignore[arg-type]
    return proc


async def _printed(control: int, count: int) -> list[int]:
    """The job-ids the printer lists once ``count`` jobs are completed."""
    url = f"http://127.0.0.1:{control}/control"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            async with http.get(url) as r:
                jobs = (await r.json())["jobs"]
            if sum(j["job-state"] == "completed" for j in jobs) == count:
                return sorted(j["job-id"] for j in jobs)
            await asyncio.sleep(0.05)
    raise AssertionError(f"jobs not completed: {jobs}")


async def test_job_ids_continue_and_documents_survive_a_kill(tmp_path: Path) -> None:
    """Issue 14 point 6: a real process, killed with SIGKILL and started again on the
    same directory, goes on from the next job-id and overwrites no kept document."""
    spool = tmp_path / "kept"
    first, second = make_pdf(tmp_path / "a.pdf", 2), make_pdf(tmp_path / "b.pdf", 3)
    port, control = free_port(), free_port()
    proc = _start_module(port, control, spool)
    try:
        for _ in range(2):
            r = await ipptool(f"ipp://127.0.0.1:{port}/ipp/print", "print-job.test",
                              "-f", str(first))
            assert r.returncode == 0, r.stdout
        assert await _printed(control, 2) == [1, 2]
    finally:
        proc.kill()
        proc.wait(10)
    proc = _start_module(port, control, spool)
    try:
        r = await ipptool(f"ipp://127.0.0.1:{port}/ipp/print", "print-job.test",
                          "-f", str(second))
        assert r.returncode == 0, r.stdout
        assert await _printed(control, 1) == [3]
    finally:
        proc.terminate()
        proc.wait(10)
    kept = {p.name: p.read_bytes() for p in spool.glob("job-*.prn")}
    assert kept == {"job-1-1.prn": first.read_bytes(), "job-2-1.prn": first.read_bytes(),
                    "job-3-1.prn": second.read_bytes()}
    assert (spool / "next-job-id").read_text() == "4\n"


async def test_builtin_printer_continues_without_keeping_documents(tmp_path: Path) -> None:
    """The server's built-in printer keeps its next job-id in <spool>/virtual even when
    it keeps no documents, so a restarted server's printer never reuses a job-id."""
    vp = VirtualPrinterConfig(port=free_port(), keep_documents=False)
    pdf = make_pdf(tmp_path / "a.pdf", 1)
    for expected in (1, 2):
        printer = await start_builtin(vp, tmp_path)
        try:
            r = await ipptool(printer.uri, "print-job.test", "-f", str(pdf))
            assert r.returncode == 0, r.stdout
            assert list(printer.jobs) == [expected]
        finally:
            await printer.close()
    assert not list((tmp_path / "virtual").glob("*.prn"))


def test_job_ids_pass_over_existing_documents(tmp_path: Path) -> None:
    """A lost or damaged id file never lets a kept document be overwritten."""
    (tmp_path / "job-1-1.prn").write_bytes(b"old")
    (tmp_path / "job-2-1.prn").write_bytes(b"old")
    assert JobIds(tmp_path, durable=True).next() == 3
    (tmp_path / "next-job-id").write_text("garbage")
    assert JobIds(tmp_path, durable=True).next() == 3     # job-3 has no file yet
    with pytest.raises(FileExistsError):
        create_document(tmp_path / "job-1-1.prn")
    assert (tmp_path / "job-1-1.prn").read_bytes() == b"old"


def test_printers_sharing_a_directory_never_share_a_job_id(tmp_path: Path) -> None:
    """Two nodes' printers on one shared spool (README, "Several nodes") draw ids under
    the directory's lock: all distinct, and the file names the next one."""
    import concurrent.futures

    nodes = [JobIds(tmp_path, durable=True) for _ in range(2)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: nodes[i % 2].next(), range(60)))
    assert sorted(ids) == list(range(1, 61))
    assert (tmp_path / "next-job-id").read_text() == "61\n"


async def test_a_document_broken_off_aborts_the_job_without_a_traceback(
        virtual_printer: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The sender goes away mid-document (ippproxy stopping while it forwards): the job is
    # aborted, its partial file removed, and nothing is logged as a handler error.
    from e2e.wire import END, MIME, attr, header, operation_group
    printer = await virtual_printer(keep_documents=True, spool_dir=tmp_path / "kept")
    ipp = (header(0x0002) + operation_group(printer.uri, extra=[
        attr(MIME, "document-format", "application/pdf")]) + bytes([END]))
    first = ipp + make_pdf(tmp_path / "a.pdf", 20).read_bytes()[:4096]
    _, writer = await asyncio.open_connection(printer.host, printer.port)
    writer.write(b"POST /ipp/print HTTP/1.1\r\nHost: x\r\nContent-Type: application/ipp\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(first):x}\r\n".encode()
                 + first + b"\r\n")
    await writer.drain()
    for _ in range(200):                       # the job exists once its document streams in
        if 1 in printer.jobs:
            break
        await asyncio.sleep(0.05)
    writer.transport.abort()                                   # gone, mid-document
    await printer.wait_for(lambda: printer.jobs[1].terminal)
    assert printer.jobs[1].state == JobState.ABORTED
    assert not list((tmp_path / "kept").glob("job-1-*"))
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def _unusable(directory: Path) -> None:
    """``directory`` becomes something no file can go into (a file of its name)."""
    shutil.rmtree(directory)
    directory.write_bytes(b"")


async def _print(printer: Any, tmp_path: Path) -> tuple[int, str]:
    ops = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
           Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
           Attribute.single("printer-uri", Tag.URI, printer.uri),
           Attribute.single("requesting-user-name", Tag.NAME, "alice"),
           Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"))
    body = encode(Message((2, 0), Operation.PRINT_JOB, 7,
                          (Group(Tag.OPERATION_ATTRIBUTES, ops),)))
    body += make_pdf(tmp_path / "a.pdf", 1).read_bytes()
    async with aiohttp.ClientSession() as http, http.post(
            printer.uri.replace("ipp://", "http://", 1), data=body,
            headers={"Content-Type": "application/ipp"}) as r:
        assert r.status == 200
        answer = decode(await r.read())
    message = answer.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    return answer.code, "" if message is None else str(message.value)


async def test_what_it_cannot_store_is_a_temporary_error(
        virtual_printer: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The built-in printer keeps its documents and its job-id counter in ippproxy's
    spool: when that is full or read-only it answers server-error-temporary-error (a job
    it made is aborted), with no traceback (a CI run caught an OSError escaping to
    aiohttp, when a test made the spool read-only while a job was forwarded)."""
    caplog.set_level(logging.INFO)
    kept = await virtual_printer(spool_dir=tmp_path / "printer-spool")
    _unusable(kept.spool_dir)          # its job-id counter cannot be kept
    code, message = await _print(kept, tmp_path)
    assert code == Status.SERVER_ERROR_TEMPORARY_ERROR
    assert "could not store its job-id counter" in message and not kept.jobs
    fresh = await virtual_printer()    # job-ids in memory: the document cannot be stored
    _unusable(fresh.spool_dir)
    try:
        code, message = await _print(fresh, tmp_path)
    finally:
        fresh.spool_dir.unlink()       # a directory again, for the printer's own cleanup
        fresh.spool_dir.mkdir()
    assert code == Status.SERVER_ERROR_TEMPORARY_ERROR
    assert "could not store the document" in message
    assert [j.state for j in fresh.jobs.values()] == [JobState.ABORTED]
    assert all(r.exc_info is None for r in caplog.records), [r.getMessage()
                                                              for r in caplog.records]
