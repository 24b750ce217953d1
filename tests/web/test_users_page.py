"""The user list (issue 18) against the real ``ippproxy serve`` with accounting on: users
bulk-inserted through the accounting package, jobs printed with ``ipptool``.

* ``GET /api/v1/users``: each selection and its either choice, the sorts, the pager's
  offset, bad values as problem JSON, each user's pagometer from the printed jobs;
* ``/admin/users``: deny by default, each entry's figures and links, the downloads (CSV
  rows, PDF text through ``pdftotext``) with the page's selection, the reset (CSRF,
  audited);
* headless Chromium walks it: filter "son", sort, page, Default, download CSV and PDF and
  check their rows, at desktop and phone width, screenshots ``users-*``.
"""

from __future__ import annotations

import csv
import io
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import Connection
from support.browser import PHONE, UNLABELLED_JS, chromium, log_in, screenshot
from support.server import IppProxy
from support.webapi import (
    Client,
    database_of,
    first_password,
    form_login,
    login,
    start_server,
)

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine

from .conftest import ipp_print

# name, email, internal, admin, disabled, groups
PEOPLE = [("jason", "jay@example.org", False, False, False, ("staff",)),
          ("sonja", "sonja@example.org", True, False, False, ()),
          ("bert", "b.johnson@example.org", False, True, False, ("staff",)),
          ("carl", None, True, False, True, ())]
FILLERS = 41  # with the four: 45 users, three pages of 20 (the master admin is no user)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pdf: Path) -> Iterator[IppProxy]:
    proxy = start_server(tmp_path_factory.mktemp("users"))
    engine = make_engine(database_of(proxy))

    def work(conn: Connection) -> None:
        users.add_group(conn, "staff")
        for name, email, internal, admin, disabled, groups in PEOPLE:
            users.add_user(conn, name, defaults=users.UserDefaults(balance=1250),
                           internal=internal, email=email, groups=groups,
                           full_name=f"{name.title()} <Tester>")
            for prop, on in (("admin", admin), ("disabled", disabled)):
                if on:
                    users.set_user_property(conn, name, prop, "true")
        for i in range(FILLERS):
            users.add_user(conn, f"zz{i:03d}", defaults=users.UserDefaults(),
                           email="=1+1@x.y" if i == 0 else None)
        users.add_user(conn, "gone", defaults=users.UserDefaults())
        users.delete_user(conn, "gone")
    try:
        in_transaction(engine, work)
    finally:
        engine.dispose()
    # jason prints two jobs of two pages; sonja holds one (its bytes are held).
    ipp_print(proxy, pdf, user="jason", name="one")
    ipp_print(proxy, pdf, user="jason", name="two")
    ipp_print(proxy, pdf, user="sonja", hold=True, name="held")
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def admin(server: IppProxy) -> Client:
    return login(server.https, "admin", first_password(server))


