"""The user's own PIN at the release station (issue 17 items 5-6; web/pages/station.py),
on a site whose cards need it (``release.station_card_needs_pin = true``), with two
``ippproxy serve`` nodes on one PostgreSQL and one spool, walked in headless Chromium
(screenshots ``docs/screenshots/release-user-pin*.png``): card + PIN shows the user's held
jobs and prints one; name + PIN and ID number + PIN; a wrong PIN and a user without one
refused with one message that tells nothing; the three PINs never confused (a user's PIN in
the job PIN box opens no job, a job's PIN in the user PIN box opens no user, and a user
signed in by their PIN cannot print another user's PIN job); a card alone refused; a
station session opened on one node used and ended on the other; wrong PINs throttled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from support.browser import chromium, screenshot
from support.postgres import PostgresCluster
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

from ippproxy.web.pages.station import NO_CARD_PIN, NO_USER_PIN

SITE = EXTRA + """
[release]
station_card_needs_pin = true
station_idle = 45
"""
CARD = "0413-2027"


def _node(directory: Path, database: str, spool: Path, name: str) -> IppProxy:
    proxy = IppProxy(directory, queues=[
        {"name": "desk", "release": "secure", "cost_model": "paper"}, {"name": "pins"}])
    text = proxy.config_path.read_text()
    own = (f'database = "sqlite:///{directory / "ippproxy.db"}"\n'
           f'spool = "{directory / "spool"}"')
    assert own in text
    proxy.config_path.write_text(text.replace(
        own, f'database = "{database}"\nspool = "{spool}"\nnode = "{name}"') + SITE)
    return proxy


@dataclass(frozen=True)
class Site:
    station: Station          # node one's
    two: IppProxy
    cert: Path                # the nodes' one certificate, beside their spool (server/tls.py)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory,
          postgres_cluster: PostgresCluster) -> Iterator[Site]:
    """Node one and node two, sharing the database and the spool."""
    work = documents(tmp_path_factory.mktemp("user-pin-docs"))
    database = postgres_cluster.create_database()
    root = tmp_path_factory.mktemp("nodes")
    one, two = (_node(root / n, database, root / "spool", n) for n in ("one", "two"))
    try:
        with one, two:
            st = Station(one, "", work)
            st.db = database
            st.cmd("add-internal-user", "alice", "--password-file", "-", "--balance", "10.00",
                   "--card-number", CARD, stdin="alice-pw-1\n")
            st.cmd("set-user-property", "alice", "pin", "2468")
            st.cmd("set-user-property", "alice", "id-number", "S-1001")
            st.cmd("add-internal-user", "bob", "--password-file", "-", "--card-number",
                   "5150-7", stdin="bob-pw-1\n")                     # no PIN
            yield Site(st, two, root / "tls" / "server.crt")
            for node in (one, two):
                assert "Traceback" not in node.log(), node.log()[-3000:]
    finally:
        postgres_cluster.drop_database(database)


def _names(driver: object) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jobs .name")]  # type: ignore[attr-defined]


def _login(base: str, cert: Path, printer: str, s: requests.Session,
           data: dict[str, str]) -> requests.Response:
    page = s.get(f"{base}/release/{printer}", timeout=30, verify=str(cert))
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    return s.post(f"{base}/release/{printer}/login", data={
        "form_token": token.group(1), **data}, timeout=30, verify=str(cert))


def _csrf(page: requests.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_card_and_pin_then_name_or_id_number_and_pin(nodes: Site) -> None:
    station = nodes.station
    for name in ("payslip", "memo"):
        station.ipptool("desk", "print", user="alice", name=name)
        station.wait_job("desk", name, "pending-held")
    with chromium(TABLET) as driver:
        base = station.proxy.https
        driver.get(f"{base}/release/desk")
        check_page(driver)
        field(driver, "card", CARD)
        field(driver, "card_pin", "2469")
        submit(driver, "card")
        assert message(driver) == NO_CARD_PIN
        check_page(driver)
        screenshot(driver, "release-user-pin")             # the card asks for the PIN
        field(driver, "card", CARD)
        field(driver, "card_pin", "2468")
        submit(driver, "card")
        signed_in(driver)
        assert _names(driver) == ["payslip", "memo"]
        check_page(driver)
        screenshot(driver, "release-user-pin-jobs")
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Print payslip']").click()
        assert "is printing" in message(driver)
        station.wait_job("desk", "payslip", "completed")
        for who in ("alice", "S-1001"):                        # name, then ID number
            field(driver, "pin_user", who)
            field(driver, "user_pin", "2468")
            submit(driver, "user_pin")
            signed_in(driver)
            assert _names(driver) == ["memo"]
            driver.find_element(By.CSS_SELECTOR, "button[value='end']").click()
            assert message(driver) == "Signed out."
        field(driver, "pin_user", "bob")                       # bob has no PIN
        field(driver, "user_pin", "2468")
        submit(driver, "user_pin")
        assert message(driver) == NO_USER_PIN
        assert not driver.find_elements(By.CSS_SELECTOR, ".who")


def test_the_three_pins_are_never_confused(nodes: Site) -> None:
    station = nodes.station
    station.ipptool("pins", "pin", user="ippeval", tls=True)   # PIN 1234
    held = [j for j in station.jobs("pins") if j.get("job-state") == "pending-held"]
    assert held and held[-1]["job-state-reasons"] == "job-password-wait", held
    base, cert = station.proxy.https, nodes.cert
    with chromium(TABLET) as driver:
        driver.get(f"{base}/release/pins")
        field(driver, "pin", "2468")                           # alice's PIN, job PIN box
        submit(driver, "pin")
        assert message(driver) == "No job on this printer has that PIN."
        field(driver, "pin_user", "alice")                     # the job's PIN, user box
        field(driver, "user_pin", "1234")
        submit(driver, "user_pin")
        assert message(driver) == NO_USER_PIN
        assert station.jobs("pins")[-1]["job-state"] == "pending-held"
        field(driver, "card", CARD)                            # alice by her own PIN ...
        field(driver, "card_pin", "2468")
        submit(driver, "card")
        signed_in(driver)
        assert _names(driver) == []                           # ... sees no job of another
    s = requests.Session()
    jobs = _login(base, cert, "pins", s, {"how": "card", "card": CARD, "card_pin": "2468"})
    assert jobs.status_code == 200 and 'class="jobs"' not in jobs.text
    done = s.post(f"{base}/release/pins/act", data={
        "csrf_token": _csrf(jobs), "action": "release-all"}, timeout=30, verify=str(cert))
    assert done.status_code == 200 and "0 job(s) printing." in done.text, done.text
    assert station.jobs("pins")[-1]["job-state"] == "pending-held"
    r = _login(base, cert, "pins", s, {"how": "pin", "pin": "1234"})   # the job's own way
    assert r.status_code == 200 and "is printing" in r.text, r.text
    deadline = time.monotonic() + 60          # CUPS's PIN test names its job itself
    while station.jobs("pins")[-1].get("job-state") != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.3)


def test_a_card_alone_is_not_enough_on_this_site(nodes: Site) -> None:
    station = nodes.station
    base, cert = station.proxy.https, nodes.cert
    page = requests.get(f"{base}/release/desk", timeout=30, verify=str(cert))
    assert 'id="card_pin"' in page.text and 'content="45;' in page.text   # the site's options
    r = _login(base, cert, "desk", requests.Session(), {"how": "card", "card": CARD})
    assert r.status_code == 422 and "Enter your PIN with your card." in r.text
    assert 'class="who"' not in r.text


def test_a_session_opened_on_one_node_is_used_on_the_other(
        nodes: Site) -> None:
    station, two, cert = nodes.station, nodes.two, nodes.cert
    station.ipptool("desk", "print", user="alice", name="two-nodes")
    station.wait_job("desk", "two-nodes", "pending-held")
    one = station.proxy
    s = requests.Session()
    jobs = _login(one.https, cert, "desk", s,
                  {"how": "card", "card": CARD, "card_pin": "2468"})
    assert jobs.status_code == 200 and "two-nodes" in jobs.text
    there = s.get(f"{two.https}/release/desk", timeout=30, verify=str(cert))
    assert 'class="who"' in there.text and "two-nodes" in there.text    # signed in there
    uuid = re.search(r'name="job" value="([^"]+)"(?:(?!</li>).)*Print two-nodes',
                     there.text, re.DOTALL)
    assert uuid is not None
    done = s.post(f"{two.https}/release/desk/act", data={
        "csrf_token": _csrf(jobs), "action": "release", "job": uuid.group(1)}, timeout=30,
        verify=str(cert))
    assert done.status_code == 200 and "is printing" in done.text, done.text
    station.wait_job("desk", "two-nodes", "completed")
    again = s.post(f"{one.https}/release/desk/act", data={
        "csrf_token": _csrf(jobs), "action": "release-all"}, timeout=30, verify=str(cert))
    assert again.status_code == 401                  # ended on node two, so on node one


def test_wrong_user_pins_are_throttled(nodes: Site) -> None:
    """Last in this module: the address is throttled afterwards (five failures free, then
    a growing wait: services/throttle.py), and the wrong PINs count with the module's
    earlier failures from this address."""
    station, two = nodes.station, nodes.two
    codes = []
    for i in range(8):
        r = _login(station.proxy.https, nodes.cert, "desk", requests.Session(),
                   {"how": "user-pin", "pin_user": "alice", "user_pin": f"{9000 + i}"})
        codes.append(r.status_code)
        if r.status_code == 429:
            assert "Too many wrong attempts" in r.text
            break
    assert codes[-1] == 429 and set(codes[:-1]) == {401}, codes
    for node in (station.proxy, two):                # on both nodes, even the right PIN
        r = _login(node.https, nodes.cert, "desk", requests.Session(),
                   {"how": "card", "card": CARD, "card_pin": "2468"})
        assert r.status_code == 429 and 'class="who"' not in r.text
