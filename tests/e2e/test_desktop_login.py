"""``ippproxy-client --desktop-login`` (issue 17: "logs in as the desktop user where the
admin trusts that"), end to end: the real ``ippproxy serve`` with ``server.unix_socket``
and ``users.trust_desktop_user`` on (and a second one with it off), the real client as a
subprocess run as throwaway OS users (``useradd``, removed afterwards, ``setpriv``; the
test runs as root, as CI does), their uid proven by the socket's SO_PEERCRED.

The desktop user gets their own user session (their balance on the event stream, their
name on ``GET /api/v1/session``), never admin rights, not even a user with the admin role,
not even root; TCP is refused even from 127.0.0.1; an OS user who is no user of the server,
a uid with no name, a disabled user and a server that does not trust desktop users are
refused with a clear line; a user with two-step sign-in still needs the code."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from sqlalchemy import create_engine
from support.browser import chromium, screenshot
from support.server import IppProxy, tracebacks
from support.totp import Authenticator
from support.userclient import UserClient, run_client
from support.webapi import Client, cmd, database_of, login, remember_certificate, trust

from ippproxy.services.actor import Actor, Via
from ippproxy.services.totp import Totp

ACCOUNTING = """
[accounting]
enabled = true
unknown_users = "create"
"""
# The admin route a desktop session must not reach (read access to users).
ADMIN_ROUTE = "/api/v1/users"
NO_SUCH_UID = 3_999_917   # no entry in /etc/passwd (checked where used)

# One POST over the Unix socket, HTTP/1.1 by hand with the system Python, so that any local
# user can run it; prints {"status", "cookie", "body"}.
DESKTOP_CALL = """
import json, socket, sys
path, body = sys.argv[1], sys.argv[2].encode()
head = ("POST /api/v1/session/desktop HTTP/1.1\\r\\nHost: localhost\\r\\n"
        "Content-Type: application/json\\r\\nContent-Length: %d\\r\\n"
        "Connection: close\\r\\n\\r\\n" % len(body))
with socket.socket(socket.AF_UNIX) as s:
    s.connect(path)
    s.sendall(head.encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
head, _, answer = data.decode().partition("\\r\\n\\r\\n")
cookie = [h for h in head.split("\\r\\n") if h.lower().startswith("set-cookie:")]
print(json.dumps({"status": int(head.split()[1]), "cookie": cookie, "body": answer}))
"""


class OsUsers:
    """Throwaway local accounts, each with a private config directory of its own."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.dirs = Path(tempfile.mkdtemp(prefix="ippproxy-desktop-"))
        self.dirs.chmod(0o755)   # each user enters only their own directory below

    def add(self, role: str) -> str:
        name = f"ipd{role}{secrets.token_hex(3)}"
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True, timeout=60)
        self.names.append(name)
        return name

    def config_dir(self, name: str, uid: int | None = None) -> Path:
        d = Path(tempfile.mkdtemp(prefix="cfg-", dir=self.dirs))
        os.chown(d, pwd.getpwnam(name).pw_uid if uid is None else uid, -1)
        return d

    def remove(self) -> None:
        for name in self.names:
            subprocess.run(["userdel", name], check=False, timeout=60)
        shutil.rmtree(self.dirs, ignore_errors=True)


@pytest.fixture(scope="module")
def os_users() -> Iterator[OsUsers]:
    if os.geteuid() != 0:
        pytest.fail("the desktop login tests create throwaway OS users: run them as root")
    users = OsUsers()
    try:
        yield users
    finally:
        users.remove()


def _server(directory: Path, *, trusted: bool) -> tuple[IppProxy, str]:
    sockets = Path(tempfile.mkdtemp(prefix="ippproxy-sock-"))
    sockets.chmod(0o755)   # as /run/cups: every local user may reach the socket
    socket = str(sockets / "ippproxy.sock")
    proxy = IppProxy(directory, server={"unix_socket": socket})
    extra = ACCOUNTING + ("[users]\ntrust_desktop_user = true\n" if trusted else "")
    proxy.config_path.write_text(proxy.config_path.read_text() + extra)
    return proxy, socket


