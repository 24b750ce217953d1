"""The virtual printer with real clients: ipptool, CUPS (lpadmin -m everywhere, lp), HTTP control."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

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
