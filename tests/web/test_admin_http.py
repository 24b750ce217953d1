"""The admin pages over HTTPS against the real server, logged in through the login page:
deny by default (a browser is sent to the login page, a script gets 401), CSRF, rights,
cancel, release, pause and resume (seen by IPP clients), the static files and the
vendored htmx."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from pathlib import Path

import pytest
from support.server import IppProxy
from support.webapi import Client, first_password, register

from .conftest import ipp_print

STATIC = Path(__file__).resolve().parents[2] / "ippproxy" / "web" / "static"
GET_PAGES = ("/admin", "/admin/", "/admin/jobs", "/admin/jobs?which=history",
             "/admin/printers", "/admin/fragments/summary", "/admin/fragments/charts",
             "/admin/charts", "/admin/events")


def call(client: Client, path: str, *, form: dict[str, str] | None = None,
         accept: str = "*/*") -> tuple[int, str]:
    """GET ``path``, or POST ``form`` with the client's cookie (and no CSRF header: a form
    carries its token in the ``csrf_token`` field, as the pages' forms do)."""
    plain = Client(client.base, cookie=client.cookie, token=client.token)
    if form is None:
        r = plain.get(path, headers={"Accept": accept}, stream=True)
    else:
        r = plain.post(path, data=form, headers={"Accept": accept}, stream=True)
    body = "" if "event-stream" in r.headers.get("Content-Type", "") else r.text
    r.close()
    return r.status_code, body


@pytest.fixture(scope="module")
def reader(served_admin: Client) -> Client:
    """An API token that may read the printers' section, nothing else."""
    r = served_admin.post("/api/v1/tokens", json={"name": "reader", "access": "read",
                                                  "sections": ["printers"]})
    assert r.status_code == 201, r.text
    return Client(served_admin.base, token=r.json()["token"])


def printer_state(server: IppProxy, queue: str = "office") -> str:
    out = subprocess.run(["ipptool", "-T", "10", "-tv", server.uri(queue),
                          "/usr/share/cups/ipptool/get-printer-attributes.test"],
                         check=False, capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"printer-state \(enum\) = (\S+)", out)
    assert found, out
    return found.group(1)


def held_job(server: IppProxy, admin: Client, pdf: Path, name: str) -> str:
    ipp_print(server, pdf, user="carol", hold=True, name=name)
    _, body = call(admin, "/admin/jobs?which=held")
    uuids = re.findall(r'id="job-([0-9a-f-]{36})"[^<]*<td>\d+</td><td>office</td><td>carol'
                       rf'</td><td>{name}</td>', body.replace("\n", ""))
    assert len(uuids) == 1, body
    return uuids[0]


def test_without_a_session_no_page_no_stream_no_change(served: IppProxy,
                                                       served_admin: Client) -> None:
    """A browser is sent to the login page (and back after it); a script gets 401."""
    nobody = Client(served_admin.base)
    for path in GET_PAGES:
        status, body = call(nobody, path)
        assert status == 401 and '"status":401' in body.replace(" ", ""), path
        r = nobody.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 303, path
        assert r.headers["Location"].startswith("/admin/login?next=%2Fadmin"), r.headers
    status, _ = call(nobody, "/admin/printers/office/pause", form={"csrf_token": "x"})
    assert status == 401
    assert printer_state(served) != "stopped"
    assert call(nobody, "/admin/static/admin.css")[0] == 200   # public by name
    status, body = call(nobody, "/admin/login", accept="text/html")
    assert status == 200 and 'for="username"' in body and 'for="password"' in body


def test_a_failed_login_stays_on_the_page(served: IppProxy, served_admin: Client) -> None:
    nobody = Client(served_admin.base)
    status, body = call(nobody, "/admin/login", accept="text/html",
                        form={"username": "admin", "password": "not it", "next": "/admin/jobs"})
    assert status == 401 and "Wrong name or password." in body
    assert 'value="admin"' in body and "not it" not in body
    assert 'name="next" value="/admin/jobs"' in body
    # After a good login the browser goes where it was going, never to another site.
    for target, expected in (("/admin/jobs", "/admin/jobs"), ("https://evil.example/", "/admin"),
                             ("//evil.example/admin", "/admin")):
        r = nobody.post("/admin/login", headers={"Accept": "text/html"},
                        data={"username": "admin", "password": first_password(served),
                              "next": target})
        assert r.status_code == 303 and r.headers["Location"] == expected, target


