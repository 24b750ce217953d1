"""The admin pages in a real headless Chromium against the real ``ippproxy serve``.

* the dashboard shows a job printed with ipptool as it happens: the activity list and the
  figures change without a reload (server-sent events, htmx);
* the keyboard reaches every control of every page, and a button works from the keyboard;
* at phone width (390 px) no page scrolls sideways;
* every form control, button, link and chart has an accessible name, and the landmarks
  are there (an axe-like check in the page);
* screenshots of the main pages go to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import FOCUSABLE_JS, PHONE, UNLABELLED_JS, chromium, log_in, screenshot
from support.server import IppProxy
from support.webapi import Client, first_password

from .conftest import ipp_print

PAGES = ("/admin/", "/admin/charts", "/admin/jobs?which=held", "/admin/jobs?which=history",
         "/admin/printers", "/admin/printers/new")


@pytest.fixture(scope="module")
def browser(served: IppProxy, served_admin: Client) -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        log_in(driver, served.https, first_password(served))
        yield driver


@pytest.fixture(scope="module")
def with_jobs(served: IppProxy, served_admin: Client, pdf: Path) -> IppProxy:
    """Some history for the charts, and a held job for the held list's buttons."""
    for user in ("alice", "bob", "alice"):
        ipp_print(served, pdf, user=user)
    ipp_print(served, pdf, user="carol", hold=True, name="held-report")
    # Printed before the first dashboard draws its charts (their sums are reused a minute).
    deadline = time.monotonic() + 20
    while 'id="n-printed">3<' not in served_admin.get("/admin/fragments/summary").text:
        assert time.monotonic() < deadline, "the jobs did not print"
        time.sleep(0.2)
    return served


def url(server: IppProxy, path: str) -> str:
    return f"{server.https}{path}"


def _activity(driver: webdriver.Chrome, kind: str, job_id: str) -> list[WebElement]:
    return [li for li in driver.find_elements(By.CSS_SELECTOR, f"#activity li.ev-{kind}")
            if f"job {job_id}" in li.text]


def test_dashboard_shows_a_printed_job_live(browser: webdriver.Chrome, with_jobs: IppProxy,
                                            pdf: Path) -> None:
    browser.get(url(with_jobs, "/admin/"))
    # Live updates swap the counters and the activity list while we read them: an
    # element found a moment ago may be gone; look again.
    wait = WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: d.find_element(By.ID, "live-status").text == "live")
    browser.execute_script("window.notReloaded = true")
    # (a tuple: a count of 0 is an answer, not "not yet")
    (printed_before,) = wait.until(lambda d: (int(d.find_element(By.ID, "n-printed").text),))
    out = ipp_print(with_jobs, pdf, user="dave", name="live-one")
    job_id = out.split("job-id (integer) = ")[1].split()[0]
    wait.until(lambda d: _activity(d, "job-printed", job_id))
    # The received event came first: it is there already (a stale read is looked at again).
    WebDriverWait(browser, 2, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: _activity(d, "job-received", job_id))
    wait.until(lambda d: int(d.find_element(By.ID, "n-printed").text) > printed_before)
    assert browser.execute_script("return window.notReloaded") is True
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#charts svg[role=img]"))
    screenshot(browser, "dashboard")


def _tab_through(driver: webdriver.Chrome, limit: int) -> list[WebElement]:
    body = driver.find_element(By.TAG_NAME, "body")
    body.click()
    reached: list[WebElement] = []
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        el = driver.switch_to.active_element
        if reached and el == reached[0]:
            break
        reached.append(el)
    return reached


@pytest.mark.parametrize("path", PAGES)
def test_keyboard_reaches_every_control(browser: webdriver.Chrome, with_jobs: IppProxy,
                                        path: str) -> None:
    browser.get(url(with_jobs, path))
    focusable: list[WebElement] = browser.execute_script(FOCUSABLE_JS)
    assert focusable, "the page has controls"
    reached = _tab_through(browser, len(focusable) + 5)
    missing = [f.get_attribute("outerHTML")[:100] for f in focusable if f not in reached]
    assert not missing, missing


