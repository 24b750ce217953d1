"""The web cashier in a real headless Chromium against a real ``ippproxy serve`` whose
users come from a throwaway slapd: a user with the web-cashier role (through a group,
not an admin) logs in with their directory password, finds a user by card number and by
name, is refused bad amounts (letters, negative, too many decimals) with nothing
deposited, deposits, and gets a printable receipt; the same form token sent again
deposits nothing more; a user without the role and a visitor without a session are
refused. Ledger row and audit entry name the cashier. Screenshots ``cashier-*``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import PHONE, UNLABELLED_JS, chromium, reloading, screenshot
from support.ldap_server import PEOPLE_SEED, ldap_proxy, seeded_slapd
from support.server import IppProxy, tracebacks
from support.slapd import Slapd
from support.webapi import Client, cmd, first_password, login, trust


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    d: Slapd = seeded_slapd(tmp_path_factory.mktemp("slapd"))
    p = ldap_proxy(tmp_path_factory.mktemp("cashier"), d)
    try:
        yield p
    finally:
        p.stop()
        d.stop()


@pytest.fixture(scope="module")
def api(server: IppProxy) -> Client:
    a = login(server.https, "admin", first_password(server))
    assert a.post("/api/v1/directory/apply", json={}).json()["applied"]
    r = a.request("PUT", "/api/v1/groups/staff/roles", json={"roles": {"web-cashier": "enabled"}})
    assert r.status_code == 200, r.text
    done = cmd(server, "set-user-property", "dave", "card-number", "04A1B2C3")
    assert done.returncode == 0, done.stderr
    return a


def cashier_login(driver: webdriver.Chrome, base: str, name: str) -> None:
    """Open /cashier: the login page, then back to /cashier."""
    driver.get(base + "/cashier")
    assert "/admin/login" in driver.current_url and "next=%2Fcashier" in driver.current_url
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PEOPLE_SEED[name][1], Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.current_url.rstrip("/").endswith("/cashier"))


def balance(api: Client, user: str) -> int:
    return int(api.get(f"/api/v1/users/{user}").json()["balance"])


def deposit(driver: webdriver.Chrome, amount: str, note: str = "") -> None:
    field = driver.find_element(By.ID, "f-amount")
    field.clear()
    field.send_keys(amount)
    if note:
        driver.find_element(By.ID, "f-note").send_keys(note)
    reloading(driver, driver.find_element(By.ID, "deposit").click)


def test_a_cashier_finds_a_user_and_deposits_once(server: IppProxy, api: Client) -> None:
    start = balance(api, "dave")
    with chromium() as driver:
        cashier_login(driver, server.https, "alice")
        assert driver.execute_script(UNLABELLED_JS) == []
        driver.find_element(By.ID, "f-q").send_keys("04a1b2c3", Keys.ENTER)  # card, any case
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "matches"))
        links = driver.find_elements(By.CSS_SELECTOR, "#matches a")
        assert [a.text for a in links] == ["dave"]
        driver.get(server.https + "/cashier?q=Dunn")                  # a part of the name
        links = driver.find_elements(By.CSS_SELECTOR, "#matches a")
        assert [a.text for a in links] == ["dave"]
        reloading(driver, links[0].click)
        for bad, says in (("ten", "digits"), ("-5", "more than zero"), ("1.234", "decimals"),
                          ("0", "more than zero")):
            deposit(driver, bad)
            error = driver.find_element(By.ID, "e-amount").text
            assert says in error, (bad, error)
            assert driver.find_element(By.ID, "f-amount").get_attribute("aria-invalid") == "true"
        screenshot(driver, "cashier-refused")
        assert balance(api, "dave") == start                           # nothing deposited
        token = driver.find_element(By.NAME, "token").get_attribute("value")
        csrf = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
        deposit(driver, "12.50", "cash, counter 2")
        assert re.search(r"/cashier/receipts/[\w-]+$", driver.current_url)
        assert driver.find_element(By.ID, "receipt-amount").text == "12.50 EUR"
        assert driver.find_element(By.ID, "receipt-cashier").text == "alice"
        assert "Dave Dunn (dave)" in driver.find_element(By.ID, "receipt-user").text
        assert driver.find_element(By.ID, "print").text == "Print the receipt"
        screenshot(driver, "cashier-receipt")
        assert balance(api, "dave") == start + 1250
        # The same form sent again (a double click, a reload): the same receipt, once.
        cookie = next(c["value"] for c in driver.get_cookies()
                      if c["name"] == "ippproxy_session")
        again = requests.post(server.https + "/cashier/deposit", timeout=30,
                              verify=trust(server.https), allow_redirects=False,
                              headers={"Cookie": f"ippproxy_session={cookie}"},
                              data={"csrf_token": csrf, "user": "dave", "token": token,
                                    "amount": "12.50", "note": "cash, counter 2"})
        assert again.status_code == 303, again.text
        assert again.headers["Location"] == f"/cashier/receipts/{token}"
        assert balance(api, "dave") == start + 1250
    account = api.get("/api/v1/users/dave").json()
    accounts = api.get("/api/v1/accounts", params={"limit": 100}).json()["items"]
    acct = next(a for a in accounts if a.get("owner") == "dave")
    rows = api.get(f"/api/v1/accounts/{acct['id']}/transactions").json()["items"]
    deposits = [r for r in rows if r["actor"] == "alice"]
    assert len(deposits) == 1 and deposits[0]["amount"] == 1250
    assert "cash, counter 2" in deposits[0]["reason"]
    assert account["balance"] == start + 1250
    audit = api.get("/api/v1/audit", params={"action": "account.deposit"}).json()["items"]
    assert [(e["actor"], e["after"]["amount"]) for e in audit] == [("alice", 1250)]


def test_only_cashiers_and_only_with_a_session(server: IppProxy, api: Client) -> None:
    with chromium(PHONE) as phone:
        cashier_login(phone, server.https, "dave")                     # no web-cashier role
        assert "web-cashier role" in phone.find_element(By.CSS_SELECTOR, "[role=alert]").text
        phone.get(server.https + "/cashier?user=alice")
        assert "web-cashier role" in phone.find_element(By.CSS_SELECTOR, "[role=alert]").text
        phone.delete_all_cookies()
        cashier_login(phone, server.https, "bob")                      # staff: a cashier
        phone.get(server.https + "/cashier?user=carol")
        assert not phone.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth")
        screenshot(phone, "cashier-phone")
        cookie = next(c["value"] for c in phone.get_cookies()
                      if c["name"] == "ippproxy_session")
    before = balance(api, "carol")
    forged = requests.post(server.https + "/cashier/deposit", timeout=30,    # no CSRF token
                           verify=trust(server.https), allow_redirects=False,
                           headers={"Cookie": f"ippproxy_session={cookie}"},
                           data={"user": "carol", "amount": "5", "token": "y" * 20})
    assert forged.status_code == 403 and balance(api, "carol") == before
    anonymous = requests.post(server.https + "/cashier/deposit", timeout=30,
                              verify=trust(server.https), allow_redirects=False,
                              data={"user": "carol", "amount": "5", "token": "x" * 20})
    assert anonymous.status_code == 401
    page = requests.get(server.https + "/cashier", headers={"Accept": "text/html"},
                        timeout=30, verify=trust(server.https), allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"].startswith("/admin/login")
    # The master admin is no user: no web-cashier role either.
    assert api.get("/cashier").status_code == 403
    assert tracebacks(server.log()) == []