class _NoAudit:
    """The TOTP set-up below is the test's, not an audited action of anyone."""

    def record(self, entry: object) -> None:
        pass


class Env:
    def __init__(self, proxy: IppProxy, socket: str, known: str, stranger: str) -> None:
        self.proxy, self.socket, self.known, self.stranger = proxy, socket, known, stranger


def _add_user(proxy: IppProxy, name: str, balance: str, *, admin: bool = False) -> None:
    done = cmd(proxy, "add-internal-user", name, "--password-file", "-", "--balance",
               balance, stdin=f"{name}-password-1\n")
    assert done.returncode == 0, done.stderr
    if admin:
        done = cmd(proxy, "set-user-property", name, "admin", "true")
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, os_users: OsUsers) -> Iterator[Env]:
    proxy, socket = _server(tmp_path_factory.mktemp("desktop"), trusted=True)
    with proxy:
        remember_certificate(proxy)
        e = Env(proxy, socket, os_users.add("k"), os_users.add("s"))
        # known has the admin role: a password login gets it, a desktop login never does.
        _add_user(proxy, e.known, "7.50", admin=True)
        _add_user(proxy, "root", "1.00", admin=True)
        yield e
        assert tracebacks(proxy.log()) == [], proxy.log()[-3000:]
    shutil.rmtree(Path(socket).parent, ignore_errors=True)


def _saved(config_dir: Path) -> dict[str, Any]:
    files = list(config_dir.glob("session-*.json"))
    assert len(files) == 1, files
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    return {**json.loads(files[0].read_text()), "owner": files[0].stat().st_uid}


def _audits(proxy: IppProxy) -> list[dict[str, Any]]:
    return [json.loads(line.split("audit ", 1)[1]) for line in proxy.log().splitlines()
            if "audit {" in line]


def _desktop_call(socket: str, body: dict[str, str], user: str | int) -> dict[str, Any]:
    """DESKTOP_CALL as ``user`` (a name, or a bare uid with the nogroup group)."""
    gid = pwd.getpwnam(user).pw_gid if isinstance(user, str) else 0 if user == 0 else 65534
    r = subprocess.run(["/usr/bin/python3", "-c", DESKTOP_CALL, socket, json.dumps(body)],
                       user=user, group=gid, extra_groups=[], capture_output=True, text=True,
                       check=True, timeout=60)
    out: dict[str, Any] = json.loads(r.stdout)
    out["problem"] = json.loads(out["body"]) if out["status"] >= 400 else None
    return out


def test_the_desktop_user_gets_their_own_session_and_never_admin_rights(
        env: Env, os_users: OsUsers) -> None:
    config = os_users.config_dir(env.known)
    client = UserClient(env.proxy, config, "--desktop-login", "--timeout", "60",
                        socket=env.socket, run_as=env.known)
    try:
        client.next("connection", where=lambda d: d["status"] == "connected")
        balance = client.next("balance")
        assert [(a["name"], a["balance"]) for a in balance["accounts"]] == [(env.known, 750)]
    finally:
        client.stop()
    saved = _saved(config)   # kept as the password login's is: 0600, the user's own file
    assert saved["owner"] == pwd.getpwnam(env.known).pw_uid
    assert saved["user"] == env.known and saved["server"] == f"unix:{env.socket}"
    session = Client(env.proxy.https, cookie=saved["session"], csrf=saved["csrf"])
    me = session.get("/api/v1/session").json()
    assert (me["name"], me["via"], me["superuser"]) == (env.known, "desktop", False)
    assert set(me["rights"].values()) == {"none"}
    assert session.get("/api/v1/me/accounts").status_code == 200
    denied = session.get(ADMIN_ROUTE)
    assert denied.status_code == 403
    assert denied.headers["Content-Type"].startswith("application/problem+json")
    # The same user's password login has the admin role: only the desktop login lacks it.
    admin = login(env.proxy.https, env.known, f"{env.known}-password-1")
    assert admin.get("/api/v1/session").json()["superuser"] is True
    assert admin.get(ADMIN_ROUTE).status_code == 200
    logins = [a for a in _audits(env.proxy) if a["action"] == "session.login"
              and a["target"] == f"user:{env.known}"]
    assert any((a.get("after") or {}).get("method") == "desktop" for a in logins), logins
    _the_client_page_in_chromium(env, saved["session"])


