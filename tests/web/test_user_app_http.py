"""The user web app at ``/user/`` over HTTP, against the real ``ippproxy serve``: deny by
default, the login form (wrong password, rate limit), CSRF on every form, and that no user
sees or touches another user's jobs or accounts; the held-job answers (cancel, choose an
account, confirm) charge nothing or exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.server import tracebacks
from support.webapi import Client, first_password, trust

from .userapp_env import UserEnv, page_login, start, user_client

PAGES = ("/user/", "/user/jobs", "/user/transactions")
FORMS = ("/user/jobs/{uuid}/cancel", "/user/jobs/{uuid}/account", "/user/jobs/{uuid}/confirm",
         "/user/logout")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, pdf: Path) -> Iterator[UserEnv]:
    e = start(tmp_path_factory.mktemp("userapp"), pdf)
    try:
        yield e
        assert tracebacks(e.proxy.log()) == []
    finally:
        e.proxy.stop()


@pytest.fixture(scope="module")
def alice(env: UserEnv) -> Client:
    return user_client(env.proxy.https, "alice")


@pytest.fixture(scope="module")
def bob(env: UserEnv) -> Client:
    return user_client(env.proxy.https, "bob")


def _html(client: Client, path: str) -> requests.Response:
    return client.get(path, headers={"Accept": "text/html"})


def test_no_session_no_page(env: UserEnv) -> None:
    base = env.proxy.https
    nobody = Client(base)
    for path in PAGES:
        r = _html(nobody, path)
        assert r.status_code == 303, (path, r.status_code)
        assert r.headers["Location"].startswith("/user/login?next="), r.headers["Location"]
        api = nobody.get(path)    # a script: 401 problem JSON, never the page
        assert api.status_code == 401 and api.headers["Content-Type"].startswith(
            "application/problem+json"), (path, api.status_code)
    for path in FORMS:
        r = nobody.post(path.format(uuid="00000000-0000-0000-0000-000000000000"),
                        data={"csrf_token": "x"})
        assert r.status_code == 401, (path, r.status_code)
    # A forged session cookie proves nobody either; /USER is the same scope as /user.
    assert _html(Client(base, cookie="forged"), "/user/").status_code == 303
    assert Client(base).get("/USER/jobs").status_code in (401, 404)
    login = requests.get(base + "/user/login", timeout=30, verify=trust(base))
    assert login.status_code == 200 and 'name="password"' in login.text


def test_wrong_password_stays_on_the_form(env: UserEnv) -> None:
    r = page_login(env.proxy.https, "alice", "not-her-password")
    assert r.status_code == 401 and "Wrong name or password." in r.text
    assert "not-her-password" not in r.text and "Set-Cookie" not in r.headers
    # A login page never sends on to another site.
    r = requests.post(env.proxy.https + "/user/login", data={
        "username": "alice", "password": "alice-password-1", "next": "//evil.example/x"},
        allow_redirects=False, timeout=30, verify=trust(env.proxy.https))
    assert r.status_code == 303 and r.headers["Location"] == "/user/"


def test_home_shows_only_own_balances_and_the_low_credit_warning(
        env: UserEnv, alice: Client, bob: Client) -> None:
    mine = _html(alice, "/user/").text
    assert "10.00 EUR" in mine and "Physics" in mine and "20.00 EUR" in mine
    assert 'id="low-credit"' in mine     # 10.00 is below the 20.00 threshold
    theirs = _html(bob, "/user/").text
    assert "Physics" not in theirs and "physics" not in theirs


def test_no_user_sees_or_touches_another_users_job(env: UserEnv, alice: Client,
                                                   bob: Client) -> None:
    env.print("billed", "alice-secret-payroll")
    job = env.wait_state(alice, "alice-secret-payroll", "pending-held")
    assert job["reasons"] == ["account-info-needed"]
    assert "alice-secret-payroll" in _html(alice, "/user/").text
    assert "alice-secret-payroll" in _html(alice, "/user/jobs").text
    for path in PAGES:
        assert "alice-secret-payroll" not in _html(bob, path).text, path
    for action, form in (("cancel", {}), ("account", {"account": "-"}),
                         ("confirm", {"answer": "print"})):
        r = bob.post(f"/user/jobs/{job['uuid']}/{action}", data=form,
                     headers={"Accept": "text/html"})
        assert r.status_code == 404, (action, r.status_code)
        assert "alice-secret-payroll" not in r.text and "Not found" in r.text
    assert env.job_row(alice, "alice-secret-payroll")["state"] == "pending-held"
    assert env.charges(job["uuid"]) == []


def test_forms_need_the_sessions_csrf_token(env: UserEnv, alice: Client) -> None:
    env.print("billed", "csrf-target")
    job = env.wait_state(alice, "csrf-target", "pending-held")
    no_token = Client(alice.base, cookie=alice.cookie)
    for sent in ({}, {"csrf_token": "wrong"}, {"csrf_token": (alice.csrf or "")[:-1] + "x"}):
        r = no_token.post(f"/user/jobs/{job['uuid']}/cancel", data=sent)
        assert r.status_code == 403, (sent, r.status_code)
    r = no_token.post("/user/logout", data={})
    assert r.status_code == 403
    assert env.job_row(alice, "csrf-target")["state"] == "pending-held"
    ok = no_token.post(f"/user/jobs/{job['uuid']}/cancel",
                       data={"csrf_token": alice.csrf, "back": "/user/jobs"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/user/jobs"
    assert env.job_row(alice, "csrf-target")["state"] == "canceled"
    assert env.charges(job["uuid"]) == []     # canceled: nothing charged


def test_choose_an_account_prints_and_charges_it_once(env: UserEnv, alice: Client) -> None:
    env.print("billed", "to-physics")
    job = env.wait_state(alice, "to-physics", "pending-held")
    form = {"csrf_token": alice.csrf, "account": "chemistry"}    # not alice's to charge
    refused = alice.post(f"/user/jobs/{job['uuid']}/account", data=form)
    assert refused.status_code == 409 and "may not charge" in refused.text
    form["account"] = "physics"
    ok = alice.post(f"/user/jobs/{job['uuid']}/account", data=form)
    assert ok.status_code == 303, ok.text[:300]
    env.wait_state(alice, "to-physics", "completed")
    again = alice.post(f"/user/jobs/{job['uuid']}/account", data=form)
    assert again.status_code == 409 and "waits for no account" in again.text
    charged = [amount for amount, kind in env.charges(job["uuid"]) if kind == "charge"]
    assert charged == [-25], env.charges(job["uuid"])   # two mono pages + the fee, once
    jobs = _html(alice, "/user/jobs").text
    assert "to-physics" in jobs and "0.25 EUR" in jobs


def test_confirm_cancel_charges_nothing_and_print_prints(env: UserEnv, alice: Client) -> None:
    env.print("confirm", "last-chance-no")
    job = env.wait_state(alice, "last-chance-no", "pending-held")
    assert "confirmation-needed" in " ".join(job["reasons"]) or job["reasons"], job
    r = alice.post(f"/user/jobs/{job['uuid']}/confirm",
                   data={"csrf_token": alice.csrf, "answer": "cancel"})
    assert r.status_code == 303
    env.wait_state(alice, "last-chance-no", "canceled")
    env.print("confirm", "last-chance-yes")
    yes = env.wait_state(alice, "last-chance-yes", "pending-held")
    r = alice.post(f"/user/jobs/{yes['uuid']}/confirm",
                   data={"csrf_token": alice.csrf, "answer": "print"})
    assert r.status_code == 303
    env.wait_state(alice, "last-chance-yes", "completed")
    # Canceled at the last chance: whatever was reserved is given back, net zero.
    deadline = time.monotonic() + 30
    while sum(a for a, _ in env.charges(job["uuid"])) != 0:
        assert time.monotonic() < deadline, env.charges(job["uuid"])
        time.sleep(0.3)


def test_transactions_are_own_and_paged(env: UserEnv, alice: Client, bob: Client) -> None:
    for n in range(3):
        env.cmd("adjust-balance", "0.01", "--user", "alice", "--reason", f"bonus {n}")
    env.cmd("adjust-balance", "0.02", "--user", "bob", "--reason", "bob-only top-up")
    first = _html(alice, "/user/transactions?limit=2").text
    assert "bonus 2" in first and "bonus 1" in first and "bonus 0" not in first
    assert "bob-only" not in first
    cursor = first.split('/user/transactions?before=')[1].split('"')[0]
    second = _html(alice, f"/user/transactions?before={cursor}&limit=2").text
    assert "bonus 0" in second and "bonus 2" not in second
    assert "bob-only" not in _html(alice, "/user/transactions?limit=200").text
    home = _html(alice, "/user/").text
    assert "Balance corrected by 0.01 EUR: bonus 2" in home       # a recent notice
    bad = _html(alice, "/user/transactions?before=abc")
    assert bad.status_code == 422


def test_a_policy_message_is_a_notice(env: UserEnv, alice: Client, bob: Client) -> None:
    env.print("office", "duplexed-report")
    env.wait_state(alice, "duplexed-report", "completed")
    home = _html(alice, "/user/").text
    assert "(duplexed-report): Printed double-sided on office" in home
    assert "duplexed-report" not in _html(bob, "/user/").text


def test_a_refused_job_is_a_notice_for_its_user_only(env: UserEnv, alice: Client,
                                                     bob: Client) -> None:
    message = env.refused_print("small", "alice")
    assert "limit on small is 1" in message
    home = _html(alice, "/user/").text
    assert "A job to small was refused: The job has 2 pages; the limit on small is 1" in home
    assert "was refused" not in _html(bob, "/user/").text


def test_an_admin_sees_a_link_to_the_admin_app_a_user_does_not(env: UserEnv,
                                                              alice: Client) -> None:
    assert 'id="admin-link"' not in _html(alice, "/user/").text
    r = page_login(env.proxy.https, "admin", first_password(env.proxy))
    assert r.status_code == 303
    cookie = r.headers["Set-Cookie"].split("ippproxy_session=")[1].split(";")[0]
    home = _html(Client(env.proxy.https, cookie=cookie), "/user/")
    assert home.status_code == 200 and 'id="admin-link" href="/admin/"' not in home.text
    assert '<a href="/admin/" id="admin-link">Admin</a>' in home.text
    assert "You have no account here." in home.text     # the master account prints not


def test_the_login_is_throttled_like_the_admin_login(env: UserEnv) -> None:
    """Last in this module: the address's failures block every login from it a minute."""
    base = env.proxy.https
    # Five failures are free; the wrong-password test's failure from this address counts
    # too when it ran first in this process (pytest-xdist may run it elsewhere).
    answers: list[int] = []
    while len(answers) < 7 and 429 not in answers:
        answers.append(page_login(base, "bob", "guess").status_code)
    assert answers[-1] == 429 and set(answers[:-1]) == {401}, answers
    assert 4 <= len(answers) - 1 <= 5, answers
    blocked = page_login(base, "bob", "bob-password-22")
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert 0 < int(blocked.headers["Retry-After"]) <= 60


