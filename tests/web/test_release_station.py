"""The release station page (issue 17 §6; web/pages/station.py), walked in headless
Chromium at tablet and phone width with screenshots (``docs/screenshots/release-*.png``):
identify by card, by name and password and by a job PIN (a PIN job printed with ipptool's
``print-job-password.test`` over IPPS), print one job, cancel one (refunded), a release the
printer refuses because it reports media-empty (the reason shown, the job still held), a
wrong password, and the session gone after one use. Besides: the forms refuse a post without
their CSRF token, and wrong guesses are throttled. A card alone suffices here (the default
``release.station_card_needs_pin = false``); the user's own PIN: test_release_user_pin.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests
from selenium.webdriver.common.by import By
from support.browser import PHONE, chromium, screenshot
from support.media_empty import ThreadedPrinter
from support.server import IppProxy
from support.station import (
    EXTRA,
    TABLET,
    Station,
    check_page,
    documents,
    field,
    message,
    signed_in,
    submit,
)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    work = documents(tmp_path_factory.mktemp("station-docs"))
    with ThreadedPrinter() as jammed:
        proxy = IppProxy(tmp_path_factory.mktemp("station"), queues=[
            {"name": "desk", "release": "secure", "cost_model": "paper"},
            {"name": "pins"},                                # free: its users are new
            {"name": "jammed", "release": "secure", "destination": jammed.uri}])
        proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
        with proxy:
            st = Station(proxy, jammed.uri, work)
            st.cmd("add-internal-user", "alice", "--password-file", "-", "--balance", "10.00",
                   "--card-number", "0413-2027", stdin="alice-pw-1\n")
            yield st
            assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def test_the_station_by_card_password_and_pin(station: Station) -> None:
    for name in ("quarterly", "draft"):
        station.ipptool("desk", "print", user="alice", name=name)
        station.wait_job("desk", name, "pending-held")
    with chromium(TABLET) as driver:
        base = station.proxy.https
        driver.get(f"{base}/release/desk")
        check_page(driver)
        screenshot(driver, "release-identify")
        field(driver, "username", "alice")
        field(driver, "password", "wrong-password")
        submit(driver, "password")
        assert message(driver) == "Wrong name or password."
        screenshot(driver, "release-wrong-password")
        field(driver, "card", "0413-2027")                          # by card
        submit(driver, "card")
        signed_in(driver)
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jobs .name")]
        assert names == ["quarterly", "draft"]
        check_page(driver)
        screenshot(driver, "release-jobs")
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Print quarterly']").click()
        assert "is printing" in message(driver)
        screenshot(driver, "release-printed")
        station.wait_job("desk", "quarterly", "completed")
        driver.get(f"{base}/release/desk")                           # one use: signed out
        assert driver.find_elements(By.ID, "card")
        field(driver, "username", "alice")                          # by name and password
        field(driver, "password", "alice-pw-1")
        submit(driver, "password")
        signed_in(driver)
        assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jobs .name")] == [
            "draft"]
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Cancel draft']").click()
        assert "nothing is charged" in message(driver)
        station.wait_job("desk", "draft", "canceled")
        # A PIN job: CUPS's print-job-password.test (PIN 1234) over IPPS.
        station.ipptool("pins", "pin", user="ippeval", tls=True, name="pin-job")
        held = [j for j in station.jobs("pins") if j.get("job-state") == "pending-held"]
        assert held and held[-1]["job-state-reasons"] == "job-password-wait", held
        driver.get(f"{base}/release/pins")
        field(driver, "pin", "4321")
        submit(driver, "pin")
        assert message(driver) == "No job on this printer has that PIN."
        field(driver, "pin", "1234")
        submit(driver, "pin")
        assert "is printing" in message(driver)
        screenshot(driver, "release-pin")
        deadline = time.monotonic() + 60
        while station.jobs("pins")[-1].get("job-state") != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.3)


def test_a_release_refused_while_the_printer_reports_media_empty(station: Station) -> None:
    station.ipptool("jammed", "print", user="alice", name="poster")
    station.wait_job("jammed", "poster", "pending-held")
    with chromium(PHONE) as driver:
        driver.get(f"{station.proxy.https}/release/jammed")
        check_page(driver)
        field(driver, "username", "alice")
        field(driver, "password", "alice-pw-1")
        submit(driver, "password")
        signed_in(driver)
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Print poster']").click()
        said = message(driver)
        assert "media-empty" in said and "stays held" in said, said
        check_page(driver)
        screenshot(driver, "release-media-empty")
    assert station.wait_job("jammed", "poster", "pending-held")


def test_forms_need_their_csrf_token(station: Station) -> None:
    base = station.proxy.https
    s = requests.Session()
    cert = str(station.proxy.cert)
    page = s.get(f"{base}/release/desk", timeout=30, verify=cert)
    assert page.status_code == 200 and "form_token" in page.text
    r = s.post(f"{base}/release/desk/login", data={"how": "password", "username": "alice",
                                                     "password": "alice-pw-1"}, timeout=30,
               verify=cert)                  # the form cookie, but not the form's token
    assert r.status_code == 403 and "expired" in r.text
    r = s.post(f"{base}/release/desk/act", data={"action": "release-all"}, timeout=30,
               verify=cert)
    assert r.status_code == 401
    assert s.get(f"{base}/release/nosuch", timeout=30, verify=cert).status_code == 404


def test_print_all_by_card_with_a_plain_http_client(station: Station) -> None:
    for name in ("all-1", "all-2"):
        station.ipptool("desk", "print", user="alice", name=name)
        station.wait_job("desk", name, "pending-held")
    base, cert = station.proxy.https, str(station.proxy.cert)
    s = requests.Session()
    page = s.get(f"{base}/release/desk", timeout=30, verify=cert)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    jobs = s.post(f"{base}/release/desk/login", data={
        "form_token": token.group(1), "how": "card", "card": "0413-2027"}, timeout=30,
        verify=cert)
    assert jobs.status_code == 200 and "all-1" in jobs.text and "all-2" in jobs.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', jobs.text)
    assert csrf is not None
    done = s.post(f"{base}/release/desk/act", data={
        "csrf_token": csrf.group(1), "action": "release-all"}, timeout=30, verify=cert)
    assert done.status_code == 200 and "2 job(s) printing." in done.text, done.text
    for name in ("all-1", "all-2"):
        station.wait_job("desk", name, "completed")
    again = s.post(f"{base}/release/desk/act", data={
        "csrf_token": csrf.group(1), "action": "release-all"}, timeout=30, verify=cert)
    assert again.status_code == 401                    # the session ended with its use


def _card_login(s: requests.Session, base: str, cert: str, card: str) -> str:
    """Identify by card at the desk station; the jobs page's text."""
    page = s.get(f"{base}/release/desk", timeout=30, verify=cert)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    jobs = s.post(f"{base}/release/desk/login", data={
        "form_token": token.group(1), "how": "card", "card": card}, timeout=30, verify=cert)
    assert jobs.status_code == 200, jobs.text
    return jobs.text