def listed(client: Client, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/users", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def names(client: Client, **params: Any) -> list[str]:
    return [u["username"] for u in listed(client, limit=100, **params)["items"]]


def printed(admin: Client) -> dict[str, Any]:
    """jason's pagometer once both jobs printed (the printer takes its time)."""
    deadline = time.monotonic() + 60
    while True:
        meter: dict[str, Any] = listed(admin, search="jason")["items"][0]["pagometer"]
        if meter["jobs"] == 2:
            return meter
        assert time.monotonic() < deadline, f"jason's jobs did not print: {meter}"
        time.sleep(0.5)


@pytest.mark.parametrize(("params", "expected"), [
    ({"search": "son"}, ["bert", "jason", "sonja"]),
    ({"search": "son", "status": "any"}, ["bert", "jason", "sonja"]),
    ({"group": "staff"}, ["bert", "jason"]),
    ({"type": "internal"}, ["carl", "sonja"]),
    ({"type": "external", "search": "s"}, ["bert", "jason"]),
    ({"role": "admin"}, ["bert"]),
    ({"role": "user", "search": "o"}, ["jason", "sonja"]),
    ({"admin": "true"}, ["bert"]),
    ({"status": "disabled"}, ["carl"]),
    ({"status": "deleted"}, ["gone"]),
    ({"status": "active", "search": "t", "type": "any", "role": "any"}, ["bert"]),
    ({"search": "son", "sort": "email", "order": "desc"}, ["sonja", "jason", "bert"]),
    ({"search": "son", "sort": "email"}, ["bert", "jason", "sonja"]),
    ({"search": "on", "order": "desc"}, ["sonja", "jason", "bert"]),
])
def test_rest_selection(admin: Client, params: dict[str, str], expected: list[str]) -> None:
    assert names(admin, **params) == expected


def test_rest_default_paging_and_bad_values(admin: Client) -> None:
    first = listed(admin, limit=20)
    assert first["total"] == 4 + FILLERS  # the deleted one is not listed
    assert [u["username"] for u in first["items"][:4]] == ["bert", "carl", "jason", "sonja"]
    every = names(admin) + [u["username"] for u in listed(admin, limit=100,
                                                          offset=100)["items"]]
    assert every == sorted(every) and "gone" not in every
    third = listed(admin, limit=20, offset=40)
    assert len(third["items"]) == 5
    for params, field in (({"type": "robot"}, "query.type"), ({"status": "zombie"},
                          "query.status"), ({"sort": "password_hash"}, "query.sort"),
                          ({"limit": "501"}, "query.limit")):
        r = admin.get("/api/v1/users", params=params)
        assert r.status_code == 422 and r.headers["Content-Type"].startswith(
            "application/problem+json"), r.text
        assert field in {e["field"] for e in r.json()["errors"]}


def test_rest_pagometer_from_printed_jobs(admin: Client) -> None:
    meter = printed(admin)
    assert (meter["mono"], meter["colour"], meter["pages"], meter["unprinted"]) == (4, 0, 4, 0)
    assert meter["bytes"] > 0 and meter["held_bytes"] == 0
    sonja = listed(admin, search="sonja")["items"][0]
    assert sonja["pagometer"]["held_bytes"] > 0 and sonja["pagometer"]["jobs"] == 0
    assert sonja["balance"] == 1250 and sonja["internal"] is True


def test_page_denies_without_a_session(server: IppProxy) -> None:
    anonymous = Client(server.https)
    for path in ("/admin/users", "/admin/users.csv", "/admin/users.pdf",
                 f"/admin/accounts/{uuid.uuid4()}/transactions"):
        r = anonymous.get(path, headers={"Accept": "text/html"})
        assert r.status_code in (303, 401), (path, r.status_code)
    r = anonymous.post("/admin/users/reset-pagometers")
    assert r.status_code in (303, 401, 403)


@pytest.fixture(scope="module")
def page_admin(server: IppProxy) -> Client:
    return form_login(server.https, "admin", first_password(server))


def test_page_entries_links_and_bad_values(page_admin: Client, admin: Client) -> None:
    printed(admin)
    html = page_admin.get("/admin/users?search=son").text
    assert 'id="user-jason"' in html and 'id="user-sonja"' in html and "zz000" not in html
    assert "Jason &lt;Tester&gt;" in html and "<Tester>" not in html  # escaped
    assert 'class="uid internal">sonja<' in html and 'class="uid">jason<' in html
    assert 'href="/admin/users/jason"' in html and 'href="/admin/users/jason/gdpr"' in html
    assert 'href="/admin/jobs?which=history&amp;owner=jason"' in html
    assert "4 mono · 0 colour · 0 not printed" in html and "12.50 EUR" in html
    assert html.count('class="pager"') == 2 and 'role="img"' in html
    r = page_admin.get("/admin/users?status=zombie", headers={"Accept": "text/html"})
    assert r.status_code == 422 and "status" in r.text
    r = page_admin.get("/admin/users?offset=-5", headers={"Accept": "text/html"})
    assert r.status_code == 422


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _pdf_text(data: bytes, tmp: Path) -> str:
    path = tmp / "users.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_downloads_carry_the_selection(page_admin: Client, admin: Client,
                                       tmp_path: Path) -> None:
    printed(admin)
    r = page_admin.get("/admin/users.csv?search=son&sort=email&order=desc")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = _csv_rows(r.text)
    assert [x["username"] for x in rows] == ["sonja", "jason", "bert"]
    jason = rows[1]
    assert (jason["pages_mono"], jason["jobs"], jason["groups"], jason["balance"]) == (
        "4", "2", "staff", "12.50 EUR")
    assert rows[0]["type"] == "internal" and rows[2]["role"] == "admin"
    every = _csv_rows(page_admin.get("/admin/users.csv").text)
    assert len(every) == 4 + FILLERS
    # A cell a spreadsheet would run as a formula is defused.
    assert next(x for x in every if x["username"] == "zz000")["email"].startswith("'=")
    r = page_admin.get("/admin/users.pdf?search=son")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = _pdf_text(r.content, tmp_path)
    lines = [ln.split()[0] for ln in text.splitlines() if ln.strip()
             and ln.split()[0] in {"bert", "jason", "sonja", "carl"}]
    assert lines == ["bert", "jason", "sonja"]
    assert "Jason <Tester>" in text
    r = page_admin.get("/admin/users.pdf?role=root")
    assert r.status_code == 422


