"""Every rule type as configured (issue 14 point 7): a TOML file with ``[[rule]]`` tables,
the real ``ippproxy serve`` (subprocess), a Print-Job over a real socket, and the decision
the client sees: the IPP status and status-message of a denial, or what a forcing rule
changed on the job (Get-Job-Attributes). ``duplicate-jobs`` runs against the server's own
database-backed recent-jobs lookup, on SQLite and on PostgreSQL.

Each rule is scoped to a queue of its own (``printers``), so that one server holds them all;
every queue prints to the built-in virtual printer at 0.10 per monochrome and 0.50 per
colour impression.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from support.postgres import pg_url, postgres_cluster  # noqa: F401
from support.server import IppProxy, ippproxy_command, tracebacks

from ippproxy.ipp import Attribute, Message, Operation, Status, Tag

from .ipp_client import build, job_dicts, send, status_message, status_name

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
QUEUES = ("pages", "copies", "cost", "spool", "paper", "formats", "users", "dup", "gray",
          "duplex")

RULES = """
[forwarding]
poll_interval = 0.1
[accounting]
enabled = true
initial_balance = "100.00"
[[group]]
name = "staff"
[[cost_model]]
name = "laser"
mono = "0.10"
color = "0.50"
[[rule]]
type = "max-pages"
limit = 2
printers = ["pages"]
[[rule]]
type = "max-copies"
limit = 2
printers = ["copies"]
[[rule]]
type = "max-cost"
amount = "0.30"
printers = ["cost"]
[[rule]]
type = "max-spool-size"
limit = 20000
printers = ["spool"]
[[rule]]
type = "paper-sizes"
values = ["iso_a4_210x297mm"]
printers = ["paper"]
[[rule]]
type = "allowed-formats"
values = ["application/pdf"]
printers = ["formats"]
[[rule]]
type = "allowed-users"
values = ["alice"]
allowed_groups = ["staff"]
printers = ["users"]
[[rule]]
type = "duplicate-jobs"
window_minutes = 10
printers = ["dup"]
[[rule]]
type = "force-grayscale"
printers = ["gray"]
[[rule]]
type = "force-duplex"
min_pages = 2
printers = ["duplex"]
"""


def pdf(colours: list[bool], tag: str, size: tuple[float, float] = A4,
        padding: int = 0) -> bytes:
    """Black text on each page, a red square on the colour pages; ``padding`` bytes of
    an unused stream make the file bigger without more pages."""
    doc = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    for i, colour in enumerate(colours):
        ops = b"0 g BT /F1 18 Tf 72 700 Td (%s page %d) Tj ET" % (tag.encode(), i + 1)
        if colour:
            ops += b"\n1 0 0 rg 72 500 100 100 re f"
        doc.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, *size],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pikepdf.Stream(doc, ops))))
    if padding:
        doc.Root.Padding = pikepdf.Stream(doc, bytes(range(256)) * (padding // 256 + 1))
    out = io.BytesIO()
    doc.save(out, compress_streams=False)
    return out.getvalue()


class Server:
    def __init__(self, proxy: IppProxy) -> None:
        self.proxy = proxy

    def print_job(self, queue: str, document: bytes, *, user: str = "alice",
                  fmt: str = "application/octet-stream", copies: int = 1) -> Message:
        job = [Attribute.single("copies", Tag.INTEGER, copies)] if copies != 1 else []
        msg = build(Operation.PRINT_JOB, self.proxy.uri(queue), user=user, op_attrs=[
            Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, fmt)], job_attrs=job)
        return send(self.proxy.port, msg, document, self.proxy.path(queue))

    def accepted(self, queue: str, document: bytes, **kw: Any) -> dict[str, Any]:
        """The job's attributes once accepted (successful-ok)."""
        reply = self.print_job(queue, document, **kw)
        assert reply.code == Status.SUCCESSFUL_OK, \
            f"{status_name(reply.code)}: {status_message(reply)}"
        job_id = reply.get(Tag.JOB_ATTRIBUTES, "job-id")
        assert job_id is not None
        msg = build(Operation.GET_JOB_ATTRIBUTES, self.proxy.uri(queue), op_attrs=[
            Attribute.single("job-id", Tag.INTEGER, job_id.value),
            Attribute.single("requested-attributes", Tag.KEYWORD, "all")])
        (attrs,) = job_dicts(send(self.proxy.port, msg, path=self.proxy.path(queue)))
        return attrs

    def denied(self, queue: str, document: bytes, status: Status, says: str,
               **kw: Any) -> None:
        reply = self.print_job(queue, document, **kw)
        assert (reply.code, says in status_message(reply)) == (status, True), \
            f"{status_name(reply.code)}: {status_message(reply)!r}"