def test_a_reader_cannot_change(served: IppProxy, served_admin: Client, reader: Client,
                                pdf: Path) -> None:
    status, body = call(reader, "/admin/charts")
    assert status == 200 and "Colour share" in body
    assert "Top users" not in body          # the reader has no right on users
    uuid = held_job(served, served_admin, pdf, "reader-try")
    status, body = call(reader, f"/admin/jobs/{uuid}/cancel", form={})
    assert status == 403 and "write access" in body
    assert call(reader, "/admin/printers/new")[0] == 403
    assert call(reader, "/admin/printers/office/pause", form={})[0] == 403
    assert "reader-try" in call(served_admin, "/admin/jobs?which=held")[1]


def test_forms_without_the_csrf_token_change_nothing(served: IppProxy,
                                                     served_admin: Client) -> None:
    assert served_admin.csrf
    for form in ({}, {"csrf_token": "wrong"}, {"csrf_token": served_admin.csrf[:-1]}):
        status, body = call(served_admin, "/admin/printers/office/pause", form=form)
        assert status == 403 and "CSRF" in body
    assert printer_state(served) != "stopped"


def test_pause_and_resume_are_seen_by_ipp_clients(served: IppProxy, served_admin: Client,
                                                  pdf: Path) -> None:
    csrf = served_admin.csrf or ""
    status, _ = call(served_admin, "/admin/printers/office/pause", form={"csrf_token": csrf})
    assert status == 303
    assert printer_state(served) == "stopped"
    ipp_print(served, pdf, user="erin", name="while-paused")
    time.sleep(1.0)        # five forwarder polls: a paused queue's job must stay pending
    assert "while-paused" in call(served_admin, "/admin/jobs?which=active")[1]
    assert call(served_admin, "/admin/printers")[1].count("Resume office") == 1
    status, _ = call(served_admin, "/admin/printers/office/resume", form={"csrf_token": csrf})
    assert status == 303
    assert printer_state(served) != "stopped"
    deadline = time.monotonic() + 15
    while "while-paused" in call(served_admin, "/admin/jobs?which=active")[1]:
        assert time.monotonic() < deadline, "the job did not print after resume"
        time.sleep(0.2)
    assert "while-paused" in call(served_admin, "/admin/jobs?which=history")[1]
    assert call(served_admin, "/admin/printers/nosuch/pause",
                form={"csrf_token": csrf})[0] == 404


def test_cancel_and_release_from_the_job_list(served: IppProxy, served_admin: Client,
                                              pdf: Path) -> None:
    csrf = served_admin.csrf or ""
    cancel = held_job(served, served_admin, pdf, "to-cancel")
    release = held_job(served, served_admin, pdf, "to-release")
    status, _ = call(served_admin, f"/admin/jobs/{cancel}/cancel",
                     form={"csrf_token": csrf, "back": "https://evil.example/"})
    assert status == 303
    status, _ = call(served_admin, f"/admin/jobs/{release}/release", form={"csrf_token": csrf})
    assert status == 303
    deadline = time.monotonic() + 15
    while True:
        history = call(served_admin, "/admin/jobs?which=history")[1].replace("\n", "")
        if "to-release" in history:
            break
        assert time.monotonic() < deadline, history
        time.sleep(0.2)
    assert re.search(r"to-cancel</td>\s*<td>canceled", history)
    assert re.search(r"to-release</td>\s*<td>completed", history)
    # Twice is a conflict, not an error; an unknown job is 404.
    assert call(served_admin, f"/admin/jobs/{cancel}/cancel", form={"csrf_token": csrf}
                )[0] == 409
    assert call(served_admin, "/admin/jobs/00000000-0000-0000-0000-000000000000/release",
                form={"csrf_token": csrf})[0] == 404