def _the_client_page_in_chromium(env: Env, session: str) -> None:
    """The user web app with the desktop session, in Chromium: the client page shows the
    desktop login's command, and no Admin link although the user has the admin role."""
    with chromium() as driver:
        driver.get(env.proxy.https + "/user/login")
        driver.add_cookie({"name": "ippproxy_session", "value": session, "path": "/",
                           "secure": True})
        driver.get(env.proxy.https + "/user/client")
        command = driver.find_element(By.ID, "desktop-command").text
        assert command == f"ippproxy-client --socket {env.socket} --desktop-login"
        assert driver.find_elements(By.ID, "admin-link") == []
        screenshot(driver, "user-client-desktop")


def test_root_on_the_socket_gets_a_user_session_too(env: Env, tmp_path: Path) -> None:
    # The IPP rule of the same socket makes root an admin (server/authn.py); a desktop
    # session of root is the user "root"'s, with no admin rights although it has the role.
    got = _desktop_call(env.socket, {}, user=0)
    assert got["status"] == 201, got
    me = json.loads(got["body"])
    assert (me["name"], me["via"], me["superuser"]) == ("root", "desktop", False)
    cookie = got["cookie"][0].split("ippproxy_session=", 1)[1].split(";", 1)[0]
    assert Client(env.proxy.https, cookie=cookie).get(ADMIN_ROUTE).status_code == 403


def test_wrong_passwords_from_the_network_do_not_lock_the_desktop_user_out(
        env: Env, os_users: OsUsers) -> None:
    name = os_users.add("w")
    _add_user(env.proxy, name, "3.00")
    for _ in range(7):   # past the throttle's free failures (services/throttle.py)
        r = requests.post(env.proxy.https + "/api/v1/session",
                          json={"username": name, "password": "guessed-wrong"}, timeout=30,
                          verify=trust(env.proxy.https))
        assert r.status_code in (401, 429)
    assert r.status_code == 429   # the password login of this user now waits
    got = _desktop_call(env.socket, {}, user=name)   # no password is guessed here
    assert got["status"] == 201, got
    assert json.loads(got["body"])["name"] == name


def test_over_tcp_the_desktop_login_is_refused_even_with_the_option_on(
        env: Env, tmp_path: Path) -> None:
    r = requests.post(env.proxy.https + "/api/v1/session/desktop", json={}, timeout=30,
                      verify=trust(env.proxy.https))
    assert r.status_code == 403 and "Set-Cookie" not in r.headers
    assert r.json()["type"].endswith("/desktop-login-not-local")
    assert "local socket" in r.json()["detail"]
    # Plain HTTP on the TCP port is not served at all (redirected to HTTPS).
    plain = requests.post(f"http://{env.proxy.authority}/api/v1/session/desktop", json={},
                          timeout=30, allow_redirects=False)
    assert plain.status_code == 308
    # The client says so before trying: a URL proves no desktop user.
    code, _, err = run_client(env.proxy, tmp_path / "cfg", "--desktop-login")
    assert code == 2 and "--desktop-login needs --socket" in err


