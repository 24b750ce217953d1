"""``lp`` through a private cupsd to a CUPS queue whose device is ``ipps://`` on ippproxy's one
port: ``lpadmin -m everywhere`` reads our printer attributes over IPPS (cupsd trusts the
self-signed certificate on first use), cupsd's ipp backend sends the job over TLS, and it
completes at the built-in printer and in cupsd."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.server import IppProxy, tracebacks

from testprinters.cupsd import PrivateCupsd

from .test_one_port import _pdf


def test_lp_through_cupsd_to_an_ipps_queue(tmp_path: Path, private_cupsd: PrivateCupsd) -> None:
    pdf = _pdf(tmp_path)
    with IppProxy(tmp_path / "proxy", forwarding={"poll_interval": 0.2}) as proxy:
        uri = f"ipps://127.0.0.1:{proxy.port}/printers/default"
        private_cupsd.add_queue("secure", uri)
        assert uri in private_cupsd.run("lpstat", "-v", "secure").stdout
        job = private_cupsd.lp("secure", pdf)
        assert private_cupsd.wait_job_completed("secure", job, 60), private_cupsd.error_log()
        home = tmp_path / "home"
        home.mkdir()
        out = subprocess.run(["ipptool", "-tv", "-T", "20", uri,
                              "/usr/share/cups/ipptool/get-completed-jobs.test"],
                             env=dict(os.environ, HOME=str(home)), capture_output=True,
                             text=True, timeout=60, check=False).stdout
        assert "job-state (enum) = completed" in out, out
        assert not tracebacks(proxy.log())
