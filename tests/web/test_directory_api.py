"""The user source sync over the REST API and ``ippproxy cmd sync-users``, on a real
``ippproxy serve`` reading a throwaway slapd: the settings without the password, a paged
preview, apply (a second one writes nothing), the bulk delete only when asked, audited;
a directory that is down or silent fails with a clear reason and changes nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ldap_server import add_person, ldap_table, remove_person, seeded_slapd
from support.server import IppProxy, free_port, ippproxy_command, tracebacks
from support.slapd import ROOT_PW, Slapd
from support.webapi import ACCOUNTING, Client, first_password, login, register


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    d = seeded_slapd(tmp_path_factory.mktemp("slapd"))
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, directory: Slapd) -> Iterator[IppProxy]:
    proxy = IppProxy(tmp_path_factory.mktemp("dirapi"), queues=[{"name": "office"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + ACCOUNTING
                                 + ldap_table(directory))
    proxy.start()
    register(proxy)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def admin(server: IppProxy) -> Client:
    return login(server.https, "admin", first_password(server))


def sync_users(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``ippproxy cmd --config FILE sync-users ...``."""
    return subprocess.run([*ippproxy_command(), "cmd", "--config", str(config), "sync-users",
                           *args], check=False, capture_output=True, text=True, timeout=120)


def _cmd_json(server: IppProxy, *args: str) -> dict[str, object]:
    done = sync_users(server.config_path, *args, "--json")
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_preview_apply_and_bulk_delete(server: IppProxy, admin: Client,
                                       directory: Slapd) -> None:
    r = admin.get("/api/v1/directory")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"]["url"] == directory.url and body["last_sync"] is None
    assert body["source"]["overwrite"] == ["card-number", "email", "full-name", "id-number"]
    assert ROOT_PW not in r.text                          # the bind password is never shown
    first = admin.get("/api/v1/directory/preview", params={"limit": 3})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["totals"] == {"adds": 4, "changes": 0, "deletes": 0, "new_groups": 1}
    assert [u["name"] for u in page["adds"]] == ["alice", "bob", "carol"]
    second = admin.get("/api/v1/directory/preview", params={"limit": 3, "offset": 3}).json()
    assert [u["name"] for u in second["adds"]] == ["dave"]
    assert admin.get("/api/v1/users/alice").status_code == 404  # a preview writes nothing

    done = admin.post("/api/v1/directory/apply", json={})
    assert done.status_code == 200, done.text
    assert done.json()["applied"] and done.json()["counts"]["adds"] == 4
    assert admin.get("/api/v1/users/alice").json()["groups"] == ["staff"]
    again = admin.post("/api/v1/directory/apply", json={}).json()
    assert again["applied"] is False                      # nothing changed: nothing written
    status = admin.get("/api/v1/directory").json()["last_sync"]
    assert status["kind"] == "apply" and status["error"] == ""

    remove_person(directory, "carol")
    assert admin.get("/api/v1/directory/preview").json()["deletes"] == ["carol"]
    kept = admin.post("/api/v1/directory/apply", json={}).json()
    assert kept["deleted"] == 0 and admin.get("/api/v1/users/carol").status_code == 200
    gone = admin.post("/api/v1/directory/apply", json={"delete_missing": True}).json()
    assert gone["deleted"] == 1 and admin.get("/api/v1/users/carol").status_code == 404

    audit = admin.get("/api/v1/audit", params={"action": "users.sync"}).json()["items"]
    assert [e["after"]["deleted"] for e in audit][:1] == [1] and len(audit) == 2
    assert all(e["actor"] == "admin" for e in audit)
    server.restart()                           # the status is the audit log's: it stays
    status = admin.get("/api/v1/directory").json()["last_sync"]
    assert (status["kind"], status["counts"]["deleted"], status["error"]) == ("apply", 1, "")
    bad = admin.post("/api/v1/directory/apply", json={"delete_missing": "maybe"})
    assert bad.status_code == 422
    anonymous = Client(server.https).post("/api/v1/directory/apply", json={})
    assert anonymous.status_code == 401


def test_cmd_sync_users(server: IppProxy, admin: Client, directory: Slapd) -> None:
    add_person(directory, "erin", "Erin Eve", "erin-pw")
    preview = _cmd_json(server, "--preview")
    assert preview["adds"] == ["erin"]
    assert admin.get("/api/v1/users/erin").status_code == 404
    applied = _cmd_json(server)
    assert applied["applied"] is True and admin.get("/api/v1/users/erin").status_code == 200
    text = sync_users(server.config_path, "--preview")
    assert text.returncode == 0 and "adds: 0" in text.stdout, text.stdout


def test_scheduled_syncs_show_their_status(directory: Slapd, tmp_path: Path) -> None:
    """A server syncing every 0.5 s: users appear without anyone asking, the status says
    "scheduled", and nobody gone from the directory is deleted by a scheduled sync."""
    proxy = IppProxy(tmp_path / "scheduled", queues=[{"name": "office"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + ACCOUNTING
                                 + ldap_table(directory, sync_interval=0.5))
    with proxy:
        register(proxy)
        admin = login(proxy.https, "admin", first_password(proxy))
        deadline = time.monotonic() + 60
        while (status := admin.get("/api/v1/directory").json()["last_sync"]) is None \
                or admin.get("/api/v1/users/alice").status_code != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["kind"] == "scheduled" and status["error"] == ""
        add_person(directory, "frank", "Frank Field")
        remove_person(directory, "bob")
        while admin.get("/api/v1/users/frank").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert admin.get("/api/v1/users/bob").status_code == 200   # kept: no bulk delete
        assert tracebacks(proxy.log()) == []


def test_directory_down_or_silent_changes_nothing(server: IppProxy, admin: Client,
                                                  directory: Slapd, tmp_path: Path) -> None:
    # A directory that accepts connections and never answers: the timeout, a reason.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", free_port()))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = tmp_path / "silent.toml"
        text = server.config_path.read_text().split("\n[ldap]")[0]
        config.write_text(text + ldap_table(directory, url=f"ldap://127.0.0.1:{port}",
                                            timeout=1.0))
        slow = sync_users(config, "--delete-missing")
    assert slow.returncode == 2 and "nothing was changed" in slow.stderr, slow.stderr
    assert "Traceback" not in slow.stderr

    users_before = admin.get("/api/v1/users", params={"limit": 100}).json()["total"]
    directory.stop()
    r = admin.post("/api/v1/directory/apply", json={"delete_missing": True})
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "unreachable" in r.json()["detail"] and "nothing was changed" in r.json()["detail"]
    assert admin.get("/api/v1/users", params={"limit": 100}).json()["total"] == users_before
    status = admin.get("/api/v1/directory").json()["last_sync"]
    assert "unreachable" in status["error"]
    failed = admin.get("/api/v1/audit", params={"action": "users.sync-failed"}).json()
    assert "unreachable" in failed["items"][0]["after"]["reason"]
    down = sync_users(server.config_path)
    assert down.returncode == 2 and "unreachable" in down.stderr
    assert tracebacks(server.log()) == []
