"""Conversion for destinations that do not take the job's format (forwarding/outgoing.py).

Real parts only: the Forwarder with its store and spool, the analysis pool's worker
processes with Ghostscript, ippeveprinter (``-f`` with one raster format, ``-k`` to keep
what it received) and the virtual printer (``keep_documents``).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ippproxy.config import Config
from ippproxy.filters.pool import AnalysisPool
from ippproxy.forwarding.worker import Forwarder
from ippproxy.ipp import Attribute, Group, Message, Tag, encode
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore
from testprinters.documents import make_pdf

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # tests/support, imported as tests/e2e/conftest.py does
    sys.path.insert(0, str(TESTS))
from support.jobs import wait_for_job
from support.server import IppProxy

PS_PAGE = (b"%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\n%%Page: 1 1\n"
           b"/Helvetica findfont 24 scalefont setfont 72 720 moveto (Hello) show showpage\n"
           b"%%EOF\n")


class Rig:
    """A store, a spool and Forwarders on them; ``job(...)`` spools a document."""

    def __init__(self, store: JobStore, spool: Spool, tmp: Path) -> None:
        self.store, self.spool, self.tmp = store, spool, tmp
        self.forwarders: list[Forwarder] = []

    async def start(self, config: Config, **kw: Any) -> Forwarder:
        fwd = Forwarder(self.store, self.spool, config, **kw)
        await fwd.start()
        self.forwarders.append(fwd)
        return fwd

    async def job(self, data: bytes, fmt: str | None, *attrs: Attribute) -> JobRecord:
        async with self.spool.writer() as w:
            await w.write(data)
        doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format=fmt)
        blob = encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, attrs),)))
        return await self.store.create_job("q", owner="alice", name="doc", attributes=blob,
                                           document_format=fmt, documents=[doc])

    async def wait(self, uuid: str, pred: Callable[[JobRecord], bool],
                   timeout: float = 60.0) -> JobRecord:
        return await wait_for_job(self.store, uuid, pred, timeout)

    def outgoing(self) -> list[Path]:
        """Files left in the forwarder's scratch directory."""
        root = self.spool.root / "outgoing"
        return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
async def rig(store: JobStore, spool: Spool, tmp_path: Path) -> AsyncIterator[Rig]:
    r = Rig(store, spool, tmp_path)
    yield r
    for fwd in r.forwarders:
        await fwd.stop()


def terminal(rec: JobRecord) -> bool:
    return rec.is_terminal


def received_documents(eve: Any) -> list[Path]:
    """What ippeveprinter -k kept (``1-doc.pwg``), not its command's output (``.prn``)."""
    return [f for f in eve.spooled_files() if f.suffix != ".prn"]


def pdf_bytes(tmp: Path, pages: int = 1) -> bytes:
    return make_pdf(tmp / f"doc{pages}.pdf", pages).read_bytes()


@pytest.mark.parametrize("stored", ["application/pdf", "application/octet-stream"],
                         ids=["detected-pdf", "unknown-format"])
async def test_pdf_reaches_a_pwg_only_ippeveprinter_as_pwg_raster(
        ippeveprinter: Any, rig: Rig, fast_config: Any, stored: str) -> None:
    eve = ippeveprinter(formats=("image/pwg-raster",), keep_files=True)
    await rig.start(fast_config(eve.uri))
    rec = await rig.job(pdf_bytes(rig.tmp, 2), stored)
    done = await rig.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert "converted PDF to PWG raster (300 dpi, sgray_8)" in (done.state_message or "")
    (received,) = received_documents(eve)   # ippeveprinter names it by its format
    assert received.suffix == ".pwg" and received.read_bytes()[:4] == b"RaS2"
    # the original document is kept, unchanged; the converted one is gone
    assert rig.spool.digest(rec.documents[0].spool_name) == (rec.documents[0].size,
                                                            rec.documents[0].sha256)
    assert rig.outgoing() == []


