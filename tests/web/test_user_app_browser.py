"""The user web app in a real headless Chromium against the real ``ippproxy serve``:
signing in (and a wrong password), the live questions of a job arriving by server-sent
events and answered in the page (an account, with its countdown; print or cancel), a
held job canceled from the list, a personal printer URL with its QR code, every page
labelled and reachable by keyboard, and no page wider than a 375 px phone. Screenshots
go to docs/screenshots/user-*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from support.browser import FOCUSABLE_JS, UNLABELLED_JS, chromium, reloading, screenshot
from support.server import tracebacks
from support.totp import Authenticator
from support.webapi import Client, first_password, login

from .userapp_env import PASSWORDS, UserEnv, start, user_client

PAGES = ("/user/", "/user/jobs", "/user/transactions", "/user/printers", "/user/security",
         "/user/client")
PHONE = (375, 812)
WAIT = 60


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, pdf: Path) -> Iterator[UserEnv]:
    e = start(tmp_path_factory.mktemp("userbrowser"), pdf)
    try:
        yield e
        assert tracebacks(e.proxy.log()) == []
    finally:
        e.proxy.stop()


@pytest.fixture(scope="module")
def api(env: UserEnv) -> Client:
    """alice's own REST session, to read her jobs' states."""
    return user_client(env.proxy.https, "alice")


def sign_in(driver: webdriver.Chrome, base: str, name: str, target: str = "/user/") -> None:
    driver.get(base + target)
    WebDriverWait(driver, WAIT).until(lambda d: "/user/login" in d.current_url)
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[name], Keys.ENTER)
    WebDriverWait(driver, WAIT).until(lambda d: d.current_url.endswith(target))


@pytest.fixture(scope="module")
def browser(env: UserEnv) -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        sign_in(driver, env.proxy.https, "alice")
        yield driver


# Every fetch of the page answered 3 s late (its reply held back, not its request).
SLOW_FETCH = """
var f = window.fetch;
window.fetch = function (u, o) {
  return f(u, o).then(function (r) {
    return new Promise(function (ok) { setTimeout(function () { ok(r); }, 3000); });
  });
};"""


def live(driver: webdriver.Chrome, env: UserEnv) -> None:
    driver.get(env.proxy.https + "/user/")
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "live-status").text == "live")


def popup_of(driver: webdriver.Chrome, env: UserEnv, api: Client, name: str) -> str:
    """The id of the job's popup, once it is there."""
    uuid = env.job_row(api, name)["uuid"]
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, f"popup-{uuid}"))
    return f"popup-{uuid}"


def text_of(driver: webdriver.Chrome, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def test_sign_in_says_what_failed_then_goes_where_asked(env: UserEnv) -> None:
    base = env.proxy.https
    with chromium() as fresh:
        fresh.get(base + "/user/transactions")      # no session: to the login page
        assert "/user/login?next=" in fresh.current_url
        assert fresh.execute_script(UNLABELLED_JS) == []
        fresh.find_element(By.ID, "username").send_keys("alice")
        fresh.find_element(By.ID, "password").send_keys("wrong password", Keys.ENTER)
        alert = WebDriverWait(fresh, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
        assert alert[0].text.startswith("Wrong name or password.")
        screenshot(fresh, "user-login")
        fresh.find_element(By.ID, "password").send_keys(PASSWORDS["alice"], Keys.ENTER)
        WebDriverWait(fresh, WAIT).until(lambda d: d.current_url.endswith("/user/transactions"))
        fresh.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
        WebDriverWait(fresh, WAIT).until(lambda d: "/user/login" in d.current_url)
        fresh.get(base + "/user/")
        assert "/user/login?next=" in fresh.current_url


def test_the_account_question_arrives_live_and_is_answered_in_the_page(
        browser: webdriver.Chrome, env: UserEnv, api: Client) -> None:
    live(browser, env)
    browser.execute_script("window.notReloaded = true")
    env.print("billed", "live-physics")
    popup = popup_of(browser, env, api, "live-physics")
    WebDriverWait(browser, WAIT).until(lambda d: "left to answer" in text_of(d, popup))
    assert "live-physics" in text_of(browser, popup) and "billed" in text_of(browser, popup)
    screenshot(browser, "user-popup-account")
    # The answer's reply held back 3 s: the job's own state events (the answer released it)
    # come in first, and the answer is still the popup's outcome, its progress below.
    browser.execute_script(SLOW_FETCH)
    browser.find_element(By.ID, popup).find_element(
        By.XPATH, ".//button[starts-with(normalize-space(), 'Physics')]").click()
    job = env.wait_state(api, "live-physics", "completed")
    WebDriverWait(browser, WAIT).until(lambda d: "is completed" in text_of(d, popup))
    WebDriverWait(browser, WAIT).until(lambda d: "Answered" in text_of(d, popup))
    outcome = browser.find_element(By.CSS_SELECTOR, f"#{popup} .outcome")
    assert outcome.text == "Answered: the job prints.", text_of(browser, popup)
    assert job["account"] == "physics"
    assert [a for a, kind in env.charges(job["uuid"]) if kind == "charge"] == [-25]
    assert browser.execute_script("return window.notReloaded") is True
    # The balance on the page follows the charge without a reload (a "balance" event).
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, 'dd[data-account="physics"]').text
        == "19.75 EUR")


