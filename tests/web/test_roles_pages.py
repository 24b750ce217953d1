"""Roles through groups in a real headless Chromium and over the REST API, on a real
``ippproxy serve`` whose users come from a throwaway slapd: a group's tri-state roles
(on ``/admin/roles`` and on the group's page), the built-in External Users and All
Users, and a user's resolved roles with the level that decided each; bad states refused,
changes audited with before and after. Screenshots ``directory-roles*``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from support.admin_login import log_in
from support.browser import PHONE, UNLABELLED_JS, chromium, reloading, screenshot
from support.ldap_server import ldap_proxy, seeded_slapd
from support.server import IppProxy, tracebacks
from support.slapd import Slapd
from support.webapi import Client, first_password, login


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    d: Slapd = seeded_slapd(tmp_path_factory.mktemp("slapd"))
    p = ldap_proxy(tmp_path_factory.mktemp("roles"), d)
    try:
        yield p
    finally:
        p.stop()
        d.stop()


@pytest.fixture(scope="module")
def api(server: IppProxy) -> Client:
    a = login(server.https, "admin", first_password(server))
    assert a.post("/api/v1/directory/apply", json={}).json()["applied"]
    return a


@pytest.fixture(scope="module")
def browser(server: IppProxy) -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        log_in(driver, server.https, "admin", first_password(server))
        yield driver


def resolved(api: Client, user: str) -> dict[str, tuple[bool, str]]:
    r = api.get(f"/api/v1/users/{user}/roles")
    assert r.status_code == 200, r.text
    return {k: (v["granted"], v["source"]) for k, v in r.json()["roles"].items()}


def test_group_and_builtin_roles_decide_a_users_roles(browser: webdriver.Chrome,
                                                      server: IppProxy, api: Client) -> None:
    assert resolved(api, "alice")["web-cashier"] == (False, "default")
    assert resolved(api, "dave")["print-job-creator"] == (True, "default")
    browser.get(server.https + "/admin/roles")
    assert browser.execute_script(UNLABELLED_JS) == []
    Select(browser.find_element(By.ID, "f-group")).select_by_value("staff")
    reloading(browser, browser.find_element(By.ID, "choose-group").click)
    browser.find_element(By.ID, "chosen-web-cashier-enabled").click()
    reloading(browser, browser.find_element(By.ID, "chosen-save").click)
    assert "Saved the roles of staff" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert resolved(api, "alice")["web-cashier"] == (True, "group staff")
    assert resolved(api, "dave")["web-cashier"] == (False, "default")      # not in staff

    # External Users grants release-approver; All Users takes print-job-creator away.
    browser.find_element(By.ID, "external-users-release-approver-enabled").click()
    reloading(browser, browser.find_element(By.ID, "external-users-save").click)
    browser.find_element(By.ID, "all-users-print-job-creator-disabled").click()
    reloading(browser, browser.find_element(By.ID, "all-users-save").click)
    dave = resolved(api, "dave")
    assert dave["release-approver"] == (True, "external-users")
    assert dave["print-job-creator"] == (False, "all-users")
    assert browser.find_element(By.ID, "all-users-print-job-creator-disabled").is_selected()

    # The user's resolved roles, with where each comes from.
    field = browser.find_element(By.ID, "f-user")
    field.send_keys("Alice")
    reloading(browser, browser.find_element(By.ID, "resolve").click)
    rows = {tr.find_elements(By.TAG_NAME, "td")[0].text:
            tr.find_elements(By.TAG_NAME, "td")[2].text
            for tr in browser.find_elements(By.CSS_SELECTOR, "#resolved tbody tr")}
    assert rows["web-cashier"] == "group staff" and rows["release-approver"] == "external-users"
    screenshot(browser, "directory-roles")
    browser.get(server.https + "/admin/roles?user=nobody-here")
    assert "no user named" in browser.find_element(By.ID, "e-user").text

    audit = api.get("/api/v1/audit", params={"action": "group.role"}).json()["items"]
    assert {"before": {"print-job-creator": "indeterminate"},
            "after": {"print-job-creator": "disabled"}} in [
        {"before": e["before"], "after": e["after"]} for e in audit]


def test_the_group_page_shows_and_saves_its_roles(browser: webdriver.Chrome,
                                                  server: IppProxy, api: Client) -> None:
    browser.get(server.https + "/admin/groups/finance-team")
    assert browser.find_element(
        By.ID, "group-role-print-delegate-indeterminate").is_selected()
    browser.find_element(By.ID, "group-role-print-delegate-enabled").click()
    reloading(browser, browser.find_element(By.ID, "group-role-save").click)
    assert browser.current_url.split("?")[0].endswith("/admin/groups/finance-team")
    got = api.get("/api/v1/groups/finance-team/roles").json()["roles"]
    assert got["print-delegate"] == "enabled" and got["web-cashier"] == "indeterminate"
    assert browser.execute_script(UNLABELLED_JS) == []
    with chromium(PHONE) as phone:
        log_in(phone, server.https, "admin", first_password(server))
        phone.get(server.https + "/admin/roles?group=staff&user=alice")
        assert not phone.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth")
        screenshot(phone, "directory-roles-phone")


def test_group_roles_over_rest(api: Client, server: IppProxy) -> None:
    r = api.request("PUT", "/api/v1/groups/all-users/roles",
                    json={"roles": {"print-job-creator": "indeterminate",
                                    "print-delegator": "enabled"}})
    assert r.status_code == 200, r.text
    assert r.json()["roles"]["print-delegator"] == "enabled"
    assert resolved(api, "dave")["print-job-creator"] == (True, "default")
    bad = api.request("PUT", "/api/v1/groups/staff/roles", json={"roles": {"web-cashier": "yes"}})
    assert bad.status_code == 422
    unknown = api.request("PUT", "/api/v1/groups/staff/roles", json={"roles": {"boss": "enabled"}})
    assert unknown.status_code == 422
    missing = api.request("PUT", "/api/v1/groups/nope/roles",
                          json={"roles": {"web-cashier": "enabled"}})
    assert missing.status_code == 404
    assert api.get("/api/v1/users/nobody/roles").status_code == 404
    assert tracebacks(server.log()) == []