async def test_postscript_reaches_a_pdf_only_virtual_printer_as_pdf(
        virtual_printer: Any, rig: Rig, fast_config: Any) -> None:
    printer = await virtual_printer(formats=("application/pdf",), keep_documents=True)
    pool = AnalysisPool(1)
    await pool.start()
    try:
        await rig.start(fast_config(printer.uri), pool=pool)
        rec = await rig.job(PS_PAGE, "application/postscript")
        done = await rig.wait(rec.uuid, terminal)
    finally:
        await pool.close()
    assert done.state == JobState.COMPLETED, done.state_message
    assert "converted PostScript to PDF" in (done.state_message or "")
    (job,) = printer.jobs.values()
    assert job.document_format == "application/pdf"
    assert job.kept[0].read_bytes()[:5] == b"%PDF-"
    assert done.impressions_completed == 1
    assert rig.outgoing() == []


async def test_pdf_reaches_a_urf_only_ippeveprinter_as_urf(
        ippeveprinter: Any, rig: Rig, fast_config: Any) -> None:
    eve = ippeveprinter(formats=("image/urf",), keep_files=True)
    await rig.start(fast_config(eve.uri))
    rec = await rig.job(pdf_bytes(rig.tmp), "application/pdf")
    done = await rig.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert "PDF to URF (600 dpi, W8)" in (done.state_message or "")
    (received,) = received_documents(eve)
    assert received.suffix == ".urf" and received.read_bytes()[:8] == b"UNIRAST\0"


async def test_text_is_typeset_then_rendered_in_colour(
        virtual_printer: Any, rig: Rig, fast_config: Any) -> None:
    printer = await virtual_printer(formats=("image/pwg-raster",), keep_documents=True)
    await rig.start(fast_config(printer.uri))
    rec = await rig.job(b"hello\nworld\n", "text/plain",
                        Attribute.single("print-color-mode", Tag.KEYWORD, "color"))
    done = await rig.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert "text to PWG raster (300 dpi, srgb_8)" in (done.state_message or "")
    (job,) = printer.jobs.values()
    assert job.document_format == "image/pwg-raster"
    assert job.kept[0].read_bytes()[:4] == b"RaS2"
    assert rig.outgoing() == []   # the intermediate PDF too


async def test_no_route_aborts_before_anything_is_sent(
        ippeveprinter: Any, rig: Rig, fast_config: Any) -> None:
    jpeg = rig.tmp / "page.jpg"
    gs = await asyncio.create_subprocess_exec(
        "gs", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-q", "-sDEVICE=jpeg", "-r20",
        f"-sOutputFile={jpeg}", str(make_pdf(rig.tmp / "j.pdf")))
    assert await gs.wait() == 0
    eve = ippeveprinter(formats=("image/pwg-raster",), keep_files=True)
    await rig.start(fast_config(eve.uri))
    rec = await rig.job(jpeg.read_bytes(), "image/jpeg")
    done = await rig.wait(rec.uuid, terminal)
    assert done.state == JobState.ABORTED
    assert "unsupported-document-format" in done.state_reasons
    message = done.state_message or ""
    assert "accepts only image/pwg-raster" in message and "image/jpeg" in message
    assert done.remote_job_id is None and received_documents(eve) == []


async def test_conversion_failure_aborts_with_the_reason(
        virtual_printer: Any, rig: Rig, fast_config: Any) -> None:
    printer = await virtual_printer(formats=("application/pdf",))
    await rig.start(fast_config(printer.uri))
    rec = await rig.job(b"%!PS-Adobe-3.0\nnosuchoperator\nshowpage\n", "application/postscript")
    done = await rig.wait(rec.uuid, terminal)
    assert done.state == JobState.ABORTED
    assert "document-unprintable-error" in done.state_reasons
    assert "conversion of the document (PostScript to PDF) failed" in (done.state_message or "")
    assert printer.jobs == {} and rig.outgoing() == []