def test_the_last_chance_is_answered_in_the_page(browser: webdriver.Chrome, env: UserEnv,
                                                 api: Client) -> None:
    live(browser, env)
    env.print("confirm", "live-confirm")
    popup = popup_of(browser, env, api, "live-confirm")
    assert "print it?" in text_of(browser, popup)
    screenshot(browser, "user-popup-confirm")
    browser.find_element(By.ID, popup).find_element(
        By.XPATH, ".//button[normalize-space()=\"Don't print\"]").click()
    WebDriverWait(browser, WAIT).until(lambda d: "nothing charged" in text_of(d, popup))
    job = env.wait_state(api, "live-confirm", "canceled")
    deadline = time.monotonic() + WAIT
    while sum(a for a, _ in env.charges(job["uuid"])) != 0:
        assert time.monotonic() < deadline, env.charges(job["uuid"])
        time.sleep(0.3)


def test_a_question_is_answered_by_canceling_the_job(browser: webdriver.Chrome,
                                                     env: UserEnv, api: Client) -> None:
    live(browser, env)
    env.print("billed", "popup-cancel")
    popup = popup_of(browser, env, api, "popup-cancel")
    browser.find_element(By.ID, popup).find_element(
        By.XPATH, ".//button[normalize-space()='Cancel job']").click()
    WebDriverWait(browser, WAIT).until(lambda d: "nothing charged" in text_of(d, popup))
    job = env.wait_state(api, "popup-cancel", "canceled")
    assert env.charges(job["uuid"]) == []


def test_a_held_job_is_canceled_from_the_list(browser: webdriver.Chrome, env: UserEnv,
                                              api: Client) -> None:
    env.print("billed", "held-to-cancel")
    job = env.wait_state(api, "held-to-cancel", "pending-held")
    browser.get(env.proxy.https + "/user/")
    item = browser.find_element(By.ID, f"job-{job['uuid']}")
    assert "account-info-needed" in item.text and "answer by" in item.text
    # held for its payer, not for a release: no Release button (that one is answered)
    assert not item.find_elements(By.XPATH, ".//button[normalize-space()='Release']")
    screenshot(browser, "user-home")
    item.find_element(By.XPATH, ".//button[normalize-space()='Cancel']").send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.ID, f"job-{job['uuid']}")
        or env.job_row(api, "held-to-cancel")["state"] == "canceled")
    assert env.wait_state(api, "held-to-cancel", "canceled")
    assert env.charges(job["uuid"]) == []


def test_a_printer_url_is_made_with_its_qr_code(browser: webdriver.Chrome,
                                               env: UserEnv) -> None:
    browser.get(env.proxy.https + "/user/printers")
    browser.find_element(By.ID, "url-name").send_keys("phone", Keys.ENTER)
    qr = WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#created svg[role=img]"))[0]
    assert qr.size["width"] > 100
    address = browser.find_element(By.ID, "url-1").get_attribute("value") or ""
    assert address.startswith(f"ipps://{env.proxy.authority}/printers/mobile/u/ipxu_")
    screenshot(browser, "user-printer-url")
    browser.get(env.proxy.https + "/user/printers")
    browser.find_element(By.XPATH, "//button[normalize-space()='Revoke']").click()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "no-urls"))


