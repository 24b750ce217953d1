"""The edit-user pages in headless Chromium (issue 18): each section of
``/admin/users/{name}`` saved and refused beside its field, creating an internal user, the
personal data download (the ZIP's content, fetched by the page's link in the browser's
session), erasure, delete, a deleted user's page (409), labels, keyboard and phone width;
screenshots ``docs/screenshots/user-edit-*.png``."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from support.admin_login import log_in
from support.browser import FOCUSABLE_JS, PHONE, UNLABELLED_JS, chromium, reloading, screenshot
from support.server import IppProxy, tracebacks
from support.webapi import Client, first_password, login, start_server, trust

U = "/api/v1/users"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    p = start_server(tmp_path_factory.mktemp("user-edit"))
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


def new_user(api: Client, name: str) -> None:
    r = api.post(U, json={"username": name, "password": "a fine password"})
    assert r.status_code == 201, r.text


def props(api: Client, name: str) -> dict[str, object]:
    r = api.get(f"{U}/{name}/properties")
    assert r.status_code == 200, r.text
    got: dict[str, object] = r.json()
    return got


def fill(driver: webdriver.Chrome, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.ID, f"f-{name}")
        field.clear()
        field.send_keys(value)


def tick(driver: webdriver.Chrome, name: str, on: bool) -> None:
    box = driver.find_element(By.ID, f"f-{name}")
    if box.is_selected() != on:
        box.click()


def choose(driver: webdriver.Chrome, name: str, value: str) -> None:
    Select(driver.find_element(By.ID, f"f-{name}")).select_by_value(value)


def submit(driver: webdriver.Chrome, label: str) -> None:
    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    reloading(driver, button.click)


def notice(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".notice[role=status]").text)


def error_beside(driver: webdriver.Chrome, name: str) -> str:
    field = driver.find_element(By.ID, f"f-{name}")
    assert field.get_attribute("aria-invalid") == "true", name
    described = field.get_attribute("aria-describedby")
    assert described
    return str(driver.find_element(By.ID, described).text)


def test_each_section_of_the_edit_page(browser: webdriver.Chrome, server: IppProxy,
                                       api: Client) -> None:
    new_user(api, "fay")
    new_user(api, "gil")
    assert api.request("PATCH", f"{U}/gil", json={"emails": "gil@example.org"}).ok
    page = f"{server.https}/admin/users/FAY"
    browser.get(page)
    assert browser.find_element(By.TAG_NAME, "h1").text == "User fay"
    # identity
    fill(browser, {"full_name": "Fay <b>Fox</b>"})  # text, never markup
    tick(browser, "person", False)
    tick(browser, "admin", True)
    submit(browser, "Save identity")
    assert "Saved the identity of fay" in notice(browser)
    assert browser.find_element(By.ID, "f-full_name").get_attribute("value") == \
        "Fay <b>Fox</b>"
    got = props(api, "fay")
    assert (got["full_name"], got["person"], got["admin"]) == ("Fay <b>Fox</b>", False, True)
    # roles
    choose(browser, "role-print-delegate", "enabled")
    choose(browser, "role-print-job-creator", "disabled")
    submit(browser, "Save roles")
    assert browser.find_element(By.ID, "r-print-delegate").text.startswith("granted")
    assert browser.find_element(By.ID, "r-print-job-creator").text.startswith("denied")
    # e-mail: another user's address is refused beside the field
    fill(browser, {"primary": "fay@example.org", "others": "GIL@example.org"})
    submit(browser, "Save e-mail")
    assert "already used by user 'gil'" in browser.find_element(By.ID, "e-email").text
    fill(browser, {"primary": "fay@example.org", "others": "f2@example.org;f3@example.org"})
    browser.find_element(By.ID, "f-others").send_keys("\nf4@example.org")
    submit(browser, "Save e-mail")
    assert props(api, "fay")["emails"] == ["fay@example.org", "f2@example.org",
                                           "f3@example.org", "f4@example.org"]
    # card and ID: a decimal number as an MSB reader reports it; a PIN of letters refused
    fill(browser, {"card_number": "305419896", "id_number": "F-100", "pin": "12ab"})
    choose(browser, "card_format", "dec")
    choose(browser, "card_order", "msb")
    submit(browser, "Save card and ID")
    assert "digits only" in error_beside(browser, "pin")
    assert props(api, "fay")["card_number"] is None  # nothing saved
    fill(browser, {"card_number": "305419896", "id_number": "F-100", "pin": "2468"})
    choose(browser, "card_format", "dec")
    choose(browser, "card_order", "msb")
    submit(browser, "Save card and ID")
    got = props(api, "fay")
    assert (got["card_number"], got["id_number"], got["pin_set"]) == ("78563412", "F-100",
                                                                      True)
    assert browser.find_element(By.ID, "f-card_number").get_attribute("value") == "78563412"
    # UUID
    submit(browser, "Generate")
    token = browser.find_element(By.ID, "uuid-token").text
    assert token == props(api, "fay")["uuid_token"] and len(token) == 36
    # financial: a new balance is a correction with a reason; an individual credit limit
    fill(browser, {"balance": "12.50", "reason": "cash counted", "credit_limit": "3.00"})
    choose(browser, "credit_source", "individual")
    submit(browser, "Save financial")
    got = props(api, "fay")
    assert (got["balance"], got["credit_source"], got["credit_limit"]) == (1250, "individual",
                                                                           300)
    fill(browser, {"balance": "twelve"})
    submit(browser, "Save financial")
    assert error_beside(browser, "balance")
    fill(browser, {"balance": "20.00", "reason": " ", "credit_limit": "9.00"})
    submit(browser, "Save financial")
    assert "why" in error_beside(browser, "reason")
    got = props(api, "fay")
    assert (got["balance"], got["credit_limit"]) == (1250, 300)  # nothing changed
    # password: too short, reset, erased
    fill(browser, {"password": "short"})
    submit(browser, "Reset password")
    assert "at least" in error_beside(browser, "password")
    browser.get(page)
    screenshot(browser, "user-edit-page")
    submit(browser, "Erase password")
    assert "No password" in browser.find_element(By.ID, "password-state").text
    fill(browser, {"password": "a new fine password"})
    submit(browser, "Reset password")
    assert "A password is set" in browser.find_element(By.ID, "password-state").text
    login(server.https, "fay", "a new fine password")  # it works
    assert tracebacks(server.log()) == []


def test_create_an_internal_user(browser: webdriver.Chrome, server: IppProxy,
                                 api: Client) -> None:
    browser.get(server.https + "/admin/users/new")
    fill(browser, {"username": "Hal", "password": "short", "full_name": "Hal H",
                   "emails": "hal@example.org"})
    submit(browser, "Create")
    assert "at least" in error_beside(browser, "password")
    assert browser.find_element(By.ID, "f-username").get_attribute("value") == "Hal"
    fill(browser, {"password": "a fine password"})
    screenshot(browser, "user-edit-new")
    submit(browser, "Create")
    assert "Created hal" in notice(browser)
    got = props(api, "hal")
    assert (got["internal"], got["full_name"], got["emails"], got["balance"],
            got["credit_limit"]) == (True, "Hal H", ["hal@example.org"], 0, 0)


def fetch_zip(driver: webdriver.Chrome, href: str) -> zipfile.ZipFile:
    """The download link's file, fetched in the page (the browser's own session)."""
    encoded = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(async r => {
          const bytes = new Uint8Array(await r.arrayBuffer());
          let s = ''; for (const b of bytes) s += String.fromCharCode(b);
          done(r.status + ' ' + r.headers.get('content-type') + ' ' + btoa(s));
        });""", href)
    status, kind, data = str(encoded).split(" ", 2)
    assert (status, kind) == ("200", "application/zip")
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(data)))


