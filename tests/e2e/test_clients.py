"""Real clients end to end (issue 3, "Done when": real clients).

* CUPS: a private cupsd queue made with ``lpadmin -v ipp://localhost:PORT/printers/q -m
  everywhere`` (cupsd reads ippproxy's Get-Printer-Attributes to build the driver), then
  ``lp -d q file.pdf``: the job goes through cupsd's ipp backend to ippproxy and on to an
  ippeveprinter, and is ``completed`` in all three (lpstat, ippproxy's Get-Jobs, the printer).
* the same through a raw CUPS queue (``-m raw``: cupsd passes its own options on, such as
  ``job-sheets=none,none``), and ``lpadmin -m everywhere`` on a queue whose printer is off
  (CUPS still makes a driver from what the queue lists).
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
from support.server import IppProxy, free_port

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
            {"name": "q", "destination": eve.uri}, {"name": "virtual", "destination": "builtin"},
            {"name": "off", "destination": f"ipp://127.0.0.1:{free_port()}/ipp/print"}],
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


def logs(chain: Chain) -> str:
    return (f"cupsd error_log:\n{chain.cupsd.error_log()[-3000:]}\n"
            f"ippproxy log:\n{chain.proxy.log()[-3000:]}")


def cups_job_state(cupsd: PrivateCupsd, queue: str, job_id: int) -> object:
    msg = build(Operation.GET_JOB_ATTRIBUTES, cupsd.queue_uri(queue), user="root", op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, job_id),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-state"])])
    return job_dicts(expect_ok(send(cupsd.port, msg, path=f"/printers/{queue}")))[0]["job-state"]


def print_through(chain: Chain, queue: str, tmp_path: Path) -> None:
    """``lp -d QUEUE`` a 2-page PDF: completed in cupsd (not canceled or aborted, which
    lpstat lists as completed too), in ippproxy and on the printer."""
    proxy, eve, cupsd = chain.proxy, chain.eve, chain.cupsd
    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(make_pdf(f"printed with lp -d {queue}", pages=2))
    before = len(eve_completed(eve))
    ours = {j["job-id"] for j in get_jobs(proxy.port, proxy.uri("q"), "completed",
                                          path=proxy.path("q"))}

    cups_job = cupsd.lp(queue, pdf)
    assert cupsd.wait_job_completed(queue, cups_job, 90), (
        f"CUPS job {cups_job} not completed; {logs(chain)}")
    assert cups_job_state(cupsd, queue, cups_job) == COMPLETED, logs(chain)

    deadline = time.monotonic() + 30
    while True:
        done = [j for j in get_jobs(proxy.port, proxy.uri("q"), "completed",
                                    path=proxy.path("q"),
                                    attrs=("job-id", "job-state", "job-originating-user-name"))
                if j["job-id"] not in ours]
        if any(j["job-state"] == COMPLETED for j in done) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(j["job-state"] == COMPLETED for j in done), (get_jobs(
        proxy.port, proxy.uri("q"), "all", path=proxy.path("q"),
        attrs=("job-id", "job-state", "job-state-reasons", "job-state-message")), logs(chain))
    assert len(eve_completed(eve)) == before + 1
    assert eve.spooled_files(), "the printer kept no document"


def test_lp_through_private_cupsd(chain: Chain, tmp_path: Path) -> None:
    chain.cupsd.add_queue("q", f"ipp://localhost:{chain.proxy.port}/printers/q")
    assert chain.cupsd.driver_made("q") is True, logs(chain)
    print_through(chain, "q", tmp_path)


def test_lp_through_a_raw_cupsd_queue(chain: Chain, tmp_path: Path) -> None:
    """A raw queue sends cupsd's options as they are: ``job-sheets`` with a start and an
    end sheet among them (two values), which RFC 8011 does not know and CUPS does."""
    chain.cupsd.add_queue("rawq", f"ipp://localhost:{chain.proxy.port}/printers/q", "raw")
    assert chain.cupsd.driver_made("rawq") is None
    print_through(chain, "rawq", tmp_path)


def test_cups_makes_a_driver_for_a_queue_whose_printer_is_off(chain: Chain) -> None:
    """``lpadmin -m everywhere`` while the printer is off or not yet reached: the queue
    lists what CUPS 2.4 needs to make a driver (without, it makes none and the queue
    prints raw)."""
    chain.cupsd.add_queue("off", f"ipp://localhost:{chain.proxy.port}/printers/off")
    assert chain.cupsd.driver_made("off") is True, logs(chain)


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