# ---- the browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(server: IppProxy, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[webdriver.Chrome, Path]]:
    downloads = tmp_path_factory.mktemp("downloads")
    with chromium() as driver:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        log_in(driver, server.https, first_password(server))
        yield driver, downloads


def _shown(driver: webdriver.Chrome) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".user .uid")]


def _download(folder: Path, suffix: str, before: set[Path]) -> Path:
    deadline = time.monotonic() + 60
    while True:
        new = [p for p in folder.glob(f"*{suffix}") if p not in before]
        if new:
            return new[0]
        assert time.monotonic() < deadline, f"no {suffix} download"
        time.sleep(0.2)


def test_browser_walks_the_user_list(browser: tuple[webdriver.Chrome, Path],
                                     server: IppProxy, admin: Client, tmp_path: Path) -> None:
    driver, downloads = browser
    wait = WebDriverWait(driver, 30)
    printed(admin)
    driver.get(server.https + "/admin/users")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".user"))
    assert _shown(driver)[:2] == ["bert", "carl"] and len(_shown(driver)) == 20
    assert driver.find_element(By.CSS_SELECTOR, "nav[aria-label='Admin sections'] "
                               "a[aria-current='page']").text == "Users"
    # The pager: page 2, then 3 (the last has 5), from the bottom pager.
    driver.find_elements(By.CSS_SELECTOR, ".pager a[rel='next']")[-1].click()
    wait.until(lambda d: "offset=20" in d.current_url)
    driver.find_elements(By.CSS_SELECTOR, ".pager a[rel='next']")[0].click()
    wait.until(lambda d: "offset=40" in d.current_url)
    assert len(_shown(driver)) == 5
    # The selection panel opens; filter "son", sort on email descending.
    driver.find_element(By.CSS_SELECTOR, "#select summary").click()
    box = driver.find_element(By.ID, "u-search")
    box.clear()
    box.send_keys("son")
    Select(driver.find_element(By.ID, "u-sort")).select_by_value("email")
    Select(driver.find_element(By.ID, "u-order")).select_by_value("desc")
    driver.find_element(By.ID, "u-apply").click()
    wait.until(lambda d: "search=son" in d.current_url)
    assert _shown(driver) == ["sonja", "jason", "bert"]
    assert driver.find_element(By.ID, "select").get_attribute("open") is not None
    colour = driver.execute_script(
        "return [getComputedStyle(document.querySelector('#user-sonja .uid')).color,"
        " getComputedStyle(document.querySelector('#user-jason .uid')).color]")
    assert colour[0] != colour[1]  # internal users in their own colour
    assert driver.execute_script(UNLABELLED_JS) == []
    screenshot(driver, "users-list-son")
    # Downloads with that selection.
    before = set(downloads.iterdir())
    driver.find_element(By.ID, "u-csv").click()
    rows = _csv_rows(_download(downloads, ".csv", before).read_text())
    assert [x["username"] for x in rows] == ["sonja", "jason", "bert"]
    before = set(downloads.iterdir())
    driver.find_element(By.ID, "u-pdf").click()
    pdf = _download(downloads, ".pdf", before)
    deadline = time.monotonic() + 30
    while not pdf.read_bytes().rstrip().endswith(b"%%EOF"):
        assert time.monotonic() < deadline, "the PDF download did not finish"
        time.sleep(0.2)
    text = _pdf_text(pdf.read_bytes(), tmp_path)
    assert [ln.split()[0] for ln in text.splitlines() if ln.strip()
            and ln.split()[0] in {"sonja", "jason", "bert"}] == ["sonja", "jason", "bert"]
    # Default: selection and sort back to every non-deleted user, alphabetically.
    driver.find_element(By.ID, "u-default").click()
    wait.until(lambda d: d.current_url.endswith("/admin/users"))
    assert _shown(driver)[:2] == ["bert", "carl"]
    assert driver.find_element(By.ID, "u-search").get_attribute("value") == ""
    assert Select(driver.find_element(By.ID, "u-sort")).first_selected_option.get_attribute(
        "value") == "username"
    assert driver.find_element(By.ID, "select").get_attribute("open") is None


