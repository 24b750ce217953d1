"""The catalog's admin pages (cost models, rules, groups, options, audit log) in a real
headless Chromium against the real ``ippproxy serve`` over HTTPS, logged in through the
real login form with the first-start password (tests/support/admin_login.py).

* a refused value is shown beside its field (aria-invalid, the service's message), a
  corrected one is saved; a rule moves up; a group's quota and admin rights are saved;
  an option is set; each change is read back through the REST API and the audit page;
* every page: each control labelled, landmarks, no sideways scrolling at phone width,
  a form submitted from the keyboard; screenshots to docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from support.admin_login import log_in
from support.browser import FOCUSABLE_JS, PHONE, UNLABELLED_JS, chromium, reloading, screenshot
from support.server import IppProxy, tracebacks
from support.webapi import Client, first_password, login, start_server, trust

PAGES = ("/admin/cost-models", "/admin/cost-models/new", "/admin/rules", "/admin/rules/new",
         "/admin/groups", "/admin/groups/finance-team", "/admin/groups/new",
         "/admin/options", "/admin/audit")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    p = start_server(tmp_path_factory.mktemp("pages"))
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


def fill(driver: webdriver.Chrome, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.ID, f"f-{name}")
        field.clear()
        field.send_keys(value)


def submit(driver: webdriver.Chrome, label: str) -> None:
    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")
    reloading(driver, button.click)


def error_beside(driver: webdriver.Chrome, name: str) -> str:
    field = driver.find_element(By.ID, f"f-{name}")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby")
    assert described
    return str(driver.find_element(By.ID, described).text)


def test_a_cost_model_with_media_prices_is_corrected_and_saved(
        browser: webdriver.Chrome, server: IppProxy, api: Client) -> None:
    browser.get(server.https + "/admin/cost-models/new")
    fill(browser, {"name": "Colour A4", "mono": "ten", "media-0-name": "iso_a3_297x420mm",
                   "media-0-color": "0.40"})
    submit(browser, "Create")
    assert "decimal" in error_beside(browser, "mono").lower()
    # What was typed is still there; only the refused field needs changing.
    assert browser.find_element(By.ID, "f-media-0-name").get_attribute("value") \
        == "iso_a3_297x420mm"
    fill(browser, {"mono": "0.05"})
    submit(browser, "Create")
    assert "Created Colour A4" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    got = api.get("/api/v1/cost-models/Colour A4").json()
    assert (got["mono"], got["media"]) == ("0.05", [{"name": "iso_a3_297x420mm",
                                                     "mono": "0", "color": "0.40"}])
    browser.get(server.https + "/admin/cost-models/Colour%20A4")
    fill(browser, {"job_fee": "0.02"})
    submit(browser, "Save")
    assert api.get("/api/v1/cost-models/Colour A4").json()["job_fee"] == "0.02"
    screenshot(browser, "admin-cost-models")


def test_rules_are_created_and_moved(browser: webdriver.Chrome, server: IppProxy,
                                     api: Client) -> None:
    for name, kind, limit in (("pages-50", "max-pages", "50"), ("copies-5", "max-copies", "")):
        browser.get(server.https + "/admin/rules/new")
        fill(browser, {"name": name, "limit": limit} if limit else {"name": name})
        browser.find_element(By.CSS_SELECTOR, f"#f-type option[value='{kind}']").click()
        submit(browser, "Create")
    # max-copies needs a limit: the message is beside the limit field.
    assert "required" in error_beside(browser, "limit")
    fill(browser, {"limit": "5"})
    submit(browser, "Create")
    assert [r["name"] for r in api.get("/api/v1/rules").json()["items"]] == ["pages-50",
                                                                               "copies-5"]
    reloading(browser, browser.find_element(
        By.CSS_SELECTOR, "button[aria-label='Move copies-5 up']").click)
    cells = browser.find_elements(By.CSS_SELECTOR, "table.objects tbody tr td:nth-child(2)")
    assert [c.text for c in cells] == ["copies-5", "pages-50"]
    assert [r["name"] for r in api.get("/api/v1/rules").json()["items"]] == ["copies-5",
                                                                               "pages-50"]
    screenshot(browser, "admin-rules")


def test_a_groups_quota_and_admin_rights(browser: webdriver.Chrome, server: IppProxy,
                                         api: Client) -> None:
    browser.get(server.https + "/admin/groups/finance-team")
    # Provisioned: its settings are read-only here, its quota and rights are not.
    assert browser.find_element(By.ID, "f-multiplier").get_attribute("readonly") is not None
    browser.find_element(By.CSS_SELECTOR, "#f-period option[value='monthly']").click()
    fill(browser, {"amount": "-1"})
    submit(browser, "Save quota")
    assert error_beside(browser, "amount")
    fill(browser, {"amount": "5.00", "cap": "20.00"})
    submit(browser, "Save quota")
    assert api.get("/api/v1/groups/finance-team/quota").json() == {
        "group": "finance-team", "period": "monthly", "amount": "5.00", "cap": "20.00"}
    browser.find_element(By.CSS_SELECTOR, "#f-right-finance option[value='read']").click()
    submit(browser, "Save rights")
    rights = api.get("/api/v1/groups/finance-team/rights").json()["rights"]
    assert rights["finance"] == "read" and rights["users"] == "none"
    screenshot(browser, "admin-group")


def test_options_refuse_a_bad_value_beside_it_and_set_a_good_one(
        browser: webdriver.Chrome, server: IppProxy, api: Client) -> None:
    key = "accounting.unknown_users"
    browser.get(server.https + "/admin/options")
    fill(browser, {f"value-{key}": "maybe"})
    reloading(browser, browser.find_element(By.CSS_SELECTOR,
                                            f"button[aria-label='Set {key}']").click)
    assert "create" in error_beside(browser, f"value-{key}")
    fill(browser, {f"value-{key}": "refuse"})
    # From the keyboard: Enter in the field submits its form.
    field = browser.find_element(By.ID, f"f-value-{key}")
    reloading(browser, lambda: field.send_keys(Keys.ENTER))
    assert api.get(f"/api/v1/options/{key}").json()["value"] == "refuse"
    screenshot(browser, "admin-options")


def test_the_audit_page_shows_the_changes_filtered_and_paged(
        browser: webdriver.Chrome, server: IppProxy) -> None:
    browser.get(server.https + "/admin/audit?kind=rule")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")
    actions = [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows]
    assert actions[:3] == ["move", "create", "create"]
    assert all("admin" in r.find_elements(By.TAG_NAME, "td")[1].text for r in rows)
    assert '"order"' in rows[0].find_elements(By.TAG_NAME, "td")[5].text
    screenshot(browser, "admin-audit")
    browser.get(server.https + "/admin/audit?since=yesterday")
    assert error_beside(browser, "since")
    assert tracebacks(server.log()) == []


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_labelled_fits_a_phone_and_reaches_the_keyboard(
        path: str, server: IppProxy, browser: webdriver.Chrome) -> None:
    browser.get(server.https + path)
    assert browser.find_elements(By.TAG_NAME, "h1"), browser.page_source[:300]
    assert browser.execute_script(UNLABELLED_JS) == [], path
    assert len(browser.execute_script(FOCUSABLE_JS)) >= 3
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert any(str(h).endswith("/admin/audit") for h in links)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.get(server.https + path)
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, (path, wide)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_without_a_session_the_pages_answer_401(server: IppProxy) -> None:
    for path in PAGES:
        r = requests.get(server.https + path, verify=trust(server.https), timeout=30,
                         allow_redirects=False)
        assert r.status_code == 401, (path, r.status_code)
    r = requests.post(server.https + "/admin/options/accounting.unknown_users",
                      data={"value": "create"}, verify=trust(server.https), timeout=30)
    assert r.status_code == 401


def test_an_ask_account_rule_offers_printing_as_another_user(
        browser: webdriver.Chrome, server: IppProxy, api: Client) -> None:
    """The rule page's "print as another user" box: refused beside it on a rule that asks
    nothing, saved on an ask-account rule and read back through the REST API."""
    browser.get(server.https + "/admin/rules/new")
    fill(browser, {"name": "ask-or-other", "limit": "3"})
    browser.find_element(By.CSS_SELECTOR, "#f-type option[value='max-copies']").click()
    browser.find_element(By.ID, "f-allow_print_as_other").click()
    assert browser.execute_script(UNLABELLED_JS) == []
    submit(browser, "Create")
    assert "ask-account" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.CSS_SELECTOR, "#f-type option[value='ask-account']").click()
    if not browser.find_element(By.ID, "f-allow_print_as_other").is_selected():
        browser.find_element(By.ID, "f-allow_print_as_other").click()
    submit(browser, "Create")
    assert api.get("/api/v1/rules/ask-or-other").json()["allow_print_as_other"] is True
    browser.get(server.https + "/admin/rules/ask-or-other")
    assert browser.find_element(By.ID, "f-allow_print_as_other").is_selected()
    screenshot(browser, "admin-rule-print-as-other")