def test_the_station_acts_only_on_the_identified_users_own_jobs(station: Station) -> None:
    """A hand-made post naming another user's job (or one of another printer) is refused,
    whatever rights the identified user has elsewhere: the station shows a user's own jobs
    at its printer and acts on nothing else."""
    station.cmd("add-internal-user", "bob", "--password-file", "-", "--balance", "10.00",
                "--card-number", "0777-0001", stdin="bob-pw-123\n")
    station.ipptool("desk", "print", user="bob", name="bobs-doc")
    station.wait_job("desk", "bobs-doc", "pending-held", "bob")
    base, cert = station.proxy.https, str(station.proxy.cert)
    bobs = _card_login(requests.Session(), base, cert, "0777-0001")
    theirs = re.search(r'name="job" value="([^"]+)"', bobs)
    assert theirs is not None and "bobs-doc" in bobs
    s = requests.Session()
    mine = _card_login(s, base, cert, "0413-2027")
    assert "bobs-doc" not in mine
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', mine)
    assert csrf is not None
    for action in ("release", "cancel"):
        r = s.post(f"{base}/release/desk/act", data={
            "csrf_token": csrf.group(1), "action": action, "job": theirs.group(1)},
            timeout=30, verify=cert)
        assert r.status_code == 409 and "job of yours held at desk" in r.text, r.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                         _card_login(s, base, cert, "0413-2027"))
        assert csrf is not None
    assert station.wait_job("desk", "bobs-doc", "pending-held", "bob")


def test_wrong_passwords_and_pins_are_throttled(station: Station) -> None:
    """Last in this module: the kiosk's address is throttled afterwards (as a login page's
    would be, services/throttle.py: five failures free, then a growing wait)."""
    base, cert = station.proxy.https, str(station.proxy.cert)
    s = requests.Session()
    codes = []
    for i in range(8):
        page = s.get(f"{base}/release/pins", timeout=30, verify=cert)
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token is not None
        data = ({"how": "pin", "pin": f"{9000 + i}"} if i % 2 else
                {"how": "password", "username": "alice", "password": f"nope-{i}"})
        r = s.post(f"{base}/release/pins/login", data={"form_token": token.group(1), **data},
                   timeout=30, verify=cert)
        codes.append(r.status_code)
        if r.status_code == 429:
            assert "Too many wrong attempts" in r.text
            assert int(r.headers["Retry-After"]) > 0    # RFC 6585 §4
            break
    assert codes[-1] == 429 and set(codes[:-1]) == {401}, codes
    page = s.get(f"{base}/release/pins", timeout=30, verify=cert)
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    r = s.post(f"{base}/release/pins/login", data={
        "form_token": token.group(1), "how": "password", "username": "alice",
        "password": "alice-pw-1"}, timeout=30, verify=cert)
    assert r.status_code == 429            # not even checked while the wait lasts