@pytest.mark.parametrize("query, field", [("which=everything", "which"),
                                          ("which=history&after=yesterday", "after"),
                                          ("which=history&after=" + "x" * 5000, "after")])
def test_bad_list_requests_are_422_naming_the_field(served_admin: Client, query: str,
                                                    field: str) -> None:
    status, body = call(served_admin, f"/admin/jobs?{query}")
    assert status == 422 and field in body


def test_static_files_are_only_the_listed_ones(served_admin: Client) -> None:
    for name in ("htmx.min.js", "htmx.LICENSE", "admin.js", "admin.css"):
        assert call(served_admin, f"/admin/static/{name}")[0] == 200
    for name in ("htmx.VERSION", "..%2f..%2fapp.py", "%2e%2e/templates/base.html",
                 "ADMIN.CSS", "nosuch.js"):
        assert call(served_admin, f"/admin/static/{name}")[0] == 404, name


def test_vendored_htmx_is_the_recorded_release() -> None:
    recorded = dict(line.split(" = ", 1) for line in
                    (STATIC / "htmx.VERSION").read_text().splitlines()
                    if " = " in line and not line.startswith("#"))
    assert recorded["package"] == "htmx.org"
    digest = hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    assert digest == recorded["sha256"]
    assert f"version:\"{recorded['version']}\"" in (STATIC / "htmx.min.js").read_text() \
        or recorded["version"] in (STATIC / "htmx.min.js").read_text()
    assert "Zero-Clause BSD" in (STATIC / "htmx.LICENSE").read_text()


def test_printers_show_the_destinations_state_and_supplies(served: IppProxy,
                                                          served_admin: Client) -> None:
    """What the page shows is what the destination itself answers (RFC 8011 printer-state,
    PWG 5100.13 marker-names and marker-levels), read here with ipptool."""
    dest = f"ipp://127.0.0.1:{served.virtual_printer_port}/ipp/print"
    out = subprocess.run(["ipptool", "-T", "10", "-tv", dest,
                          "/usr/share/cups/ipptool/get-printer-attributes.test"],
                         check=False, capture_output=True, text=True, timeout=30).stdout
    names = re.search(r"marker-names \(1?s?e?t?O?f? ?nameWithoutLanguage\) = (.+)", out)
    levels = re.search(r"marker-levels \((?:1setOf )?integer\) = (.+)", out)
    assert names and levels, out
    page = call(served_admin, "/admin/printers")[1]
    for name, level in zip(names.group(1).split(","), levels.group(1).split(","),
                           strict=True):
        assert f'<span class="mname">{name.strip()}</span>' in page
        assert f'aria-label="{name.strip()} level"' in page
        assert f'value="{level.strip()}"' in page
    assert dest in page


def test_add_edit_and_delete_a_queue(served: IppProxy, served_admin: Client,
                                     pdf: Path) -> None:
    csrf = served_admin.csrf or ""
    dest = f"ipp://127.0.0.1:{served.virtual_printer_port}/ipp/print"
    # The capabilities first: what the destination itself says.
    status, body = call(served_admin, f"/admin/printers/new?destination={dest}")
    assert status == 200 and 'id="caps-model"' in body and "application/pdf" in body
    status, body = call(served_admin, "/admin/printers/new?destination=ftp://x/y")
    assert status == 422 and "destination" in body and 'id="caps"' not in body
    dead = "ipp://127.0.0.1:9/ipp/print"
    status, body = call(served_admin, f"/admin/printers/new?destination={dead}")
    assert status == 200 and "cannot be reached" in body
    # Bad fields come back on the form naming the field; a duplicate is a conflict.
    form = {"csrf_token": csrf, "name": "../etc", "destination": dest}
    status, body = call(served_admin, "/admin/printers/new", form=form)
    assert status == 422 and 'aria-invalid="true"' in body and "name" in body
    form["name"] = "office"
    assert call(served_admin, "/admin/printers/new", form=form)[0] == 409
    form.update(name="annex", info="Annex printer")
    status, _ = call(served_admin, "/admin/printers/new", form=form)
    assert status == 303
    listed = call(served_admin, "/admin/printers")[1]
    assert 'id="p-annex"' in listed and "Annex printer" in listed
    out = ipp_print(served, pdf, user="frank", queue="annex", hold=True, name="annex-job")
    assert "job-id" in out              # the queue takes jobs at once
    # Provisioned queues are read-only here; annex is not.
    assert call(served_admin, "/admin/printers/office/edit")[0] == 409
    status, body = call(served_admin, "/admin/printers/annex/edit")
    assert status == 200 and 'value="Annex printer"' in body
    status, _ = call(served_admin, "/admin/printers/annex/edit",
                     form={"csrf_token": csrf, "destination": dest, "info": "Annex, 1st floor"})
    assert status == 303
    assert "Annex, 1st floor" in call(served_admin, "/admin/printers")[1]
    # Delete asks first, says what it cancels, then cancels the held job.
    status, body = call(served_admin, "/admin/printers/annex/delete")
    assert status == 200 and "<strong>1</strong>" in body and "will be canceled" in body
    status, _ = call(served_admin, "/admin/printers/annex/delete", form={"csrf_token": csrf})
    assert status == 303
    assert 'id="p-annex"' not in call(served_admin, "/admin/printers")[1]
    history = call(served_admin, "/admin/jobs?which=history&queue=annex")[1].replace("\n", "")
    assert re.search(r"annex-job</td>\s*<td>canceled", history), history
    assert call(served_admin, "/admin/printers/annex/edit")[0] == 404


