"""The admin's Find-Me release on the jobs page (issue 17 point 7), in a real headless
Chromium against the real ``ippproxy serve``: a held job of a Find-Me queue offers the
printers of its group (a labelled select, no other release button), the admin releases it
at one and it leaves the held list; at phone width the page does not scroll sideways.

Two queues on the built-in printer form the group; "findme" holds every job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import PHONE, UNLABELLED_JS, chromium, log_in, screenshot
from support.server import IppProxy
from support.webapi import Client, first_password

from .conftest import ipp_print, page_admin, pages_server

ACCOUNTING = """
[accounting]
enabled = true
unknown_users = "create"
initial_balance = "10.00"
[[cost_model]]
name = "colour"
mono = "0.10"
color = "0.50"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    srv = pages_server(tmp_path_factory.mktemp("findme-pages"), queues=[
        {"name": "lab-a", "destination": "builtin", "cost_model": "colour"},
        {"name": "lab-b", "destination": "builtin", "cost_model": "colour"},
        {"name": "findme", "destination": "builtin", "findme_printers": ["lab-a", "lab-b"]}])
    srv.config_path.write_text(srv.config_path.read_text() + ACCOUNTING)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def admin(server: IppProxy) -> Client:
    return page_admin(server)


def test_the_admin_releases_a_findme_job_at_a_printer(server: IppProxy, admin: Client,
                                                        pdf: Path) -> None:
    ipp_print(server, pdf, user="alice", queue="findme", name="findme-report")
    ipp_print(server, pdf, user="bob", queue="lab-a", hold=True, name="plain-held")
    with chromium() as browser:
        log_in(browser, server.https, first_password(server))
        browser.get(f"{server.https}/admin/jobs?which=held")
        assert browser.execute_script(UNLABELLED_JS) == []
        row = browser.find_element(By.XPATH, "//tr[td[normalize-space()='findme']]")
        choose = Select(row.find_element(By.TAG_NAME, "select"))
        assert [o.text for o in choose.options] == ["lab-a", "lab-b"]
        assert not row.find_elements(By.XPATH, ".//button[normalize-space()='Release']")
        plain = browser.find_element(By.XPATH, "//tr[td[normalize-space()='lab-a']]")
        assert plain.find_elements(By.XPATH, ".//button[normalize-space()='Release']")
        assert not plain.find_elements(By.TAG_NAME, "select")
        screenshot(browser, "findme-jobs-held")
        choose.select_by_visible_text("lab-b")
        row.find_element(By.XPATH, ".//button[normalize-space()='Release at']").click()
        WebDriverWait(browser, 30).until(lambda d: not d.find_elements(
            By.XPATH, "//tr[td[normalize-space()='findme']]"))
    jobs = admin.get("/api/v1/jobs", params={"user": "alice"}).json()["items"]
    assert [j["printer"] for j in jobs] == ["lab-b"], jobs


def test_phone_width(server: IppProxy, pdf: Path) -> None:
    ipp_print(server, pdf, user="carol", queue="findme", name="on-the-phone")
    with chromium(PHONE) as phone:
        log_in(phone, server.https, first_password(server))
        phone.get(f"{server.https}/admin/jobs?which=held")
        assert phone.find_elements(By.TAG_NAME, "select")
        width = phone.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0], width
        screenshot(phone, "findme-jobs-held-phone")