def test_personal_data_download_erase_and_delete(browser: webdriver.Chrome,
                                                 server: IppProxy, api: Client) -> None:
    new_user(api, "ivy")
    new_user(api, "jon")
    api.request("PATCH", f"{U}/ivy", json={"full_name": "Ivy Isle", "emails": "ivy@ex.org",
                                           "card_number": "0C0D"})
    api.request("PUT", f"{U}/ivy/balance", json={"balance": 700, "reason": "start"})
    browser.get(server.https + "/admin/users/ivy/gdpr")
    link = browser.find_element(By.ID, "download")
    z = fetch_zip(browser, str(link.get_attribute("href")))
    data = json.loads(z.read("personal-data.json"))
    assert data["profile"]["full_name"] == "Ivy Isle"
    assert data["profile"]["emails"] == ["ivy@ex.org"]
    assert [t["amount"] for t in data["transactions"]] == [700]
    assert "user.balance" in {a["action"] for a in data["audit"]}
    assert "ivy@ex.org" in z.read("profile.csv").decode()
    assert z.read("transactions.csv").decode().splitlines()[1].split(",")[2] == "700"
    screenshot(browser, "user-edit-gdpr")
    fill(browser, {"confirm": "nope"})
    submit(browser, "Erase personal data")
    assert error_beside(browser, "confirm")
    fill(browser, {"confirm": "erase"})
    submit(browser, "Erase personal data")
    assert "Erased the personal data" in notice(browser)
    assert browser.find_element(By.ID, "erased").is_displayed()
    title = browser.find_element(By.TAG_NAME, "h1").text
    assert title.startswith("User erased-")
    placeholder = title.removeprefix("User ")
    got = props(api, placeholder)
    assert (got["full_name"], got["emails"], got["card_number"], got["balance"]) == (
        "", [], None, 700)
    screenshot(browser, "user-edit-erased")
    # delete: logical (a ledger), then the page says it cannot be edited
    submit(browser, f"Delete {placeholder}")
    browser.get(f"{server.https}/admin/users/{placeholder}")
    assert "cannot be edited" in browser.find_element(By.TAG_NAME, "main").text
    r = requests.get(f"{server.https}/admin/users/{placeholder}", timeout=30,
                     verify=trust(server.https),
                     headers={"Cookie": f"ippproxy_session={api.cookie}"})
    assert r.status_code == 409
    browser.get(server.https + "/admin/users/jon")
    submit(browser, "Delete jon")
    assert api.get(f"{U}/jon/properties").status_code == 404  # physical: no history


