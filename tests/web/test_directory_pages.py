"""The user source page ``/admin/directory`` in a real headless Chromium against a real
``ippproxy serve`` reading a throwaway slapd: the settings without the bind password, the
fields a sync may overwrite, a paged preview, Apply, the bulk delete only with its box
ticked, the last sync's status; a directory that is down: a clear reason, nothing
changed. Each control labelled; usable at phone width. Screenshots ``directory-*``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from support.admin_login import log_in
from support.browser import PHONE, UNLABELLED_JS, chromium, reloading, screenshot
from support.ldap_server import add_person, ldap_proxy, remove_person, seeded_slapd
from support.server import IppProxy, tracebacks
from support.slapd import ROOT_PW, Slapd
from support.webapi import Client, first_password, login


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    d = seeded_slapd(tmp_path_factory.mktemp("slapd"))
    for i in range(1, 27):  # 30 people: the preview has two pages of 25
        add_person(d, f"user{i:02d}", f"User Number{i:02d}")
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> Iterator[IppProxy]:
    p = ldap_proxy(tmp_path_factory.mktemp("dirpages"), directory)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def api(server: IppProxy) -> Client:
    return login(server.https, "admin", first_password(server))


@pytest.fixture(scope="module")
def browser(server: IppProxy) -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        log_in(driver, server.https, "admin", first_password(server))
        yield driver


def cells(driver: webdriver.Chrome, table: str) -> list[str]:
    return [c.text for c in driver.find_elements(
        By.CSS_SELECTOR, f"#{table} tbody tr td:first-child")]


def notice(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".notice").text)


def test_preview_apply_and_bulk_delete(browser: webdriver.Chrome, server: IppProxy,
                                       api: Client, directory: Slapd) -> None:
    browser.get(server.https + "/admin/directory")
    source = browser.find_element(By.ID, "source").text
    assert directory.url in source and "cn=admin" in source
    assert ROOT_PW not in browser.page_source                 # never the bind password
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#overwrite li")] == [
        "card-number", "email", "full-name", "id-number"]
    assert "No sync" in browser.find_element(By.ID, "last-sync").text
    assert browser.execute_script(UNLABELLED_JS) == []
    reloading(browser, browser.find_element(By.ID, "preview-link").click)
    assert "30 to add" in browser.find_element(By.ID, "preview-totals").text
    first = cells(browser, "preview-adds")
    assert len(first) == 25 and first[:2] == ["alice", "bob"]
    screenshot(browser, "directory-preview")
    reloading(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click)
    assert cells(browser, "preview-adds") == ["user22", "user23", "user24", "user25",
                                              "user26"]
    assert api.get("/api/v1/users/alice").status_code == 404   # a preview writes nothing

    reloading(browser, browser.find_element(By.ID, "apply").click)
    assert "30 added" in notice(browser)
    assert api.get("/api/v1/users/alice").json()["groups"] == ["staff"]
    assert "adds" in browser.find_element(By.ID, "last-sync").text
    # A synced user's edit page marks the fields the next sync overwrites (issue 18).
    browser.get(server.https + "/admin/users/alice")
    marks = browser.find_elements(By.CSS_SELECTOR, "small.synced")
    assert len(marks) >= 2, browser.page_source[:3000]
    assert all("next directory sync overwrites" in m.text for m in marks)
    screenshot(browser, "directory-user-edit-marks")

    remove_person(directory, "carol")
    browser.get(server.https + "/admin/directory?preview=1")
    assert cells(browser, "preview-deletes") == ["carol"]
    reloading(browser, browser.find_element(By.ID, "apply").click)   # box not ticked
    assert "1 user(s) gone from the directory kept" in notice(browser)
    assert api.get("/api/v1/users/carol").status_code == 200
    browser.find_element(By.ID, "f-delete_missing").click()
    screenshot(browser, "directory-bulk-delete")
    reloading(browser, browser.find_element(By.ID, "apply").click)
    assert "1 deleted" in notice(browser)
    assert api.get("/api/v1/users/carol").status_code == 404
    reloading(browser, browser.find_element(By.ID, "apply").click)
    assert "Nothing to change: the users match" in notice(browser)


def test_phone_width_and_a_directory_that_is_down(server: IppProxy, api: Client,
                                                  directory: Slapd) -> None:
    with chromium(PHONE) as phone:
        log_in(phone, server.https, "admin", first_password(server))
        phone.get(server.https + "/admin/directory?preview=1")
        wide = phone.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth")
        assert not wide
        screenshot(phone, "directory-phone")
        before = api.get("/api/v1/users", params={"limit": 1}).json()["total"]
        directory.stop()
        phone.get(server.https + "/admin/directory?preview=1")
        error = phone.find_element(By.ID, "sync-error").text
        assert "unreachable" in error and "nothing was changed" in error
        phone.find_element(By.ID, "f-delete_missing").click()
        reloading(phone, phone.find_element(By.ID, "apply").click)
        assert "nothing was changed or deleted" in phone.find_element(By.ID, "sync-error").text
        assert "unreachable" in phone.find_element(By.ID, "last-sync").text
        screenshot(phone, "directory-down")
    assert api.get("/api/v1/users", params={"limit": 1}).json()["total"] == before
    assert tracebacks(server.log()) == []