def test_an_os_user_who_is_no_user_of_the_server_is_refused_clearly(
        env: Env, os_users: OsUsers) -> None:
    config = os_users.config_dir(env.stranger)
    code, lines, err = run_client(env.proxy, config, "--desktop-login", socket=env.socket,
                                  run_as=env.stranger)
    assert code == 2, (lines, err)
    assert (f"ippproxy-client: desktop login failed: the desktop user {env.stranger!r} is "
            "not an enabled user of this print server") in err
    assert list(config.glob("session-*.json")) == []
    # Not created either, although unknown_users = "create" creates users who print.
    assert cmd(env.proxy, "set-user-property", env.stranger, "full-name", "x").returncode == 1
    # A uid with no name in the password database names nobody.
    with pytest.raises(KeyError):
        pwd.getpwuid(NO_SUCH_UID)
    got = _desktop_call(env.socket, {}, user=NO_SUCH_UID)
    assert got["status"] == 403 and got["cookie"] == []
    assert got["problem"]["detail"].startswith(f"uid {NO_SUCH_UID} has no name")
    refused = [a for a in _audits(env.proxy) if a["action"] == "session.login-failed"]
    assert {a["target"] for a in refused} >= {f"user:uid:{NO_SUCH_UID}"}


def test_a_disabled_user_is_refused(env: Env, os_users: OsUsers) -> None:
    name = os_users.add("d")
    _add_user(env.proxy, name, "1.00")
    assert cmd(env.proxy, "set-user-property", name, "disabled", "true").returncode == 0
    code, _, err = run_client(env.proxy, os_users.config_dir(name), "--desktop-login",
                              socket=env.socket, run_as=name)
    assert code == 2 and "is not an enabled user of this print server" in err


def test_a_user_with_two_step_sign_in_still_gives_the_code(env: Env, os_users: OsUsers) -> None:
    name = os_users.add("t")
    _add_user(env.proxy, name, "2.00")
    engine = create_engine(database_of(env.proxy))
    totp = Totp(engine, _NoAudit())
    actor = Actor(name, Via.SESSION)
    app = Authenticator(totp.begin(actor).secret)
    totp.confirm(actor, app.code())
    engine.dispose()
    asked = _desktop_call(env.socket, {}, user=name)
    assert asked["status"] == 401 and asked["cookie"] == []
    assert asked["problem"]["type"].endswith("/second-factor-needed")
    wrong = _desktop_call(env.socket, {"code": app.wrong()}, user=name)
    assert wrong["status"] == 401 and wrong["problem"]["type"].endswith("/login-failed")
    right = _desktop_call(env.socket, {"code": app.code()}, user=name)
    assert right["status"] == 201 and json.loads(right["body"])["name"] == name
    # The client without a terminal cannot ask for the code: it says what is missing.
    code, _, err = run_client(env.proxy, os_users.config_dir(name), "--desktop-login",
                              socket=env.socket, run_as=name)
    assert code == 2 and "asks for its two-step sign-in code (no code given)" in err


def test_a_server_that_does_not_trust_desktop_users_refuses_them(
        tmp_path_factory: pytest.TempPathFactory, os_users: OsUsers) -> None:
    proxy, socket = _server(tmp_path_factory.mktemp("desktop-off"), trusted=False)
    with proxy:
        name = os_users.add("o")
        _add_user(proxy, name, "1.00")
        code, _, err = run_client(proxy, os_users.config_dir(name), "--desktop-login",
                                  socket=socket, run_as=name)
        assert code == 2
        assert ("ippproxy-client: desktop login failed: this server does not trust desktop "
                "logins (users.trust_desktop_user is off)") in err
        got = _desktop_call(socket, {}, user=name)
        assert got["status"] == 403 and got["cookie"] == []
        assert got["problem"]["type"].endswith("/desktop-login-off")
        # The client page offers no desktop login either (the password login still works).
        remember_certificate(proxy)
        page = login(proxy.https, name, f"{name}-password-1").get("/user/client")
        assert page.status_code == 200 and 'id="client-command"' in page.text
        assert 'id="desktop-command"' not in page.text
        assert tracebacks(proxy.log()) == []
    shutil.rmtree(Path(socket).parent, ignore_errors=True)