async def test_cancel_during_conversion_stops_it(
        virtual_printer: Any, rig: Rig, fast_config: Any) -> None:
    printer = await virtual_printer(formats=("application/pdf",))
    pool = AnalysisPool(1)
    await pool.start()
    try:
        fwd = await rig.start(fast_config(printer.uri), pool=pool)
        rec = await rig.job(b"%!PS-Adobe-3.0\n{ 1 pop } loop\n", "application/postscript")
        busy = await rig.wait(rec.uuid, lambda r: "job-transforming" in r.state_reasons)
        assert "converting the document for the printer" in (busy.state_message or "")
        # The reason is set before the document is staged for the worker: cancel once the
        # worker has it, or there is no conversion to stop yet (a loaded CI machine did).
        async with asyncio.timeout(30):
            while pool.busy == 0:
                await asyncio.sleep(0.02)
        await rig.store.transition(rec.uuid, JobEvent.CANCEL)
        fwd.job_changed(rec.uuid)
        async with asyncio.timeout(30):
            while fwd._tasks or pool.replaced == 0:
                await asyncio.sleep(0.02)
    finally:
        await pool.close()
    done = await rig.store.get_by_uuid(rec.uuid)
    assert done is not None and done.state == JobState.CANCELED
    assert printer.jobs == {} and rig.outgoing() == []


PRINT_AUTO = """{
  NAME "Print-Job"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name alice
  ATTR mimeMediaType document-format $fmt
  FILE $filename
  STATUS successful-ok
}
"""
GET_JOB = """{
  NAME "Get-Job-Attributes"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id 1
  ATTR name requesting-user-name alice
  STATUS successful-ok
}
"""
GET_PRINTER = """{
  NAME "Get-Printer-Attributes"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes document-format-supported
  STATUS successful-ok
}
"""


def ipptool(uri: str, test: Path, *args: str) -> str:
    done = subprocess.run(["ipptool", "-tv", *args, uri, str(test)], check=False,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("fmt", ["application/pdf", "application/octet-stream"])
def test_through_ippproxy_a_pdf_reaches_a_raster_printer_as_pwg(
        ippeveprinter: Any, tmp_path: Path, fmt: str) -> None:
    """The real ``ippproxy serve``, the real ipptool as client, ippeveprinter -f pwg-raster.

    The queue offers application/pdf although the printer does not take it (it is
    converted), and the client may also leave the format to the server."""
    eve = ippeveprinter(formats=("image/pwg-raster",), keep_files=True)
    (tmp_path / "print.test").write_text(PRINT_AUTO)
    (tmp_path / "get.test").write_text(GET_JOB)
    (tmp_path / "get-printer.test").write_text(GET_PRINTER)
    with IppProxy(tmp_path / "proxy", queues=[{"name": "raster", "destination": eve.uri}],
                  forwarding={"poll_interval": 0.05}) as proxy:
        offered = ipptool(proxy.uri(), tmp_path / "get-printer.test")
        listed = re.search(r"document-format-supported \(1setOf mimeMediaType\) = (.*)", offered)
        assert listed is not None and "application/pdf" in listed[1].split(","), offered
        ipptool(proxy.uri(), tmp_path / "print.test", "-d", f"fmt={fmt}", "-f",
                str(make_pdf(tmp_path / "two.pdf", 2)))
        deadline = time.monotonic() + 60
        while "job-state (enum) = completed" not in (
                out := ipptool(proxy.uri(), tmp_path / "get.test")):
            assert "aborted" not in out, out
            assert time.monotonic() < deadline, out
            time.sleep(0.1)
    assert "converted PDF to PWG raster (300 dpi, sgray_8)" in out
    (received,) = received_documents(eve)
    assert received.suffix == ".pwg" and received.read_bytes()[:4] == b"RaS2"
