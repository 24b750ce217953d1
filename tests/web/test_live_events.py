"""``GET /admin/events`` against the real server with accounting on: the stream carries a
printed job (received, then printed), a job denied by a rule, a destination that cannot
be reached; our colour count reaches the reports (the colour share on the dashboard)."""

from __future__ import annotations

import asyncio
import io
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pikepdf
import pytest
from support.server import IppProxy, free_port
from support.webapi import Client, trust

from .conftest import ipp_print, page_admin, pages_server

EXTRA = """
[accounting]
enabled = true
restricted = false
[[rule]]
type = "allowed-users"
values = ["alice", "bob"]
"""


def colour_pdf(path: Path) -> Path:
    """Two pages: the first with a red square (colour), the second black only."""
    doc = pikepdf.new()
    for ops in (b"1 0 0 rg 72 500 100 100 re f", b"0 g 72 500 100 100 re f"):
        doc.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
            Contents=pikepdf.Stream(doc, ops))))
    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def accounting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    dead = f"ipp://127.0.0.1:{free_port()}/ipp/print"     # nothing listens there
    srv = pages_server(tmp_path_factory.mktemp("live"), queues=[
        {"name": "office", "destination": "builtin"}, {"name": "lobby", "destination": dead}])
    srv.config_path.write_text(srv.config_path.read_text() + EXTRA)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def admin(accounting_server: IppProxy) -> Client:
    return page_admin(accounting_server)


def session_of(admin: Client) -> aiohttp.ClientSession:
    """An aiohttp client with the admin's session cookie, trusting the server's certificate."""
    tls = ssl.create_default_context(cafile=trust(admin.base))
    return aiohttp.ClientSession(base_url=admin.base, headers=admin.headers(),
                                 connector=aiohttp.TCPConnector(ssl=tls))


@pytest.fixture
async def stream(admin: Client) -> AsyncIterator[aiohttp.StreamReader]:
    async with session_of(admin) as session, session.get("/admin/events") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        yield resp.content
        resp.close()        # the stream never ends by itself: drop the connection


async def events_until(content: aiohttp.StreamReader, done: object, timeout: float = 20.0
                       ) -> list[dict[str, object]]:
    """Read SSE records until ``done(events)`` holds."""
    got: list[dict[str, object]] = []
    async with asyncio.timeout(timeout):
        while not done(got):  # type: ignore[operator]
            line = (await content.readline()).decode()
            if line.startswith("data: "):
                got.append(json.loads(line[6:]))
    return got


async def test_a_printed_job_streams_received_then_printed(
        stream: aiohttp.StreamReader, accounting_server: IppProxy, admin: Client,
        tmp_path: Path) -> None:
    doc = colour_pdf(tmp_path / "colour.pdf")
    out = await asyncio.to_thread(ipp_print, accounting_server, doc, user="alice",
                                  name="live-colour")
    job_id = int(out.split("job-id (integer) = ")[1].split()[0])

    def printed(evs: list[dict[str, object]]) -> bool:
        return any(e["kind"] == "job-printed" and e["job_id"] == job_id for e in evs)

    evs = [e for e in await events_until(stream, printed) if e.get("job_id") == job_id
           and e["queue"] == "office"]
    kinds = [e["kind"] for e in evs]
    assert kinds[0] == "job-received" and kinds[-1] == "job-printed", kinds
    assert all(e["user"] == "alice" for e in evs)
    async with session_of(admin) as session, session.get("/admin/charts") as r:
        page = await r.text()
    # Our count at intake: one colour and one monochrome impression.
    assert "Of 2 pages printed, 50 % had colour, 50 % were monochrome" in page


async def test_a_denied_job_is_streamed(stream: aiohttp.StreamReader,
                                        accounting_server: IppProxy, tmp_path: Path) -> None:
    doc = colour_pdf(tmp_path / "denied.pdf")
    denied = asyncio.to_thread(ipp_print, accounting_server, doc, user="mallory")
    with pytest.raises(AssertionError):     # ipptool: the Print-Job was refused
        await denied
    evs = await events_until(stream, lambda evs: any(e["kind"] == "job-denied" for e in evs))
    event = next(e for e in evs if e["kind"] == "job-denied")
    assert event["user"] == "mallory" and event["queue"] == "office"
    assert event["job_id"] is None and event["message"]


async def test_an_unreachable_printer_is_reported(stream: aiohttp.StreamReader,
                                                  admin: Client) -> None:
    """The watch runs while a page listens; the event is in the stream of the page that
    listened then, and in the activity every dashboard opened later starts with."""
    async with session_of(admin) as session:
        async with asyncio.timeout(30):
            while True:
                async with session.get("/admin/") as r:
                    page = (await r.text()).replace("\n", "")
                if "ev-printer-offline" in page:
                    break
                await asyncio.sleep(0.3)
        async with session.get("/admin/printers") as r:
            printers = (await r.text()).replace("\n", "")
    assert '<span class="kind">printer-offline</span>' \
        '      <span class="queue">lobby</span>' in page
    assert '<span class="queue">office</span>' not in page.split("printer-offline")[1][:80]
    lobby = printers.split('id="p-lobby"')[1]
    assert 'class="printer-state">offline' in lobby