def test_two_step_sign_in_is_set_up_and_turned_off(browser: webdriver.Chrome,
                                                   env: UserEnv) -> None:
    browser.get(env.proxy.https + "/user/security")
    browser.find_element(By.XPATH, "//button[normalize-space()='Set up two-step sign-in']"
                         ).send_keys(Keys.ENTER)
    qr = WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#totp-qr-box svg[role=img]"))[0]
    assert qr.size["width"] > 100
    secret = browser.find_element(By.ID, "totp-secret").get_attribute("value") or ""
    screenshot(browser, "user-totp")
    app = Authenticator(secret)
    browser.find_element(By.ID, "on-code").send_keys(app.code(), Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "totp-on"))
    browser.find_element(By.ID, "off-code").send_keys(app.code(), Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "totp-off"))


def _tab_through(driver: webdriver.Chrome, limit: int) -> list[WebElement]:
    driver.find_element(By.TAG_NAME, "body").click()
    reached: list[WebElement] = []
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        el = driver.switch_to.active_element
        if reached and el == reached[0]:
            break
        reached.append(el)
    return reached


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_labelled_and_reached_by_keyboard(browser: webdriver.Chrome,
                                                       env: UserEnv, path: str) -> None:
    browser.get(env.proxy.https + path)
    assert browser.execute_script(UNLABELLED_JS) == []
    focusable: list[WebElement] = browser.execute_script(FOCUSABLE_JS)
    reached = _tab_through(browser, len(focusable) + 5)
    missing = [f.get_attribute("outerHTML")[:100] for f in focusable if f not in reached]
    assert not missing, missing
    name = path.strip("/").replace("/", "-").replace("user-", "")
    if name not in ("user", ""):
        screenshot(browser, f"user-{name}")


