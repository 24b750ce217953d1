"""The release station's test kit (web/pages/station.py): a server's ``ippproxy cmd``,
ipptool jobs on its queues and their states, and the station page's controls in Chromium
(tests/web/test_release_station.py, test_release_user_pin.py)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pikepdf
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import UNLABELLED_JS
from support.cmd import run_cmd
from support.server import IppProxy

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


def documents(work: Path) -> Path:
    """``work`` with a one-page PDF and CUPS's PIN job test (PIN 1234) in it."""
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    doc.save(work / "doc.pdf")
    pin_test = (Path("/usr/share/cups/ipptool") / "print-job-password.test").read_text()
    (work / "pin.test").write_text(pin_test)
    return work


class Station:
    def __init__(self, proxy: IppProxy, jammed: str, work: Path) -> None:
        self.proxy, self.jammed, self.work = proxy, jammed, work
        self.db = f"sqlite:///{proxy.directory / 'ippproxy.db'}"

    def cmd(self, *args: str, stdin: str = "") -> Any:
        r = run_cmd(["--database", self.db, "--json", *args], stdin=stdin)
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

    def jobs(self, queue: str, owner: str = "alice") -> list[dict[str, Any]]:
        out = self.ipptool(queue, "get-jobs", user=owner)   # names: the owner's to see
        jobs: list[dict[str, Any]] = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("job-id ("):
                jobs.append({"id": int(line.rsplit("=", 1)[1])})
            elif jobs and " = " in line:
                key = line.split(" ", 1)[0]
                jobs[-1][key] = line.rsplit(" = ", 1)[1]
        return jobs

    def wait_job(self, queue: str, name: str, state: str,
                 owner: str = "alice") -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            found = [j for j in self.jobs(queue, owner) if j.get("job-name") == name]
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


def field(driver: webdriver.Chrome, id_: str, text: str) -> None:
    el = driver.find_element(By.ID, id_)
    el.clear()
    el.send_keys(text)


def submit(driver: webdriver.Chrome, id_: str) -> None:
    driver.find_element(By.ID, id_).find_element(By.XPATH, "ancestor::form").submit()


def message(driver: webdriver.Chrome) -> str:
    """The answer's message, once the answer's page has loaded."""
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "message"))
    return driver.find_element(By.ID, "message").text


def signed_in(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".who"))


def check_page(driver: webdriver.Chrome) -> None:
    # Every control named; a kiosk has no navigation (one task, no other pages).
    assert [x for x in driver.execute_script(UNLABELLED_JS) if "<nav>" not in x] == []
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    assert not driver.find_elements(By.CSS_SELECTOR, "header.top")     # no admin chrome
    for b in driver.find_elements(By.TAG_NAME, "button"):
        assert b.size["height"] >= 44, b.get_attribute("outerHTML")     # touch targets
