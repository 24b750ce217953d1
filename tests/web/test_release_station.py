"""The release station page (issue 17 §6; web/pages/station.py), walked in headless
Chromium at tablet and phone width with screenshots (``docs/screenshots/release-*.png``):
identify by card, by name and password and by a job PIN (a PIN job printed with ipptool's
``print-job-password.test`` over IPPS), print one job, cancel one (refunded), a release the
printer refuses because it reports media-empty (the reason shown, the job still held), a
wrong password, and the session gone after one use. Besides: the forms refuse a post without
their CSRF token, and a kiosk session ends when idle (a clock moved, not a wait)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import PHONE, UNLABELLED_JS, chromium, screenshot
from support.media_empty import ThreadedPrinter
from support.server import IppProxy, ippproxy_command

from ippproxy.services.actor import Actor, Via
from ippproxy.web.pages.kiosk import KioskSessions

ROOT = Path(__file__).resolve().parents[2]
TABLET = (820, 1180)
EXTRA = """
[forwarding]
poll_interval = 0.2
[accounting]
enabled = true
unknown_users = "create"
settle_interval = 0.5
[[cost_model]]
name = "paper"
mono = "0.10"
color = "0.50"
"""


class Station:
    def __init__(self, proxy: IppProxy, jammed: str, work: Path) -> None:
        self.proxy, self.jammed, self.work = proxy, jammed, work
        self.db = f"sqlite:///{proxy.directory / 'ippproxy.db'}"

    def cmd(self, *args: str, stdin: str = "") -> Any:
        r = subprocess.run([*ippproxy_command(), "cmd", "--database", self.db, "--json", *args],
                           input=stdin, capture_output=True, text=True, timeout=60,
                           check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    def ipptool(self, queue: str, test: str, *, user: str, tls: bool = False,
                name: str = "report") -> str:
        path = self.work / f"{test}.test"
        if not path.exists():
            path.write_text(TESTS[test])
        scheme = "ipps" if tls else "ipp"
        uri = f"{scheme}://{self.proxy.authority}/printers/{queue}"
        done = subprocess.run(
            ["ipptool", "-T", "20", "-tv", "-f", str(self.work / "doc.pdf"),
             "-d", f"jobuser={user}", "-d", f"jobname={name}", uri, str(path)],
            check=False, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def jobs(self, queue: str) -> list[dict[str, Any]]:
        out = self.ipptool(queue, "get-jobs", user="alice")   # names: the owner's to see
        jobs: list[dict[str, Any]] = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("job-id ("):
                jobs.append({"id": int(line.rsplit("=", 1)[1])})
            elif jobs and " = " in line:
                key = line.split(" ", 1)[0]
                jobs[-1][key] = line.rsplit(" = ", 1)[1]
        return jobs

    def wait_job(self, queue: str, name: str, state: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            found = [j for j in self.jobs(queue) if j.get("job-name") == name]
            if found and found[-1].get("job-state") == state:
                return found[-1]
            assert time.monotonic() < deadline, found
            time.sleep(0.3)


TESTS = {
    "print": """{
  NAME "Print-Job" OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $jobuser
  ATTR name job-name $jobname
  FILE $filename
  STATUS successful-ok
}""",
    "get-jobs": """{
  NAME "Get-Jobs" OPERATION Get-Jobs
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $jobuser
  ATTR keyword which-jobs all
  ATTR keyword requested-attributes job-id,job-name,job-state,job-state-reasons
  STATUS successful-ok
}""",
}


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    work = tmp_path_factory.mktemp("station-docs")
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    doc.save(work / "doc.pdf")
    pin_test = (Path("/usr/share/cups/ipptool") / "print-job-password.test").read_text()
    (work / "pin.test").write_text(pin_test)
    with ThreadedPrinter() as jammed:
        proxy = IppProxy(tmp_path_factory.mktemp("station"), queues=[
            {"name": "desk", "release": "secure", "cost_model": "paper"},
            {"name": "pins"},                                # free: its users are new
            {"name": "jammed", "release": "secure", "destination": jammed.uri}])
        proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
        with proxy:
            st = Station(proxy, jammed.uri, work)
            st.cmd("add-internal-user", "alice", "--password-file", "-", "--balance", "10.00",
                   "--card-number", "0413-2027", stdin="alice-pw-1\n")
            yield st
            assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _field(driver: webdriver.Chrome, id_: str, text: str) -> None:
    el = driver.find_element(By.ID, id_)
    el.clear()
    el.send_keys(text)


def _submit(driver: webdriver.Chrome, id_: str) -> None:
    driver.find_element(By.ID, id_).find_element(By.XPATH, "ancestor::form").submit()


def _message(driver: webdriver.Chrome) -> str:
    """The answer's message, once the answer's page has loaded."""
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "message"))
    return driver.find_element(By.ID, "message").text


def _signed_in(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".who"))


def _check_page(driver: webdriver.Chrome) -> None:
    # Every control named; a kiosk has no navigation (one task, no other pages).
    assert [x for x in driver.execute_script(UNLABELLED_JS) if "<nav>" not in x] == []
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    assert not driver.find_elements(By.CSS_SELECTOR, "header.top")     # no admin chrome
    for b in driver.find_elements(By.TAG_NAME, "button"):
        assert b.size["height"] >= 44, b.get_attribute("outerHTML")     # touch targets


def test_the_station_by_card_password_and_pin(station: Station) -> None:
    for name in ("quarterly", "draft"):
        station.ipptool("desk", "print", user="alice", name=name)
        station.wait_job("desk", name, "pending-held")
    with chromium(TABLET) as driver:
        base = station.proxy.https
        driver.get(f"{base}/release/desk")
        _check_page(driver)
        screenshot(driver, "release-identify")
        _field(driver, "username", "alice")
        _field(driver, "password", "wrong-password")
        _submit(driver, "password")
        assert _message(driver) == "Wrong name or password."
        screenshot(driver, "release-wrong-password")
        _field(driver, "card", "0413-2027")                          # by card
        _submit(driver, "card")
        _signed_in(driver)
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jobs .name")]
        assert names == ["quarterly", "draft"]
        _check_page(driver)
        screenshot(driver, "release-jobs")
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Print quarterly']").click()
        assert "is printing" in _message(driver)
        screenshot(driver, "release-printed")
        station.wait_job("desk", "quarterly", "completed")
        driver.get(f"{base}/release/desk")                           # one use: signed out
        assert driver.find_elements(By.ID, "card")
        _field(driver, "username", "alice")                          # by name and password
        _field(driver, "password", "alice-pw-1")
        _submit(driver, "password")
        _signed_in(driver)
        assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jobs .name")] == [
            "draft"]
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Cancel draft']").click()
        assert "nothing is charged" in _message(driver)
        station.wait_job("desk", "draft", "canceled")
        # A PIN job: CUPS's print-job-password.test (PIN 1234) over IPPS.
        station.ipptool("pins", "pin", user="ippeval", tls=True, name="pin-job")
        held = [j for j in station.jobs("pins") if j.get("job-state") == "pending-held"]
        assert held and held[-1]["job-state-reasons"] == "job-password-wait", held
        driver.get(f"{base}/release/pins")
        _field(driver, "pin", "4321")
        _submit(driver, "pin")
        assert _message(driver) == "No job on this printer has that PIN."
        _field(driver, "pin", "1234")
        _submit(driver, "pin")
        assert "is printing" in _message(driver)
        screenshot(driver, "release-pin")
        deadline = time.monotonic() + 60
        while station.jobs("pins")[-1].get("job-state") != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.3)


def test_a_release_refused_while_the_printer_reports_media_empty(station: Station) -> None:
    station.ipptool("jammed", "print", user="alice", name="poster")
    station.wait_job("jammed", "poster", "pending-held")
    with chromium(PHONE) as driver:
        driver.get(f"{station.proxy.https}/release/jammed")
        _check_page(driver)
        _field(driver, "username", "alice")
        _field(driver, "password", "alice-pw-1")
        _submit(driver, "password")
        _signed_in(driver)
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Print poster']").click()
        message = _message(driver)
        assert "media-empty" in message and "stays held" in message, message
        _check_page(driver)
        screenshot(driver, "release-media-empty")
    assert station.wait_job("jammed", "poster", "pending-held")


def test_forms_need_their_csrf_token(station: Station) -> None:
    base = station.proxy.https
    s = requests.Session()
    cert = str(station.proxy.cert)
    page = s.get(f"{base}/release/desk", timeout=30, verify=cert)
    assert page.status_code == 200 and "form_token" in page.text
    r = s.post(f"{base}/release/desk/login", data={"how": "password", "username": "alice",
                                                     "password": "alice-pw-1"}, timeout=30,
               verify=cert)                  # the form cookie, but not the form's token
    assert r.status_code == 403 and "expired" in r.text
    r = s.post(f"{base}/release/desk/act", data={"action": "release-all"}, timeout=30,
               verify=cert)
    assert r.status_code == 401
    assert s.get(f"{base}/release/nosuch", timeout=30, verify=cert).status_code == 404


def test_print_all_by_card_with_a_plain_http_client(station: Station) -> None:
    for name in ("all-1", "all-2"):
        station.ipptool("desk", "print", user="alice", name=name)
        station.wait_job("desk", name, "pending-held")
    base, cert = station.proxy.https, str(station.proxy.cert)
    s = requests.Session()
    page = s.get(f"{base}/release/desk", timeout=30, verify=cert)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    jobs = s.post(f"{base}/release/desk/login", data={
        "form_token": token.group(1), "how": "card", "card": "0413-2027"}, timeout=30,
        verify=cert)
    assert jobs.status_code == 200 and "all-1" in jobs.text and "all-2" in jobs.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', jobs.text)
    assert csrf is not None
    done = s.post(f"{base}/release/desk/act", data={
        "csrf_token": csrf.group(1), "action": "release-all"}, timeout=30, verify=cert)
    assert done.status_code == 200 and "2 job(s) printing." in done.text, done.text
    for name in ("all-1", "all-2"):
        station.wait_job("desk", name, "completed")
    again = s.post(f"{base}/release/desk/act", data={
        "csrf_token": csrf.group(1), "action": "release-all"}, timeout=30, verify=cert)
    assert again.status_code == 401                    # the session ended with its use


def test_a_kiosk_session_ends_when_idle() -> None:
    now = [0.0]
    kiosks = KioskSessions(idle=90.0, clock=lambda: now[0])
    sid, _ = kiosks.open(Actor("alice", Via.SESSION), "desk")
    now[0] = 60.0
    assert kiosks.get(sid, "desk") is not None       # a request restarts the idle time
    assert kiosks.get(sid, "other") is None          # bound to its printer
    sid, _ = kiosks.open(Actor("alice", Via.SESSION), "desk")
    now[0] = 200.0
    assert kiosks.get(sid, "desk") is None


def test_wrong_passwords_and_pins_are_throttled(station: Station) -> None:
    """Last in this module: the kiosk's address is throttled afterwards (as a login page's
    would be, services/throttle.py: five failures free, then a growing wait)."""
    base, cert = station.proxy.https, str(station.proxy.cert)
    s = requests.Session()
    codes = []
    for i in range(8):
        page = s.get(f"{base}/release/pins", timeout=30, verify=cert)
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token is not None
        data = ({"how": "pin", "pin": f"{9000 + i}"} if i % 2 else
                {"how": "password", "username": "alice", "password": f"nope-{i}"})
        r = s.post(f"{base}/release/pins/login", data={"form_token": token.group(1), **data},
                   timeout=30, verify=cert)
        codes.append(r.status_code)
        if r.status_code == 429:
            assert "Too many wrong attempts" in r.text
            break
    assert codes[-1] == 429 and set(codes[:-1]) == {401}, codes
    page = s.get(f"{base}/release/pins", timeout=30, verify=cert)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    r = s.post(f"{base}/release/pins/login", data={
        "form_token": token.group(1), "how": "password", "username": "alice",
        "password": "alice-pw-1"}, timeout=30, verify=cert)
    assert r.status_code == 429            # not even checked while the wait lasts