def test_browser_opens_a_users_transactions(browser: tuple[webdriver.Chrome, Path],
                                            server: IppProxy, admin: Client,
                                            page_admin: Client) -> None:
    driver, _ = browser
    printed(admin)
    driver.get(server.https + "/admin/users?search=jason")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".user"))
    driver.find_element(By.CSS_SELECTOR, "#user-jason a[aria-label='Transactions of jason']"
                        ).click()
    WebDriverWait(driver, 30).until(lambda d: "/transactions" in d.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "#transactions tbody tr[id^='txn-']")
    assert rows, driver.page_source[:2000]
    assert "Transactions of jason" in driver.find_element(By.TAG_NAME, "h1").text
    assert driver.find_element(By.ID, "balance").text == "12.50 EUR"
    assert driver.execute_script(UNLABELLED_JS) == []
    screenshot(driver, "users-transactions")
    # The same page for an account nobody has: the guard's not-found page, not a 500.
    r = page_admin.get(f"/admin/accounts/{uuid.uuid4()}/transactions",
                       headers={"Accept": "text/html"})
    assert r.status_code == 404


def test_phone_width(server: IppProxy) -> None:
    with chromium(PHONE) as driver:
        log_in(driver, server.https, first_password(server))
        driver.get(server.https + "/admin/users?search=son")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".user"))
        wide = driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth")
        assert wide is False
        screenshot(driver, "users-phone")


# ---- last: the reset empties every pagometer ---------------------------------------

def test_reset_pagometers_needs_csrf_and_is_audited(page_admin: Client, admin: Client
                                                    ) -> None:
    printed(admin)
    r = page_admin.post("/admin/users/reset-pagometers", data={"csrf_token": "wrong"})
    assert r.status_code == 403
    assert listed(admin, search="jason")["items"][0]["pagometer"]["pages"] == 4
    r = page_admin.post("/admin/users/reset-pagometers",
                        data={"csrf_token": page_admin.csrf})
    assert r.status_code == 303 and "Pagometers+reset" in r.headers["Location"]
    jason = listed(admin, search="jason")["items"][0]
    assert jason["pagometer"]["pages"] == 0 and jason["pagometer"]["jobs"] == 0
    audit = admin.get("/api/v1/audit", params={"action": "user.reset-pagometers"}).json()
    assert [e["actor"] for e in audit["items"]] == ["admin"]