def test_purge_cancels_the_queues_unfinished_jobs(served: IppProxy, served_admin: Client,
                                                  pdf: Path) -> None:
    uuid = held_job(served, served_admin, pdf, "to-purge")
    status, _ = call(served_admin, "/admin/printers/office/purge",
                     form={"csrf_token": served_admin.csrf or ""})
    assert status == 303
    history = call(served_admin, "/admin/jobs?which=history")[1].replace("\n", "")
    assert re.search(r"to-purge</td>\s*<td>canceled", history), history
    assert uuid not in call(served_admin, "/admin/jobs?which=held")[1]


def test_the_login_page_says_when_logins_are_throttled(tmp_path: Path) -> None:
    srv = register(IppProxy(tmp_path, queues=[{"name": "q", "destination": "builtin"}]).start())
    try:
        nobody = Client(srv.https)
        for _ in range(5):
            status, body = call(nobody, "/admin/login", accept="text/html",
                                form={"username": "admin", "password": "wrong guess"})
            assert status == 401 and "Wrong name or password." in body
        r = nobody.post("/admin/login", headers={"Accept": "text/html"},
                        data={"username": "admin", "password": first_password(srv)})
        assert r.status_code == 429 and "Set-Cookie" not in r.headers
        assert "Too many failed logins. Try again in 1 minute." in r.text
        assert 55 <= int(r.headers["Retry-After"]) <= 60
    finally:
        srv.stop()


def test_the_queue_form_marks_the_default_and_dns_sd(served: IppProxy,
                                                      served_admin: Client) -> None:
    csrf = served_admin.csrf or ""
    dest = f"ipp://127.0.0.1:{served.virtual_printer_port}/ipp/print"
    body = call(served_admin, "/admin/printers/new")[1]
    assert re.search(r'name="dnssd" checked', body)            # announced unless unticked
    assert not re.search(r'name="default" checked', body)
    form = {"csrf_token": csrf, "name": "mainq", "destination": dest, "default": "on"}
    assert call(served_admin, "/admin/printers/new", form=form)[0] == 303
    q = served_admin.get("/api/v1/queues/mainq").json()
    assert (q["default"], q["dnssd"]) == (True, False)          # the box was not sent
    assert re.search(r'name="default" checked',
                     call(served_admin, "/admin/printers/mainq/edit")[1])
    form = {"csrf_token": csrf, "destination": dest, "dnssd": "on"}
    assert call(served_admin, "/admin/printers/mainq/edit", form=form)[0] == 303
    q = served_admin.get("/api/v1/queues/mainq").json()
    assert (q["default"], q["dnssd"]) == (False, True)
    assert call(served_admin, "/admin/printers/mainq/delete",
                form={"csrf_token": csrf})[0] == 303
