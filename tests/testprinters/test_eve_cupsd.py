"""ippeveprinter and the private cupsd, started for real on loopback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

from testprinters.documents import make_pdf
from testprinters.eve import EvePrinter


def ipptool(uri: str, test: str, *opts: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ipptool", "-T", "5", "-t", *opts, uri, test], capture_output=True,
                          text=True, timeout=60, check=False)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def test_ippeveprinter_start_kill_restart(ippeveprinter: Any) -> None:
    eve: EvePrinter = ippeveprinter(formats=("application/pdf",), duplex=False)
    r = ipptool(eve.uri, "get-printer-attributes.test")
    assert r.returncode == 0, r.stdout
    port, spool = eve.port, eve.spool_dir
    eve.kill()
    assert refused(port)
    eve.start()  # back on the same port
    assert eve.port == port and ipptool(eve.uri, "get-printer-attributes.test").returncode == 0
    eve.stop()
    assert not spool.exists() and refused(port)


def test_ippeveprinter_keeps_files(ippeveprinter: Any, tmp_path: Path) -> None:
    eve: EvePrinter = ippeveprinter(keep_files=True)
    pdf = make_pdf(tmp_path / "a.pdf", 2)
    r = ipptool(eve.uri, "print-job.test", "-f", str(pdf))
    assert r.returncode == 0, r.stdout
    assert any(p.suffix == ".pdf" for p in eve.spooled_files())


def test_lp_through_private_cupsd_to_ippeveprinter(ippeveprinter_session: Any,
                                                   private_cupsd: Any, tmp_path: Path) -> None:
    eve = ippeveprinter_session()
    uri = private_cupsd.add_queue("eve", eve.uri)
    assert uri.endswith("/printers/eve")
    job_id = private_cupsd.lp("eve", make_pdf(tmp_path / "a.pdf", 1))
    assert private_cupsd.wait_job_completed("eve", job_id), private_cupsd.error_log()
