"""Logging in to the real server: the first-start password, ``ippproxy cmd set-password``,
the session cookie, the login form with its CSRF field, and the login rate limit."""

from __future__ import annotations

import re
import subprocess

import requests
from support.server import IppProxy, ippproxy_command, tracebacks
from support.webapi import Client, cmd, first_password, login, start_server, trust


def test_first_start_password_is_printed_once_and_can_be_changed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proxy = start_server(tmp_path)
    try:
        password = first_password(proxy)
        base = proxy.https
        session = login(base, "admin", password)
        proxy.restart()
        assert first_password(proxy) == password  # still the one line of the first start
        assert session.get("/api/v1/session").status_code == 200  # sessions survive a restart
        # Changed at the machine: read from stdin, never from argv; open sessions end.
        done = cmd(proxy, "set-password", "admin", stdin="correct horse battery staple\n")
        assert done.returncode == 0, done.stderr
        assert "1 session(s) ended" in done.stdout
        assert session.get("/api/v1/session").status_code == 401
        r = requests.post(verify=trust(base), url=base + "/api/v1/session",
                          json={"username": "admin", "password": password}, timeout=30)
        assert r.status_code == 401 and r.headers["Content-Type"].startswith(
            "application/problem+json")
        login(base, "admin", "correct horse battery staple")
        short = cmd(proxy, "set-password", "admin", stdin="short\n")
        assert short.returncode == 2 and "password" in short.stderr
        # The database can also come from the server's configuration file.
        via_config = subprocess.run(
            [*ippproxy_command(), "cmd", "set-password", "admin", "--config",
             str(proxy.config_path)], input="another long passphrase\n", capture_output=True,
            text=True, timeout=60, check=False)
        assert via_config.returncode == 0, via_config.stderr
        login(base, "admin", "another long passphrase")
        assert tracebacks(proxy.log()) == []
    finally:
        proxy.stop()


def test_session_cookie_form_login_csrf_and_rate_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proxy: IppProxy = start_server(tmp_path)
    try:
        base = proxy.https
        password = first_password(proxy)
        r = requests.post(verify=trust(base), url=base + "/admin/login", data={"username": "admin", "password": password},
                          allow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["Location"] == "/admin"
        cookie = r.headers["Set-Cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
            assert attribute in cookie, cookie
        sid = re.search(r"ippproxy_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
        assert len(sid) >= 43  # secrets.token_urlsafe(32)
        browser = Client(base, cookie=sid)
        me = browser.get("/api/v1/session").json()
        assert me["name"] == "admin" and me["superuser"] is True
        # The logout form without its CSRF field is refused; with it, the session ends.
        refused = browser.post("/admin/logout", data={})
        assert refused.status_code == 403 and refused.json()["type"].endswith("/csrf")
        wrong = browser.post("/admin/logout", data={"csrf_token": me["csrf_token"][:-1] + "x"})
        assert wrong.status_code == 403
        out = browser.post("/admin/logout", data={"csrf_token": me["csrf_token"]})
        assert out.status_code == 303 and out.headers["Location"] == "/admin/login"
        assert browser.get("/api/v1/session").status_code == 401

        # Five failures for one user, then 429 with Retry-After, even with the right password.
        for _ in range(5):
            bad = requests.post(verify=trust(base), url=base + "/api/v1/session",
                                json={"username": "Admin", "password": "guess"}, timeout=30)
            assert bad.status_code == 401
        blocked = requests.post(verify=trust(base), url=base + "/api/v1/session",
                                json={"username": "admin", "password": password}, timeout=30)
        assert blocked.status_code == 429
        assert 55 <= int(blocked.headers["Retry-After"]) <= 60
        assert blocked.json()["status"] == 429
        form = requests.post(verify=trust(base), url=base + "/admin/login", data={"username": "admin",
                                                          "password": password},
                             allow_redirects=False, timeout=30)
        assert form.status_code == 429 and "Set-Cookie" not in form.headers
        # The address is throttled for every name (the same client tries another user).
        other = requests.post(verify=trust(base), url=base + "/api/v1/session",
                              json={"username": "mallory", "password": "x"}, timeout=30)
        assert other.status_code == 429
        audit = [line for line in proxy.log().splitlines() if "ippproxy.audit: audit" in line]
        assert sum('"session.login-failed"' in line for line in audit) == 5
        assert sum('"session.login"' in line for line in audit) == 1
        assert sum('"session.logout"' in line for line in audit) == 1
        assert password not in proxy.log().split(password, 1)[1]  # printed once, never logged
        assert tracebacks(proxy.log()) == []
    finally:
        proxy.stop()
