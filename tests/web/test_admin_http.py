"""The admin pages over HTTP against the real server: deny by default, CSRF, rights,
cancel, release, pause and resume (seen by IPP clients), the static files and the
vendored htmx."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support.admin_server import TEST_CSRF
from support.server import IppProxy

from .conftest import ipp_print

STATIC = Path(__file__).resolve().parents[2] / "ippproxy" / "web" / "static"
GET_PAGES = ("/admin", "/admin/", "/admin/jobs", "/admin/jobs?which=history",
             "/admin/printers", "/admin/fragments/summary", "/admin/fragments/charts",
             "/admin/charts", "/admin/events")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kw: object) -> None:
        return None


def call(server: IppProxy, path: str, *, form: dict[str, str] | None = None,
         actor: str | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(f"http://{server.authority}{path}", data=data)
    if actor:
        req.add_header("Cookie", f"test-actor={actor}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read(65536).decode(errors="replace") \
                if "event-stream" not in r.headers.get("Content-Type", "") else ""
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def printer_state(server: IppProxy, queue: str = "office") -> str:
    out = subprocess.run(["ipptool", "-T", "10", "-tv", server.uri(queue),
                          "/usr/share/cups/ipptool/get-printer-attributes.test"],
                         check=False, capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"printer-state \(enum\) = (\S+)", out)
    assert found, out
    return found.group(1)


def held_job(server: IppProxy, pdf: Path, name: str) -> str:
    ipp_print(server, pdf, user="carol", hold=True, name=name)
    _, body = call(server, "/admin/jobs?which=held")
    uuids = re.findall(r'id="job-([0-9a-f-]{36})"[^<]*<td>\d+</td><td>office</td><td>carol'
                       rf'</td><td>{name}</td>', body.replace("\n", ""))
    assert len(uuids) == 1, body
    return uuids[0]


def test_the_product_server_denies_every_admin_page(tmp_path: Path) -> None:
    """Plain ``ippproxy serve`` (no login yet): no page, no event stream, no change."""
    srv = IppProxy(tmp_path, queues=[{"name": "office", "destination": "builtin"}]).start()
    try:
        for path in GET_PAGES:
            status, body = call(srv, path)
            assert status == 401, path
            assert "Sign in" in body
        status, _ = call(srv, "/admin/printers/office/pause", form={"csrf_token": "x"})
        assert status == 401
        assert printer_state(srv) != "stopped"
        assert call(srv, "/admin/static/admin.css")[0] == 200   # public by name
    finally:
        srv.stop()


def test_anonymous_gets_401_and_a_reader_cannot_change(served: IppProxy, pdf: Path) -> None:
    assert call(served, "/admin/jobs", actor="anonymous")[0] == 401
    status, body = call(served, "/admin/charts", actor="reader")
    assert status == 200 and "Colour share" in body
    assert "Top users" not in body          # the reader has no right on users
    uuid = held_job(served, pdf, "reader-try")
    status, body = call(served, f"/admin/jobs/{uuid}/cancel",
                        form={"csrf_token": TEST_CSRF}, actor="reader")
    assert status == 403 and "write access" in body
    assert "reader-try" in call(served, "/admin/jobs?which=held")[1]


def test_forms_without_the_csrf_token_change_nothing(served: IppProxy) -> None:
    for form in ({}, {"csrf_token": "wrong"}, {"csrf_token": TEST_CSRF[:-1]}):
        status, body = call(served, "/admin/printers/office/pause", form=form)
        assert status == 403 and "CSRF" in body
    assert printer_state(served) != "stopped"


def test_pause_and_resume_are_seen_by_ipp_clients(served: IppProxy, pdf: Path) -> None:
    status, _ = call(served, "/admin/printers/office/pause", form={"csrf_token": TEST_CSRF})
    assert status == 303
    assert printer_state(served) == "stopped"
    ipp_print(served, pdf, user="erin", name="while-paused")
    time.sleep(1.0)        # five forwarder polls: a paused queue's job must stay pending
    assert "while-paused" in call(served, "/admin/jobs?which=active")[1]
    assert call(served, "/admin/printers")[1].count("Resume office") == 1
    status, _ = call(served, "/admin/printers/office/resume", form={"csrf_token": TEST_CSRF})
    assert status == 303
    assert printer_state(served) != "stopped"
    deadline = time.monotonic() + 15
    while "while-paused" in call(served, "/admin/jobs?which=active")[1]:
        assert time.monotonic() < deadline, "the job did not print after resume"
        time.sleep(0.2)
    assert "while-paused" in call(served, "/admin/jobs?which=history")[1]
    assert call(served, "/admin/printers/nosuch/pause",
                form={"csrf_token": TEST_CSRF})[0] == 404


def test_cancel_and_release_from_the_job_list(served: IppProxy, pdf: Path) -> None:
    cancel = held_job(served, pdf, "to-cancel")
    release = held_job(served, pdf, "to-release")
    status, _ = call(served, f"/admin/jobs/{cancel}/cancel",
                     form={"csrf_token": TEST_CSRF, "back": "https://evil.example/"})
    assert status == 303
    status, _ = call(served, f"/admin/jobs/{release}/release", form={"csrf_token": TEST_CSRF})
    assert status == 303
    deadline = time.monotonic() + 15
    while True:
        history = call(served, "/admin/jobs?which=history")[1].replace("\n", "")
        if "to-release" in history:
            break
        assert time.monotonic() < deadline, history
        time.sleep(0.2)
    assert re.search(r"to-cancel</td>\s*<td>canceled", history)
    assert re.search(r"to-release</td>\s*<td>completed", history)
    # Twice is a conflict, not an error; an unknown job is 404.
    assert call(served, f"/admin/jobs/{cancel}/cancel", form={"csrf_token": TEST_CSRF}
                )[0] == 409
    assert call(served, "/admin/jobs/00000000-0000-0000-0000-000000000000/release",
                form={"csrf_token": TEST_CSRF})[0] == 404


@pytest.mark.parametrize("query, field", [("which=everything", "which"),
                                          ("which=history&after=yesterday", "after"),
                                          ("which=history&after=" + "x" * 5000, "after")])
def test_bad_list_requests_are_422_naming_the_field(served: IppProxy, query: str,
                                                    field: str) -> None:
    status, body = call(served, f"/admin/jobs?{query}")
    assert status == 422 and field in body


def test_static_files_are_only_the_listed_ones(served: IppProxy) -> None:
    for name in ("htmx.min.js", "htmx.LICENSE", "admin.js", "admin.css"):
        assert call(served, f"/admin/static/{name}")[0] == 200
    for name in ("htmx.VERSION", "..%2f..%2fapp.py", "%2e%2e/templates/base.html",
                 "ADMIN.CSS", "nosuch.js"):
        assert call(served, f"/admin/static/{name}")[0] == 404, name


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


def test_printers_show_the_destinations_state_and_supplies(served: IppProxy) -> None:
    """What the page shows is what the destination itself answers (RFC 8011 printer-state,
    PWG 5100.13 marker-names and marker-levels), read here with ipptool."""
    dest = f"ipp://127.0.0.1:{served.virtual_printer_port}/ipp/print"
    out = subprocess.run(["ipptool", "-T", "10", "-tv", dest,
                          "/usr/share/cups/ipptool/get-printer-attributes.test"],
                         check=False, capture_output=True, text=True, timeout=30).stdout
    names = re.search(r"marker-names \(1?s?e?t?O?f? ?nameWithoutLanguage\) = (.+)", out)
    levels = re.search(r"marker-levels \((?:1setOf )?integer\) = (.+)", out)
    assert names and levels, out
    page = call(served, "/admin/printers")[1]
    for name, level in zip(names.group(1).split(","), levels.group(1).split(","),
                           strict=True):
        assert f'<span class="mname">{name.strip()}</span>' in page
        assert f'aria-label="{name.strip()} level"' in page
        assert f'value="{level.strip()}"' in page
    assert dest in page