def test_phone_width_has_no_horizontal_scroll(env: UserEnv) -> None:
    env.print("billed", "phone-held")
    with chromium(PHONE) as phone:
        sign_in(phone, env.proxy.https, "alice")
        for path in PAGES:
            phone.get(env.proxy.https + path)
            inner, scroll = phone.execute_script(
                "return [window.innerWidth, document.documentElement.scrollWidth]")
            assert inner == PHONE[0]
            assert scroll <= inner, f"{path} is {scroll} px wide at {inner} px"
        phone.get(env.proxy.https + "/user/")
        WebDriverWait(phone, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#popups .popup"))
        inner, scroll = phone.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll <= inner
        screenshot(phone, "user-home-phone")


def test_a_job_held_for_release_is_released_from_the_list(browser: webdriver.Chrome,
                                                          env: UserEnv, api: Client) -> None:
    env.print("secure", "held-to-release")
    job = env.wait_state(api, "held-to-release", "pending-held")
    browser.get(env.proxy.https + "/user/jobs")
    item = browser.find_element(By.ID, f"job-{job['uuid']}")
    item.find_element(By.XPATH, ".//button[normalize-space()='Release']").send_keys(Keys.ENTER)
    assert env.wait_state(api, "held-to-release", "completed")


def test_a_pin_account_is_answered_with_its_pin(browser: webdriver.Chrome, env: UserEnv,
                                                api: Client) -> None:
    """Optics needs its PIN (issue 17 §5): the live popup and the held job's chooser each
    have a labelled PIN field; a wrong PIN is refused with the reason, nothing charged."""
    env.cmd("add-shared-account", "Optics", "optics", "--balance", "20.00",
            "--pin-file", "-", stdin="2468\n")
    env.cmd("grant-account", "--user", "alice", "optics")
    live(browser, env)
    env.print("billed", "live-optics")
    popup = popup_of(browser, env, api, "live-optics")
    box = browser.find_element(By.ID, popup)
    box.find_element(By.ID, f"{popup}-pin").send_keys("1111")
    optics = ".//button[starts-with(normalize-space(), 'Optics')]"
    assert "needs its PIN" in box.find_element(By.XPATH, optics).text
    box.find_element(By.XPATH, optics).click()
    WebDriverWait(browser, WAIT).until(
        lambda d: "wrong or missing account PIN" in text_of(d, popup))
    pin = box.find_element(By.ID, f"{popup}-pin")
    pin.clear()
    pin.send_keys("2468")
    box.find_element(By.XPATH, optics).click()
    WebDriverWait(browser, WAIT).until(lambda d: "Answered" in text_of(d, popup))
    job = env.wait_state(api, "live-optics", "completed")
    assert job["account"] == "optics"
    assert [a for a, kind in env.charges(job["uuid"]) if kind == "charge"] == [-25]
    # The held job's chooser on the page: the account picked, its PIN typed.
    env.print("billed", "form-optics")
    held = env.wait_state(api, "form-optics", "pending-held")
    browser.get(env.proxy.https + "/user/jobs")
    item = browser.find_element(By.ID, f"job-{held['uuid']}")
    item.find_element(By.CSS_SELECTOR, "select[name=account] option[value=optics]").click()
    item.find_element(By.ID, f"pin-{held['uuid']}").send_keys("0000")
    assert browser.execute_script(UNLABELLED_JS) == []
    reloading(browser, item.find_element(
        By.XPATH, ".//button[normalize-space()='Charge and print']").click)
    assert "wrong or missing account PIN" in browser.find_element(By.TAG_NAME, "main").text
    assert env.job_row(api, "form-optics")["state"] == "pending-held"
    assert env.charges(held["uuid"]) == []
    browser.get(env.proxy.https + "/user/jobs")
    item = browser.find_element(By.ID, f"job-{held['uuid']}")
    item.find_element(By.CSS_SELECTOR, "select[name=account] option[value=optics]").click()
    item.find_element(By.ID, f"pin-{held['uuid']}").send_keys("2468")
    screenshot(browser, "user-account-pin")
    item.find_element(By.XPATH, ".//button[normalize-space()='Charge and print']").click()
    job = env.wait_state(api, "form-optics", "completed")
    assert job["account"] == "optics"
    assert [a for a, kind in env.charges(job["uuid"]) if kind == "charge"] == [-25]
    # By code/PIN: the account's code typed instead of picked.
    env.print("billed", "code-optics")
    held = env.wait_state(api, "code-optics", "pending-held")
    browser.get(env.proxy.https + "/user/jobs")
    item = browser.find_element(By.ID, f"job-{held['uuid']}")
    item.find_element(By.ID, f"code-{held['uuid']}").send_keys("optics")
    item.find_element(By.ID, f"code-pin-{held['uuid']}").send_keys("2468")
    reloading(browser, item.find_element(
        By.XPATH, ".//button[normalize-space()='Charge by code']").click)
    job = env.wait_state(api, "code-optics", "completed")
    assert job["account"] == "optics"
    assert [a for a, kind in env.charges(job["uuid"]) if kind == "charge"] == [-25]


def test_a_held_job_is_printed_as_another_user(browser: webdriver.Chrome, env: UserEnv,
                                               api: Client) -> None:
    """An ask-account rule that offers "print as another user": the held job's form takes
    bob's name and password; a wrong one is refused, the right one makes it bob's job."""
    admin = login(env.proxy.https, "admin", first_password(env.proxy))
    r = admin.post("/api/v1/rules", json={"name": "office-ask", "type": "ask-account",
                                          "printers": ["office"],
                                          "allow_print_as_other": True})
    assert r.status_code == 201, r.text
    try:
        env.print("office", "as-bob")
        held = env.wait_state(api, "as-bob", "pending-held")
        for password in ("not-bobs", PASSWORDS["bob"]):
            browser.get(env.proxy.https + "/user/jobs")
            item = browser.find_element(By.ID, f"job-{held['uuid']}")
            item.find_element(By.ID, f"as-user-{held['uuid']}").send_keys("bob")
            item.find_element(By.ID, f"as-password-{held['uuid']}").send_keys(password)
            assert browser.execute_script(UNLABELLED_JS) == []
            if password == PASSWORDS["bob"]:
                screenshot(browser, "user-print-as")
            reloading(browser, item.find_element(
                By.XPATH, ".//button[normalize-space()='Print as this user']").click)
            if password != PASSWORDS["bob"]:
                assert "keeps waiting" in browser.find_element(By.TAG_NAME, "main").text
                assert env.job_row(api, "as-bob")["state"] == "pending-held"
                assert env.charges(held["uuid"]) == []
        bob = user_client(env.proxy.https, "bob")
        job = env.wait_state(bob, "as-bob", "completed")
        assert [kind for _, kind in env.charges(job["uuid"])].count("charge") == 1
        assert "as-bob" not in {j["name"] for j in api.get("/api/v1/me/jobs").json()["items"]}
    finally:
        assert admin.request("DELETE", "/api/v1/rules/office-ask").status_code == 204
