"""Fixtures of the web tests: a real ``ippproxy serve`` with accounting on, on SQLite and on
a throwaway PostgreSQL (one server per module and database), and an admin logged in (the
REST API's tests); the admin pages' server with an admin logged in through the login
page's form, a PDF, and printing to it with CUPS's ``ipptool``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from support.postgres import PostgresCluster, postgres_cluster  # noqa: F401
from support.server import IppProxy
from support.webapi import Client, first_password, form_login, login, register, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def proxy(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    database = None
    cluster: PostgresCluster | None = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        database = cluster.create_database()
    p = start_server(tmp_path_factory.mktemp("web"), database)
    try:
        yield p
    finally:
        p.stop()
        if cluster is not None and database is not None:
            cluster.drop_database(database)


@pytest.fixture(scope="module")
def base(proxy: IppProxy) -> str:
    return proxy.https


@pytest.fixture(scope="module")
def admin(proxy: IppProxy, base: str) -> Client:
    return login(base, "admin", first_password(proxy))


@pytest.fixture(scope="module")
def write_token(admin: Client) -> str:
    r = admin.post("/api/v1/tokens", json={"name": "suite", "access": "write",
                                           "sections": ["users", "finance", "printers",
                                                        "options", "audit"]})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])

PRINT_TEST = """{
  NAME "Print-Job"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $jobuser
  ATTR name job-name $jobname
  %s
  FILE $filename
  STATUS successful-ok
  STATUS successful-ok-ignored-or-substituted-attributes
  EXPECT job-id OF-TYPE integer
}
"""


def pages_server(directory: Path, *, queues: list[dict[str, object]] | None = None,
                 server: dict[str, object] | None = None) -> IppProxy:
    """The product's ``ippproxy serve`` (not started yet); ``page_admin`` logs in to it."""
    return IppProxy(directory, queues=queues or [{"name": "office", "destination": "builtin",
                                                  "info": "Office printer",
                                                  "location": "2nd floor"}],
                    server=server,  # type: ignore[arg-type]
                    forwarding={"poll_interval": 0.2})


def page_admin(server: IppProxy) -> Client:
    """The master admin of a started server, logged in through the login page's form with
    the password the server printed at its first start."""
    register(server)
    return form_login(server.https, "admin", first_password(server))


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "two-pages.pdf"
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    doc.add_blank_page(page_size=(595, 842))
    doc.save(path)
    return path


def ipp_print(server: IppProxy, document: Path, *, user: str = "alice", queue: str = "office",
              hold: bool = False, name: str = "report") -> str:
    """Print-Job with ipptool (a real IPP client); returns its output."""
    test = document.parent / ("hold.test" if hold else "print.test")
    test.write_text(PRINT_TEST % ("ATTR keyword job-hold-until indefinite" if hold else ""))
    done = subprocess.run(
        ["ipptool", "-T", "20", "-tv", "-f", str(document), "-d", f"jobuser={user}",
         "-d", f"jobname={name}", server.uri(queue), str(test)],
        check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    srv = pages_server(tmp_path_factory.mktemp("admin"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def served_admin(served: IppProxy) -> Client:
    return page_admin(served)