def test_a_button_works_from_the_keyboard(browser: webdriver.Chrome,
                                          with_jobs: IppProxy) -> None:
    browser.get(url(with_jobs, "/admin/printers"))
    pause = browser.find_element(By.XPATH, "//button[normalize-space()='Pause office']")
    browser.execute_script("arguments[0].focus()", pause)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Resume office']"))
    assert "paused" in browser.find_element(By.CSS_SELECTOR, "#p-office .queue-state").text
    screenshot(browser, "printers")
    browser.find_element(By.XPATH, "//button[normalize-space()='Resume office']").send_keys(
        Keys.ENTER)
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Pause office']"))


@pytest.mark.parametrize("path", PAGES)
def test_every_control_has_a_name(browser: webdriver.Chrome, with_jobs: IppProxy,
                                  path: str) -> None:
    browser.get(url(with_jobs, path))
    assert browser.execute_script(UNLABELLED_JS) == []
    if path == "/admin/jobs?which=held":
        assert browser.find_elements(By.XPATH, "//button[normalize-space()='Release']")
        screenshot(browser, "jobs-held")


def test_the_login_page_is_labelled_and_says_what_failed(with_jobs: IppProxy) -> None:
    with chromium() as fresh:
        fresh.get(url(with_jobs, "/admin/printers"))     # no session: to the login page
        assert "/admin/login?next=" in fresh.current_url
        assert fresh.execute_script(UNLABELLED_JS) == []
        fresh.find_element(By.ID, "username").send_keys("admin")
        fresh.find_element(By.ID, "password").send_keys("not the password", Keys.ENTER)
        alert = WebDriverWait(fresh, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
        assert alert[0].text == "Wrong name or password."
        assert "/admin/login" in fresh.current_url
        screenshot(fresh, "login")
        fresh.find_element(By.ID, "password").send_keys(first_password(with_jobs), Keys.ENTER)
        WebDriverWait(fresh, 10).until(lambda d: d.current_url.endswith("/admin/printers"))
        fresh.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
        WebDriverWait(fresh, 10).until(lambda d: "/admin/login" in d.current_url)
        fresh.get(url(with_jobs, "/admin/jobs"))
        assert "/admin/login?next=" in fresh.current_url


def test_phone_width_has_no_horizontal_scroll(with_jobs: IppProxy) -> None:
    with chromium(PHONE) as phone:
        log_in(phone, with_jobs.https, first_password(with_jobs))
        for path in PAGES:
            phone.get(url(with_jobs, path))
            inner, scroll = phone.execute_script(
                "return [window.innerWidth, document.documentElement.scrollWidth]")
            assert inner == PHONE[0]
            assert scroll <= inner, f"{path} is {scroll} px wide at {inner} px"
        phone.get(url(with_jobs, "/admin/"))
        screenshot(phone, "dashboard-phone")


BROKEN_WORDS_JS = """
const broken = [];
for (const td of document.querySelectorAll('table.audit td')) {
  if (td.querySelector('code')) continue;        // JSON: a long value may break
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (const m of n.data.matchAll(/\\S+/g)) {
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
}
return [broken, document.querySelectorAll('table.audit tbody tr').length];
"""


def test_the_audit_log_keeps_words_whole_at_phone_width(with_jobs: IppProxy) -> None:
    """Its columns do not break words (a date, an action, a name split over two lines);
    the table scrolls sideways in its own box instead, never the page."""
    with chromium(PHONE) as phone:
        log_in(phone, with_jobs.https, first_password(with_jobs))
        phone.get(url(with_jobs, "/admin/audit"))
        broken, rows = phone.execute_script(BROKEN_WORDS_JS)
        assert rows >= 2, rows
        assert broken == [], broken
        inner, scroll = phone.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll <= inner
