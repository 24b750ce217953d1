"""Issue 13's first "Done when", as a new admin does it with only the README, in a real
headless Chromium: ``ippproxy serve`` on the embedded default (what ``make run`` runs: no
configuration file, a fresh working directory; only its ports moved to free ones), open
the printed URL, log in with the printed password, add a queue pointing at an
``ippeveprinter`` (its capabilities fetched first), print to it with ``lp`` through a
private cupsd, see the job on the dashboard live and in the job list, pause the queue and
see the next job stay pending (``printer-stopped``) and not print, resume it and see it
print, change a cost model (``ippproxy cmd cost-model set``: the cost-model pages are
another change's) and see the next job priced by it. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import chromium, log_in, reloading, screenshot
from support.server import free_port, ippproxy_command, tracebacks

from testprinters.cupsd import PrivateCupsd
from testprinters.dbus import PrivateDBus
from testprinters.documents import make_pdf
from testprinters.eve import EvePrinter

WAIT = 60.0       # bound of every wait for something the server does on its own


@dataclass
class Served:
    cwd: Path
    port: int
    url: str
    password: str
    proc: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.cwd / "serve.log").read_text(errors="replace")

    def cmd(self, *args: str) -> str:
        """``ippproxy cmd`` in the same directory: the embedded default's database."""
        done = subprocess.run([*ippproxy_command(), "cmd", *args], cwd=self.cwd,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout


def _until(what: str, check: object, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    cwd = tmp_path_factory.mktemp("make-run")
    port = free_port()
    log = (cwd / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*ippproxy_command(), "serve", "--port", str(port),
         "--virtual-printer-port", str(free_port())],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    log.close()
    try:
        text = ""

        def banner() -> bool:
            nonlocal text
            assert proc.poll() is None, (cwd / "serve.log").read_text()
            text = (cwd / "serve.log").read_text()
            # The ready lines come after the log's "listening on" line: wait for the last.
            return ("the admin password is" in text
                    and re.search(r"Web pages: \S+\n", text) is not None)
        _until("the first-start banner", banner)
        url = re.search(r"Web pages: (\S+)", text)
        password = re.search(r"the admin password is (\S+)", text)
        assert url and password, text
        yield Served(cwd, port, url.group(1), password.group(1), proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def printers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EvePrinter, PrivateCupsd]]:
    base = tmp_path_factory.mktemp("printers")
    dbus = PrivateDBus(base / "dbus").start()
    eve = EvePrinter("FirstStepsEve", dbus=dbus, keep_files=True, spool_dir=base / "eve")
    cupsd = PrivateCupsd(dbus=dbus)
    try:
        eve.start()
        cupsd.start()
        yield eve, cupsd
    finally:
        cupsd.stop()
        eve.stop()
        dbus.stop()


def _rows(driver: webdriver.Chrome, which: str, served: Served, job_name: str) -> list[str]:
    for _ in range(5):
        driver.get(f"{served.url}/jobs?which={which}&queue=lab")
        try:
            return [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr")
                    if job_name in r.text]
        except StaleElementReferenceException:   # the page changed under us: look again
            continue
    raise AssertionError(f"the {which} job list kept changing while read")


def test_first_steps_from_the_readme(served: Served, printers: tuple[EvePrinter, PrivateCupsd],
                                     tmp_path: Path) -> None:
    eve, cupsd = printers
    # What the README promises `make run` prints (here on the port given instead of 8631).
    assert served.url == f"https://localhost:{served.port}/admin"
    doc = make_pdf(tmp_path / "one.pdf", 1)

    with chromium() as browser:
        # The pages update live (htmx, server-sent events): an element read while it is
        # replaced is looked up again.
        wait = WebDriverWait(browser, WAIT,
                             ignored_exceptions=(StaleElementReferenceException,))
        browser.get(served.url)                           # no session: the login page
        assert "/admin/login" in browser.current_url
        log_in(browser, served.url.removesuffix("/admin"), served.password)

        # Add a queue from the printer's URI: its capabilities first, then the form.
        browser.get(f"{served.url}/printers")
        browser.find_element(By.LINK_TEXT, "Add a queue").click()
        browser.find_element(By.ID, "probe-uri").send_keys(eve.uri)
        reloading(browser, browser.find_element(
            By.XPATH, "//button[.='Fetch its capabilities']").click)
        wait.until(lambda d: d.find_elements(By.ID, "caps-model"))
        shown = browser.find_element(By.ID, "caps").text
        for fmt in eve.formats:           # what ippeveprinter was started to take
            assert fmt in shown, (fmt, shown)
        # The description is filled in from the printer's printer-info (its name).
        assert browser.find_element(By.ID, "q-info").get_attribute("value") == "FirstStepsEve"
        browser.find_element(By.ID, "q-name").send_keys("lab")
        screenshot(browser, "printer-add")
        reloading(browser, browser.find_element(By.XPATH, "//button[.='Add the queue']").click)
        wait.until(lambda d: d.find_elements(By.ID, "p-lab"))
        assert eve.uri in browser.find_element(By.CSS_SELECTOR, "#p-lab .uri").text
        proxy_queue = f"ipp://localhost:{served.port}/printers/lab"
        cupsd.add_queue("lab", proxy_queue)

        # Print with lp; the dashboard shows it as it happens (no reload).
        browser.get(served.url)
        wait.until(lambda d: d.find_element(By.ID, "live-status").text == "live")
        browser.execute_script("window.notReloaded = true")
        printed_before = len(eve.spooled_files())
        cupsd.lp("lab", doc)
        wait.until(lambda d: [li for li in d.find_elements(
            By.CSS_SELECTOR, "#activity li.ev-job-printed") if "lab" in li.text])
        assert browser.execute_script("return window.notReloaded") is True
        screenshot(browser, "first-steps-dashboard")
        _until("the printer to get the job", lambda: len(eve.spooled_files()) > printed_before)
        assert _rows(browser, "history", served, "one.pdf") or \
            _rows(browser, "history", served, "one")

        # Pause: the next job stays pending, printer-stopped, and does not print.
        browser.get(f"{served.url}/printers")
        # A form: wait for the page it loads (a node of the page being replaced is
        # neither there nor stale to Chromium: support/browser.py reloading).
        reloading(browser, browser.find_element(
            By.XPATH, "//button[normalize-space()='Pause lab']").click)
        wait.until(lambda d: "paused" in d.find_element(
            By.CSS_SELECTOR, "#p-lab .queue-state").text)
        printed_before = len(eve.spooled_files())
        cupsd.lp("lab", doc)
        _until("the job to reach the server",
               lambda: any("pending" in r for r in _rows(browser, "active", served, "one")))
        time.sleep(2.0)      # ten forwarder polls: a paused queue's job must not move
        rows = _rows(browser, "active", served, "one")
        assert len(rows) == 1 and "pending" in rows[0] and "printer-stopped" in rows[0], rows
        assert len(eve.spooled_files()) == printed_before
        screenshot(browser, "first-steps-paused")

        # Resume: it prints.
        browser.get(f"{served.url}/printers")
        reloading(browser, browser.find_element(
            By.XPATH, "//button[normalize-space()='Resume lab']").click)
        wait.until(lambda d: "running" in d.find_element(
            By.CSS_SELECTOR, "#p-lab .queue-state").text)
        _until("the held-back job to print", lambda: len(eve.spooled_files()) > printed_before)
        _until("the job list to show it finished",
               lambda: not _rows(browser, "active", served, "one"))

        # A cost model for the queue (the command), chosen in the queue's edit form.
        served.cmd("cost-model", "set", "lab-prices", 'mono="0.25"', 'color="0.75"')
        browser.get(f"{served.url}/printers/lab/edit")
        wait.until(lambda d: d.find_elements(By.XPATH, "//option[.='lab-prices']"))
        browser.find_element(By.XPATH, "//option[.='lab-prices']").click()
        reloading(browser, browser.find_element(By.XPATH, "//button[.='Save lab']").click)
        wait.until(lambda d: "lab-prices" in d.find_element(
            By.CSS_SELECTOR, "#p-lab .cost-model").text)
        priced = price_of_next_job(browser, served, cupsd, doc, eve)
        assert priced == "0.25 EUR", priced

        # Change the model: the next job is priced by the new figures.
        # The command changes the database; the server takes it at its next catalog poll
        # and logs the new version once the pipeline has the new prices (app.py).
        taken = served.log().count("catalog version ")
        served.cmd("cost-model", "set", "lab-prices", 'mono="0.40"')
        _until("the server to take the new prices",
               lambda: served.log().count("catalog version ") > taken)
        priced = price_of_next_job(browser, served, cupsd, doc, eve)
        assert priced == "0.40 EUR", priced
        screenshot(browser, "first-steps-jobs")

    audit = served.cmd("audit", "--limit", "50")
    for action in ("create", "pause", "resume", "update"):
        assert re.search(rf"\b{action}\b.*\blab\b", audit), (action, audit)
    assert tracebacks(served.log()) == []


def price_of_next_job(browser: webdriver.Chrome, served: Served, cupsd: PrivateCupsd,
                      doc: Path, eve: EvePrinter) -> str:
    """Print ``doc`` once more; the price the job list shows for it once it printed (the
    history has one row more than before, the newest first, with its price)."""
    prices: list[str] = []

    def history() -> bool:
        browser.get(f"{served.url}/jobs?which=history&queue=lab")
        try:
            cells = browser.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr td.price")
            prices[:] = [c.text for c in cells]
        except StaleElementReferenceException:   # the page changed under us: look again
            return False
        return True

    _until("the job history", history)
    finished = len(prices)
    before = len(eve.spooled_files())
    cupsd.lp("lab", doc)
    _until("the job to print", lambda: len(eve.spooled_files()) > before)
    _until("the job list to show the newest job's price",
           lambda: history() and len(prices) > finished and prices[0] != "")
    return prices[0]
