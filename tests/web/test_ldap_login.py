"""Login by LDAP bind in a real headless Chromium: external users synced from a throwaway
slapd log in to the admin pages with their directory password (an admin sees the
dashboard); a wrong password is refused and, repeated, throttled; a user name made of
filter metacharacters is escaped (RFC 4515 §3), so it matches only its own entry; a
directory that is down gives a clear message (503), not "wrong password", never a 500.
Screenshots ``directory-login-*``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import chromium, log_in, screenshot
from support.ldap_server import (
    PEOPLE_SEED,
    add_person,
    ldap_proxy,
    restart_slapd,
    seeded_slapd,
)
from support.server import IppProxy, tracebacks
from support.slapd import Slapd
from support.webapi import Client, first_password, login, trust

BOB_PW = PEOPLE_SEED["bob"][1]


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    d = seeded_slapd(tmp_path_factory.mktemp("slapd"))
    add_person(d, "eve*", "Eve Star", "eve-star-pw")       # a name of filter characters
    add_person(d, "evelyn", "Evelyn Other", "evelyn-pw")
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> Iterator[IppProxy]:
    p = ldap_proxy(tmp_path_factory.mktemp("ldaplogin"), directory)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def api(server: IppProxy) -> Client:
    a = login(server.https, "admin", first_password(server))
    assert a.post("/api/v1/directory/apply", json={}).json()["applied"]
    r = a.request("PUT", "/api/v1/users/bob/admin", json={"admin": True})
    assert r.status_code == 200, r.text
    return a


def attempt(driver: webdriver.Chrome, base: str, name: str, password: str) -> str:
    """Fill in the login page and submit; the message it comes back with, or "" when it
    let the user in (on to another page)."""
    driver.delete_all_cookies()
    driver.get(base + "/admin/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "/admin/login" not in d.current_url
                                    or d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    if "/admin/login" not in driver.current_url:
        return ""
    return str(driver.find_element(By.CSS_SELECTOR, "[role=alert]").text)


def form_status(base: str, name: str, password: str) -> requests.Response:
    return requests.post(base + "/admin/login", data={"username": name, "password": password},
                         headers={"Accept": "text/html"}, allow_redirects=False, timeout=30,
                         verify=trust(base))


def test_ldap_users_log_in_with_their_directory_password(server: IppProxy, api: Client
                                                         ) -> None:
    with chromium() as driver:
        log_in(driver, server.https, BOB_PW, name="Bob")     # case does not matter
        assert "Signed in as bob" in driver.find_element(By.CSS_SELECTOR, ".who").text
        screenshot(driver, "directory-login-admin")
        # The filter's metacharacters are escaped: "eve*" is exactly one entry (unescaped,
        # it would match evelyn too and be refused as ambiguous) ...
        assert attempt(driver, server.https, "eve*", "eve-star-pw") == ""
        assert any(c["name"] == "ippproxy_session" for c in driver.get_cookies())
        # ... and never evelyn's, whose password does not open eve*'s entry.
        assert "Wrong name or password" in attempt(driver, server.https, "eve*", "evelyn-pw")
        for name in ("*", "bob)(uid=*"):  # not users here: refused before any search
            assert "Wrong name or password" in attempt(driver, server.https, name, BOB_PW)


def test_a_directory_that_is_down_says_so(server: IppProxy, api: Client,
                                          directory: Slapd) -> None:
    directory.stop()
    r = form_status(server.https, "bob", BOB_PW)
    assert r.status_code == 503 and "cannot be reached" in r.text
    api_login = requests.post(server.https + "/api/v1/session", timeout=30,
                              json={"username": "bob", "password": BOB_PW},
                              verify=trust(server.https))
    assert api_login.status_code == 503
    assert api_login.headers["Content-Type"].startswith("application/problem+json")
    with chromium() as driver:
        message = attempt(driver, server.https, "bob", BOB_PW)
        assert "directory cannot be reached" in message
        assert driver.find_element(By.ID, "username").get_attribute("value") == "bob"
        screenshot(driver, "directory-login-down")
        # Not counted as failures: bob is not throttled by the outage.
        for _ in range(6):
            attempt(driver, server.https, "bob", BOB_PW)
        assert "directory cannot be reached" in attempt(driver, server.https, "bob", BOB_PW)
        # The master admin's password is local: still logs in.
        log_in(driver, server.https, first_password(server))
    restart_slapd(directory)


def test_a_wrong_directory_password_is_refused_then_throttled(server: IppProxy, api: Client
                                                              ) -> None:
    """Every failure of this module came from 127.0.0.1: three so far (the address's
    count), five are free."""
    with chromium() as driver:
        message = attempt(driver, server.https, "alice", "not-her-password")
        assert message == "Wrong name or password."
        screenshot(driver, "directory-login-wrong")
        for _ in range(3):
            message = attempt(driver, server.https, "alice", "not-her-password")
        assert "Too many failed logins" in message
    throttled = form_status(server.https, "alice", PEOPLE_SEED["alice"][1])
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    failed = api.get("/api/v1/audit", params={"action": "session.login-failed"}).json()
    assert any(e["name"] == "alice" for e in failed["items"])
    assert tracebacks(server.log()) == []