def serve(directory: Path, database: str | None = None) -> IppProxy:
    proxy = IppProxy(directory, queues=[{"name": q, "cost_model": "laser"} for q in QUEUES])
    text = proxy.config_path.read_text()
    if database is not None:
        sqlite = f'database = "sqlite:///{proxy.directory / "ippproxy.db"}"'
        assert sqlite in text
        text = text.replace(sqlite, f'database = "{database}"')
    proxy.config_path.write_text(text + RULES)
    return proxy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("rules")) as proxy:
        yield Server(proxy)
        assert tracebacks(proxy.log()) == []


NOT_POSSIBLE = Status.CLIENT_ERROR_NOT_POSSIBLE


def test_max_pages(server: Server) -> None:
    server.denied("pages", pdf([False] * 3, "p3"), NOT_POSSIBLE, "3 pages; the limit on pages is 2")
    server.denied("pages", pdf([False] * 2, "p2x2"), NOT_POSSIBLE, "4 pages", copies=2)
    assert server.accepted("pages", pdf([False] * 2, "p2"))["job-impressions"] == 2


def test_max_copies(server: Server) -> None:
    server.denied("copies", pdf([False], "c3"), NOT_POSSIBLE, "3 copies requested", copies=3)
    assert server.accepted("copies", pdf([False], "c2"), copies=2)["copies"] == 2


def test_max_cost(server: Server) -> None:
    server.denied("cost", pdf([True], "colour"), NOT_POSSIBLE, "jobs over 0.30")
    server.denied("cost", pdf([False] * 4, "m4"), NOT_POSSIBLE, "costs 0.40")
    assert server.accepted("cost", pdf([False] * 3, "m3"))["job-impressions"] == 3


def test_max_spool_size(server: Server) -> None:
    big = pdf([False], "big", padding=30000)
    assert len(big) > 20000
    server.denied("spool", big, NOT_POSSIBLE, "the limit is 19 KiB")
    small = pdf([False], "small")
    assert len(small) < 20000
    server.accepted("spool", small)


def test_paper_sizes(server: Server) -> None:
    server.denied("paper", pdf([False], "letter", LETTER), NOT_POSSIBLE,
                  "Paper size na_letter_8.5x11in is not allowed on paper")
    server.accepted("paper", pdf([False], "a4"))


def test_allowed_formats(server: Server) -> None:
    postscript = (b"%!PS-Adobe-3.0\n/Helvetica findfont 12 scalefont setfont\n"
                  b"72 720 moveto (formats) show showpage\n")
    server.denied("formats", postscript, Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                  "Documents of type application/postscript are not accepted on formats")
    server.accepted("formats", pdf([False], "formats"))


def test_allowed_users(server: Server) -> None:
    server.denied("users", pdf([False], "bob"), Status.CLIENT_ERROR_NOT_AUTHORIZED,
                  "User bob may not print on users", user="bob")
    server.accepted("users", pdf([False], "alice"), user="Alice")   # canonically alice
    # carol is not listed, but a member of an allowed group (made with the command tool).
    database = f"sqlite:///{server.proxy.directory / 'ippproxy.db'}"
    r = subprocess.run([*ippproxy_command(), "cmd", "--database", database, "--json",
                        "add-internal-user", "carol", "--password-file", "-",
                        "--group", "staff", "--balance", "5"],
                       input="carol-s3cret-pass\n", capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    server.accepted("users", pdf([False], "carol"), user="carol")


def test_duplicate_jobs_sqlite(server: Server) -> None:
    duplicate_jobs(server)


def duplicate_jobs(server: Server) -> None:
    doc = pdf([False], "same document")
    server.accepted("dup", doc, user="Dave")
    # The same owner, canonically: the job row holds "Dave" as the client sent it.
    server.denied("dup", doc, NOT_POSSIBLE, "duplicate job refused", user="dave")
    server.accepted("dup", doc, user="erin")                      # another owner may
    server.accepted("dup", pdf([False], "another document"), user="dave")


def test_duplicate_jobs_postgresql(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    with serve(tmp_path / "pg", pg_url) as proxy:
        duplicate_jobs(Server(proxy))
        assert tracebacks(proxy.log()) == []


def test_force_grayscale(server: Server) -> None:
    job = server.accepted("gray", pdf([True, True], "colour"))
    colour = {m.name: m.value for m in job["job-impressions-col"].attributes}   # PWG 5100.7
    assert (job["job-impressions"], colour) == (2, {"full-color": 0, "monochrome": 2})
    assert job["print-color-mode"] == "monochrome"
    assert job["ippproxy-cost-estimate"].startswith("0.20 ")      # charged as printed


def test_force_duplex(server: Server) -> None:
    job = server.accepted("duplex", pdf([False] * 4, "four"))
    assert (job["job-impressions"], job["job-media-sheets"]) == (4, 2)
    assert job["sides"] == "two-sided-long-edge"
    one = server.accepted("duplex", pdf([False], "one"))          # under min_pages
    assert one["job-media-sheets"] == 1 and one.get("sides", "one-sided") == "one-sided"
