"""The seed's "client unavailable" alert on the admin dashboard, in a real headless
Chromium against the real ``ippproxy serve`` (issue 17 point 4): with
``accounting.client_alert`` on, a job held for an account choice whose owner runs no
``ippproxy-client`` shows up live in the dashboard's activity as ``client-unavailable``
(the user and the job); the job of a user whose client is connected raises none (the
client gets the popup instead)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import chromium, log_in, screenshot
from support.server import IppProxy
from support.userclient import UserClient
from support.webapi import cmd, first_password, register

from .conftest import ipp_print, pages_server

EXTRA = """
[accounting]
enabled = true
unknown_users = "refuse"
client_alert = true
[[rule]]
type = "ask-account"
name = "ask"
printers = ["ask"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    srv = pages_server(tmp_path_factory.mktemp("clientalert"), queues=[
        {"name": "ask", "destination": "builtin"}])
    srv.config_path.write_text(srv.config_path.read_text() + EXTRA)
    srv.start()
    register(srv)
    try:
        for name in ("alice", "bob"):
            done = cmd(srv, "add-internal-user", name, "--password-file", "-",
                       "--balance", "10.00", stdin=f"{name}-pw\n")
            assert done.returncode == 0, done.stdout + done.stderr
        yield srv
        assert "Traceback" not in srv.log(), srv.log()[-3000:]
    finally:
        srv.stop()


def _alerts(driver: webdriver.Chrome, job_id: str) -> list[WebElement]:
    return [li for li in driver.find_elements(By.CSS_SELECTOR,
                                              "#activity li.ev-client-unavailable")
            if f"job {job_id}" in li.text]


def _job_id(out: str) -> str:
    found = re.search(r"job-id \(integer\) = (\d+)", out)
    assert found is not None, out
    return found.group(1)


def test_the_dashboard_shows_who_has_no_client(server: IppProxy, pdf: Path,
                                               tmp_path: Path) -> None:
    alice = UserClient(server, tmp_path / "alice", "--user", "alice", "--password-file", "-",
                       stdin="alice-pw\n")
    try:
        alice.next("connection", where=lambda d: d["status"] == "connected")
        with chromium() as browser:
            log_in(browser, server.https, first_password(server))
            wait = WebDriverWait(browser, 40)
            wait.until(lambda d: d.find_element(By.ID, "live-status").text == "live")
            asked = _job_id(ipp_print(server, pdf, user="alice", queue="ask",
                                      name="alice-asked"))
            alice.next("account-needed", where=lambda d: str(d["job_id"]) == asked)
            bobs = _job_id(ipp_print(server, pdf, user="bob", queue="ask", name="bob-waits"))
            wait.until(lambda d: _alerts(d, bobs))
            alert = _alerts(browser, bobs)[0]
            assert "bob" in alert.text and "ask" in alert.text, alert.text
            assert "no client connected" in alert.text, alert.text
            # alice's client was asked: her job raised no alert (it came before bob's).
            assert not _alerts(browser, asked)
            screenshot(browser, "client-alert-dashboard")
    finally:
        alice.stop()