@pytest.mark.parametrize("path", ["/admin/users/kai", "/admin/users/new",
                                  "/admin/users/kai/gdpr"])
def test_the_pages_are_labelled_fit_a_phone_and_reach_the_keyboard(
        path: str, server: IppProxy, browser: webdriver.Chrome, api: Client) -> None:
    if api.get(f"{U}/kai/properties").status_code == 404:
        new_user(api, "kai")
    browser.get(server.https + path)
    assert browser.find_elements(By.TAG_NAME, "h1"), browser.page_source[:300]
    assert browser.execute_script(UNLABELLED_JS) == [], path
    assert len(browser.execute_script(FOCUSABLE_JS)) >= 3
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.get(server.https + path)
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, (path, wide)
        if path == "/admin/users/kai":
            screenshot(browser, "user-edit-phone")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_without_a_session_the_pages_answer_401(server: IppProxy) -> None:
    for path in ("/admin/users/kai", "/admin/users/new", "/admin/users/kai/gdpr",
                 "/admin/users/kai/gdpr/personal-data.zip"):
        r = requests.get(server.https + path, verify=trust(server.https), timeout=30,
                         allow_redirects=False)
        assert r.status_code == 401, (path, r.status_code)
    r = requests.post(server.https + "/admin/users/kai/gdpr/erase", data={"confirm": "erase"},
                      verify=trust(server.https), timeout=30, allow_redirects=False)
    assert r.status_code in (401, 403)
