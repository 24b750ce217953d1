"""The admin role and passwords over the REST API (issue 13 §5): a full admin grants and
takes back the admin role of a user and of a group, audited with before and after; anyone
logged in changes their own password (the master account's too) by proving the current
one, which ends every session of that account, and never with an API token."""

from __future__ import annotations

import json

import requests
from support.server import IppProxy, tracebacks
from support.webapi import Client, cmd, first_password, login, trust


def audit(proxy: IppProxy, action: str) -> list[dict[str, object]]:
    entries = [json.loads(line.split(" audit ", 1)[1]) for line in proxy.log().splitlines()
               if "ippproxy.audit: audit " in line]
    return [e for e in entries if e["action"] == action]


def put(client: Client, path: str, body: object) -> requests.Response:
    return client.request("PUT", path, json=body)


def problem(r: requests.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/problem+json"), r.headers
    body: dict[str, object] = r.json()
    return body


def add_user(proxy: IppProxy, name: str, password: str, *groups: str) -> None:
    for g in groups:
        assert cmd(proxy, "add-group", g).returncode == 0
    extra = [arg for g in groups for arg in ("--group", g)]
    done = cmd(proxy, "add-internal-user", name, "--password-file", "-", *extra,
               stdin=password + "\n")
    assert done.returncode == 0, done.stderr


def test_the_admin_role_of_a_user_is_granted_and_taken_back(
        admin: Client, base: str, proxy: IppProxy) -> None:
    add_user(proxy, "Dave", "dave-password-1")
    dave = login(base, "dave", "dave-password-1")
    problem(dave.get("/api/v1/users"), 403)
    problem(put(dave, "/api/v1/users/dave/admin", {"admin": True}), 403)   # not himself

    r = put(admin, "/api/v1/users/DAVE/admin", {"admin": True})
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "dave" and r.json()["admin"] is True
    assert dave.get("/api/v1/users").status_code == 200      # in the session he has
    assert dave.get("/api/v1/session").json()["superuser"] is True
    r = put(admin, "/api/v1/users/dave/admin", {"admin": False})
    assert r.status_code == 200 and r.json()["admin"] is False
    problem(dave.get("/api/v1/users"), 403)

    problem(put(admin, "/api/v1/users/nobody-here/admin", {"admin": True}), 404)
    problem(put(admin, "/api/v1/users/dave/admin", {"admin": "yes please"}), 422)
    granted = [(e["target"], e["before"], e["after"]) for e in audit(proxy, "user.admin")]
    assert granted == [("user:dave", {"admin": False}, {"admin": True}),
                       ("user:dave", {"admin": True}, {"admin": False})]


def test_a_group_is_made_admin_and_back(admin: Client, base: str, proxy: IppProxy) -> None:
    add_user(proxy, "Erin", "erin-password-1", "helpdesk")
    erin = login(base, "erin", "erin-password-1")
    problem(erin.get("/api/v1/accounts"), 403)
    r = put(admin, "/api/v1/groups/HelpDesk/admin", {"admin": True})
    assert r.status_code == 200, r.text
    assert set(r.json()["rights"].values()) == {"write"}
    assert erin.get("/api/v1/accounts").status_code == 200
    assert erin.get("/api/v1/session").json()["rights"]["printers"] == "write"
    r = put(admin, "/api/v1/groups/helpdesk/admin", {"admin": False})
    assert set(r.json()["rights"].values()) == {"none"}
    problem(erin.get("/api/v1/accounts"), 403)
    # a group's admin right does not let its members grant admin rights
    put(admin, "/api/v1/groups/helpdesk/rights", {"rights": {"users": "write"}})
    problem(put(erin, "/api/v1/groups/helpdesk/admin", {"admin": True}), 403)
    problem(put(erin, "/api/v1/users/erin/admin", {"admin": True}), 403)
    assert [e["target"] for e in audit(proxy, "group.rights")][-3:] == ["group:helpdesk"] * 3


def test_a_user_changes_their_own_password(base: str, proxy: IppProxy,
                                           write_token: str) -> None:
    add_user(proxy, "Fay", "fay-password-1")
    fay = login(base, "fay", "fay-password-1")
    other = login(base, "fay", "fay-password-1")            # a second session of hers
    body = {"current_password": "wrong-password", "new_password": "fay-password-2"}
    wrong = problem(fay.post("/api/v1/session/password", json=body), 422)
    assert "current_password" in json.dumps(wrong)
    short = problem(fay.post("/api/v1/session/password", json={
        "current_password": "fay-password-1", "new_password": "short"}), 422)
    assert "new_password" in json.dumps(short)
    token = Client(base, token=write_token)
    problem(token.post("/api/v1/session/password", json={
        "current_password": "x", "new_password": "token-password-1"}), 403)
    bare = Client(base, cookie=fay.cookie)                     # no CSRF token
    problem(bare.post("/api/v1/session/password", json={
        "current_password": "fay-password-1", "new_password": "fay-password-2"}), 403)

    r = fay.post("/api/v1/session/password", json={
        "current_password": "fay-password-1", "new_password": "fay-password-2"})
    assert r.status_code == 204, r.text
    problem(fay.get("/api/v1/session"), 401)                  # every session ended
    problem(other.get("/api/v1/session"), 401)
    old = requests.post(base + "/api/v1/session", json={"username": "fay",
                        "password": "fay-password-1"}, timeout=30, verify=trust(base))
    assert old.status_code == 401
    assert login(base, "fay", "fay-password-2").get("/api/v1/session").status_code == 200
    assert [e["target"] for e in audit(proxy, "user.set-password")] == ["user:fay"]


def test_the_master_changes_its_password(base: str, proxy: IppProxy) -> None:
    first = first_password(proxy)
    master = login(base, "admin", first)
    r = master.post("/api/v1/session/password", json={
        "current_password": first, "new_password": "the new master password"})
    assert r.status_code == 204, r.text
    problem(master.get("/api/v1/session"), 401)
    old = requests.post(base + "/api/v1/session", json={"username": "admin",
                        "password": first}, timeout=30, verify=trust(base))
    assert old.status_code == 401
    again = login(base, "admin", "the new master password")
    assert again.get("/api/v1/session").json()["superuser"] is True
    assert audit(proxy, "admin.set-password")[-1]["actor"] == "admin"
    assert tracebacks(proxy.log()) == []
