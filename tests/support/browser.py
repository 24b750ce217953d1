"""Headless Chromium for the web tests: Debian's ``chromium`` driven by Selenium through
Debian's ``chromium-driver`` (both in the Makefile's DEB_PACKAGES).

Nothing is downloaded at run time: the driver and browser paths are given explicitly, so
Selenium Manager is never consulted, and ``SE_OFFLINE`` forbids it anyway. A missing
browser fails the test with the apt-get line to run; it is never skipped.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (390, 844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _check_installed() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install chromium chromium-driver "
                    "(make test installs them)", pytrace=False)


# Idle browsers of this test process, by window size: a test takes one and gives it back
# clean (no cookies, no cache, on about:blank), so a run launches a handful of Chromiums
# instead of one per test (each launch is about a second of CPU on the 2-core CI machine).
_IDLE: dict[tuple[int, int], list[webdriver.Chrome]] = {}


def _start(size: tuple[int, int]) -> webdriver.Chrome:
    os.environ["SE_OFFLINE"] = "true"
    options = Options()
    options.binary_location = CHROMIUM
    # The server's own self-signed certificate (server/tls.py): the tests' browser takes it
    # (WebDriver acceptInsecureCerts) as an admin accepts it once in theirs.
    options.accept_insecure_certs = True
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def _renders(driver: webdriver.Chrome) -> bool:
    """The browser and a renderer of a real page answer: a data: document (which, unlike
    about:blank, needs a renderer process) is loaded and its script runs."""
    try:
        driver.get("data:text/html,<title>ready</title>")
        return bool(driver.execute_script("return document.title === 'ready';"))
    except WebDriverException:
        return False


LAUNCHES = 3


def _launch(size: tuple[int, int]) -> webdriver.Chrome:
    """A new Chromium that has rendered a page. On the loaded 2-core CI machine a fresh
    Chromium once died on its first navigation ("browser has closed the connection ...
    Unable to receive message from renderer", CI of 6f9daf7), before the test had done
    anything: the browser is tried here, and one that dies is replaced (said on stderr),
    so that a test fails only for what its pages do."""
    _check_installed()
    for attempt in range(1, LAUNCHES + 1):
        driver = _start(size)
        if _renders(driver):
            return driver
        with contextlib.suppress(Exception):
            driver.quit()
        print(f"support.browser: Chromium launch {attempt} of {LAUNCHES} did not render a "
              "page; launching another", file=sys.stderr)
    pytest.fail(f"Chromium did not render a page in {LAUNCHES} launches", pytrace=False)


def _forget(driver: webdriver.Chrome) -> bool:
    """Back to a browser that has seen nothing: one window on about:blank, no cookies
    (for every host: the tests' servers all live on 127.0.0.1, whose cookies ignore the
    port), no cache, no storage. False when the browser does not answer (it is quit)."""
    try:
        handles = driver.window_handles
        for extra in handles[1:]:
            driver.switch_to.window(extra)
            driver.close()
        driver.switch_to.window(handles[0])
        driver.get("about:blank")
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        driver.execute_cdp_cmd("Storage.clearDataForOrigin",
                               {"origin": "*", "storageTypes": "all"})
        return True
    except WebDriverException:
        return False


@atexit.register
def quit_idle() -> None:
    for drivers in _IDLE.values():
        for driver in drivers:
            with contextlib.suppress(Exception):
                driver.quit()
    _IDLE.clear()


@contextmanager
def chromium(size: tuple[int, int] = DESKTOP) -> Iterator[webdriver.Chrome]:
    """One headless Chromium window of ``size`` CSS pixels (its inner width is set by
    the device metrics, not the window frame, so 390 means a 390 px wide viewport), with
    no cookies or storage from an earlier test: an idle one of this process when there is
    one, else a new one."""
    idle = _IDLE.setdefault(size, [])
    driver = None
    while idle and driver is None:
        driver = idle.pop()
        if not _renders(driver):         # died while idle: quit, take another
            with contextlib.suppress(Exception):
                driver.quit()
            driver = None
    if driver is None:
        driver = _launch(size)
    kept = False
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1,
            "mobile": size[0] < 500})
        yield driver
        kept = _forget(driver)
    finally:
        if kept:
            idle.append(driver)
        else:
            with contextlib.suppress(Exception):
                driver.quit()


def log_in(driver: webdriver.Chrome, base: str, password: str, name: str = "admin") -> None:
    """The login page, as a person fills it in: name, password, Enter; on to /admin."""
    driver.get(base + "/admin/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    WebDriverWait(driver, 20).until(
        lambda d: d.current_url.rstrip("/").endswith("/admin")
        and d.find_elements(By.ID, "live-status"))


def screenshot(driver: webdriver.Chrome, name: str, *, full_page: bool = True) -> Path:
    """Write ``docs/screenshots/<name>.png`` (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        width = int(driver.execute_script("return window.innerWidth"))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": max(height, 200), "deviceScaleFactor": 1,
            "mobile": width < 500})
    driver.save_screenshot(str(path))
    return path


# Every form control must have an accessible name: a <label for>, a wrapping <label>,
# aria-label or aria-labelledby (WCAG 2.2 SC 1.3.1, 4.1.2; axe rule "label"); buttons and
# links need text or aria-label (axe "button-name", "link-name"). Returns the offenders.
UNLABELLED_JS = """
const out = [];
const named = (el) => {
  if (el.getAttribute('aria-label')) return true;
  const by = el.getAttribute('aria-labelledby');
  if (by && by.split(/\\s+/).every(id => document.getElementById(id))) return true;
  if (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) return true;
  if (el.closest('label')) return true;
  return false;
};
for (const el of document.querySelectorAll('input, select, textarea, meter')) {
  if (el.type === 'hidden') continue;
  if (!named(el)) out.push(el.outerHTML.slice(0, 120));
}
for (const el of document.querySelectorAll('button, a[href]')) {
  if (!(el.textContent.trim() || el.getAttribute('aria-label'))) out.push(el.outerHTML.slice(0, 120));
}
for (const el of document.querySelectorAll('svg[role="img"]')) {
  if (!el.querySelector('title') || !el.getAttribute('aria-labelledby')) out.push('svg without a name');
}
if (!document.querySelector('main')) out.push('no <main> landmark');
if (!document.querySelector('nav')) out.push('no <nav> landmark');
if (!document.documentElement.lang) out.push('no lang on <html>');
return out;
"""

# Every element a keyboard user must reach: links, buttons, form controls, summaries.
FOCUSABLE_JS = """
return Array.from(document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'))
  .filter(el => !el.disabled && el.getClientRects().length > 0);
"""


def reloading(driver: webdriver.Chrome, act: Callable[[], object], timeout: float = 60) -> None:
    """Do ``act`` (a click, a key) and wait until the page it loads is complete.

    A mark set on the old document's window is gone once a new document has replaced it:
    unlike polling the old ``<html>`` element for staleness, this never asks Chromium about
    a node of a document that is being torn down (which it answers with "Node with given
    id does not belong to the document", not a stale-element error)."""
    driver.execute_script("window.__ippproxyOldPage = true;")
    act()

    def loaded(d: webdriver.Chrome) -> bool:
        try:
            return bool(d.execute_script(
                "return window.__ippproxyOldPage !== true"
                " && document.readyState === 'complete';"))
        except WebDriverException:     # asked mid-navigation: ask again until the deadline
            return False

    WebDriverWait(driver, timeout).until(loaded)
