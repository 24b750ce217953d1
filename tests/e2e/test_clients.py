"""Real clients end to end (issue 3, "Done when": real clients).

* CUPS: a private cupsd queue made with ``lpadmin -v ipp://localhost:PORT/printers/q -m
  everywhere`` (cupsd reads ippproxy's Get-Printer-Attributes to build the driver), then
  ``lp -d q file.pdf``: the job goes through cupsd's ipp backend to ippproxy and on to an
  ippeveprinter, and is ``completed`` in all three (lpstat, ippproxy's Get-Jobs, the printer).
* pyipp (the client Home Assistant uses): ``IPP(host, port, base_path).printer()`` reads the
  queue's state and markers (the queue forwards to the built-in virtual printer, which
  reports a toner marker).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyipp import IPP
from support.server import IppProxy

from ippproxy.ipp import Attribute, Operation, Tag
from testprinters.cupsd import PrivateCupsd
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter

from .docs import make_pdf
from .ipp_client import build, expect_ok, get_jobs, job_dicts, send

COMPLETED = 9


@dataclass(frozen=True)
class Chain:
    proxy: IppProxy
    eve: EvePrinter
    cupsd: PrivateCupsd


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    base = tmp_path_factory.mktemp("clients")
    dbus = PrivateDBus(base / "dbus").start()
    eve = EvePrinter("ClientsEve", dbus=dbus, keep_files=True, spool_dir=base / "eve")
    cupsd = PrivateCupsd(dbus=dbus)
    proxy: IppProxy | None = None
    try:
        eve.start()
        proxy = IppProxy(base / "proxy", queues=[
            {"name": "q", "destination": eve.uri}, {"name": "virtual", "destination": "builtin"}],
            forwarding={"retry_initial": 0.2, "retry_max": 1.0, "poll_interval": 0.2})
        proxy.start()
        cupsd.start()
        yield Chain(proxy, eve, cupsd)
    finally:
        cupsd.stop()
        if proxy is not None:
            proxy.stop()
        eve.stop()
        dbus.stop()


def eve_completed(eve: EvePrinter) -> list[dict[str, object]]:
    msg = build(Operation.GET_JOBS, eve.uri, op_attrs=[
        Attribute.single("which-jobs", Tag.KEYWORD, "completed"),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-id", "job-state"])])
    return [j for j in job_dicts(expect_ok(send(eve.port, msg))) if j["job-state"] == COMPLETED]


def test_lp_through_private_cupsd(chain: Chain, tmp_path: Path) -> None:
    proxy, eve, cupsd = chain.proxy, chain.eve, chain.cupsd
    cupsd.add_queue("q", f"ipp://localhost:{proxy.port}/printers/q")
    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(make_pdf("printed with lp", pages=2))
    before = len(eve_completed(eve))

    cups_job = cupsd.lp("q", pdf)
    assert cupsd.wait_job_completed("q", cups_job, 90), (
        f"CUPS job {cups_job} not completed; cupsd error_log:\n{cupsd.error_log()[-3000:]}\n"
        f"ippproxy log:\n{proxy.log()[-3000:]}")

    deadline = time.monotonic() + 30
    while True:
        done = get_jobs(proxy.port, proxy.uri("q"), "completed", path=proxy.path("q"),
                        attrs=("job-id", "job-state", "job-originating-user-name"))
        if any(j["job-state"] == COMPLETED for j in done) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(j["job-state"] == COMPLETED for j in done), done
    assert len(eve_completed(eve)) == before + 1
    assert eve.spooled_files(), "the printer kept no document"


async def test_pyipp_reads_state_and_markers(chain: Chain) -> None:
    proxy = chain.proxy
    async with IPP(host="127.0.0.1", port=proxy.port, base_path="/printers/virtual") as ipp:
        printer = await ipp.printer()
    assert printer.state.printer_state in ("idle", "printing"), printer.state
    assert printer.info.name, printer.info
    assert printer.markers, "no marker-* attributes reach pyipp"
    toner = printer.markers[0]
    assert toner.name == "Black Toner" and toner.marker_type == "toner", toner
    assert 0 <= toner.level <= 100, toner
    uris = [u.uri for u in printer.uris]
    assert any(u.endswith("/printers/virtual") for u in uris), uris


async def test_pyipp_on_a_forwarding_queue(chain: Chain) -> None:
    """The ippeveprinter-backed queue: pyipp parses every answer (no markers there)."""
    proxy = chain.proxy
    async with IPP(host="127.0.0.1", port=proxy.port, base_path="/printers/q") as ipp:
        printer = await ipp.printer()
    assert printer.state.printer_state in ("idle", "printing"), printer.state
