"""SIGTERM with users' event streams open (``/api/v1/me/events``): the server stops at
once, exit status 0. The streams are closed when the shutdown starts (aiohttp's
``on_shutdown``, web/routes.py), not after aiohttp has waited for the requests in flight;
before, the server sat on them until the test helper's SIGKILL ten seconds later."""

from __future__ import annotations

import time
from pathlib import Path

from support.server import IppProxy
from support.webapi import login, remember_certificate

from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env


def test_sigterm_with_a_users_event_stream_open_stops_at_once(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "proxy", queues=[{"name": "colour", "cost_model": "colour"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    proxy.start()
    try:
        remember_certificate(proxy)
        Env(proxy).cmd("add-internal-user", "alice", "--password-file", "-", "--group",
                       "staff", "--balance", "10.00", stdin="alice-pw\n")
        stream = Stream(login(proxy.https, "alice", "alice-pw"))
        stream.events.get(timeout=30)      # connected: the balances come first
        t0 = time.monotonic()
        status = proxy.stop(grace=8)
        took = time.monotonic() - t0
        assert status == 0, f"exit status {status} after {took:.1f} s"
        assert took < 5, f"stopping took {took:.1f} s"
        assert "Traceback" not in proxy.log()
    finally:
        proxy.stop()
