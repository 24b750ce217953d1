"""Interop with libcups: CUPS's ipptool encodes requests we decode (chunked, incrementally),
and decodes responses we encode, checking each value's syntax (real client, real socket)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from ippproxy.ipp import (
    Attribute,
    Collection,
    Decoder,
    Group,
    Message,
    RangeOfInteger,
    RequestError,
    Resolution,
    Status,
    StringWithLanguage,
    Tag,
    check_request,
    encode,
    make_response,
)

A = Attribute.single
DOCUMENT = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"

JOB_GROUP = Group(Tag.JOB_ATTRIBUTES, (
    A("job-id", Tag.INTEGER, 42),
    A("job-uri", Tag.URI, "ipp://127.0.0.1/jobs/42"),
    A("job-state", Tag.ENUM, 3),
    Attribute.multi("job-state-reasons", Tag.KEYWORD, ["none", "job-incoming"]),
    A("job-name", Tag.NAME_WITH_LANGUAGE, StringWithLanguage("fr", "tâche")),
    A("job-printer-state-message", Tag.TEXT_WITH_LANGUAGE, StringWithLanguage("en", "ready")),
    A("date-time-at-creation", Tag.DATE_TIME,
      dt.datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
    A("printer-resolution", Tag.RESOLUTION, Resolution(600, 600, 3)),
    Attribute.multi("page-ranges", Tag.RANGE_OF_INTEGER,
                    [RangeOfInteger(1, 3), RangeOfInteger(5, 5)]),
    A("job-printer-up-time", Tag.INTEGER, 100),
    A("job-password", Tag.OCTET_STRING, b"\x00\xff"),
    A("printer-info", Tag.NO_VALUE, None),
    A("media-col", Tag.BEGIN_COLLECTION, Collection((
        A("media-size", Tag.BEGIN_COLLECTION, Collection((
            A("x-dimension", Tag.INTEGER, 21000), A("y-dimension", Tag.INTEGER, 29700)))),
        Attribute.multi("media-source", Tag.KEYWORD, ["tray-1", "tray-2"]),
    ))),
))

TEST_FILE = """
{
    NAME "Print-Job through the ippproxy codec"
    OPERATION Print-Job
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR name requesting-user-name alice
    ATTR name job-name report
    ATTR mimeMediaType document-format application/pdf
    GROUP job-attributes-tag
    ATTR integer copies 2
    ATTR keyword sides two-sided-long-edge
    ATTR rangeOfInteger page-ranges 1-3,5-5
    ATTR resolution printer-resolution 600dpi
    ATTR enum finishings 3,4
    ATTR collection media-col {
        MEMBER collection media-size {
            MEMBER integer x-dimension 21000
            MEMBER integer y-dimension 29700
        }
        MEMBER keyword media-source tray-1
    }
    ATTR collection x-vendor-col {
        MEMBER keyword x-list a,b,c
    }
    FILE $filename

    STATUS successful-ok
    EXPECT job-id OF-TYPE integer COUNT 1 IN-GROUP job-attributes-tag WITH-VALUE 42
    EXPECT job-uri OF-TYPE uri WITH-VALUE "ipp://127.0.0.1/jobs/42"
    EXPECT job-state OF-TYPE enum WITH-VALUE 3
    EXPECT job-state-reasons OF-TYPE keyword COUNT 2
    EXPECT job-name OF-TYPE nameWithLanguage
    EXPECT job-printer-state-message OF-TYPE textWithLanguage
    EXPECT date-time-at-creation OF-TYPE dateTime
    EXPECT printer-resolution OF-TYPE resolution
    EXPECT page-ranges OF-TYPE rangeOfInteger COUNT 2
    EXPECT job-password OF-TYPE octetString
    EXPECT printer-info OF-TYPE no-value
    EXPECT media-col OF-TYPE collection COUNT 1
    EXPECT status-message OF-TYPE text WITH-VALUE "accepted"
}
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    captured: ClassVar[list[tuple[Message, bytes, int]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _chunks(self) -> Iterator[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    return
                yield chunk
        else:
            yield self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self) -> None:
        decoder = Decoder()
        message = None
        document = bytearray()
        chunks = 0
        for chunk in self._chunks():
            chunks += 1
            if message is None:
                message = decoder.feed(chunk)
                if message is not None:
                    document += decoder.rest
            else:
                document += chunk
        assert message is not None
        try:
            check_request(message)
        except RequestError as exc:
            body = encode(make_response(message.version, message.request_id, exc.status,
                                               exc.message))
        else:
            self.captured.append((message, bytes(document), chunks))
            body = encode(make_response(message.version, message.request_id,
                                               Status.SUCCESSFUL_OK, "accepted", [JOB_GROUP]))
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.captured = []
    yield f"ipp://127.0.0.1:{httpd.server_address[1]}/ipp/print"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("mode", ["-C", "-L"])
def test_ipptool_print_job(server: str, tmp_path: Path, mode: str) -> None:
    ipptool = shutil.which("ipptool")
    assert ipptool, "ipptool missing: apt-get install cups-ipp-utils"
    (tmp_path / "codec.test").write_text(TEST_FILE)
    (tmp_path / "doc.pdf").write_bytes(DOCUMENT)
    run = subprocess.run(
        [ipptool, mode, "-T", "10", "-tv", "-f", str(tmp_path / "doc.pdf"), server,
         str(tmp_path / "codec.test")],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    message, document, _chunks = _Handler.captured[0]
    assert document == DOCUMENT
    job = message.group(Tag.JOB_ATTRIBUTES)
    assert job is not None
    assert job.get("page-ranges") == Attribute.multi(
        "page-ranges", Tag.RANGE_OF_INTEGER, [RangeOfInteger(1, 3), RangeOfInteger(5, 5)])
    assert job.get("printer-resolution") == A(
        "printer-resolution", Tag.RESOLUTION, Resolution(600, 600, 3))
    assert job.get("finishings") == Attribute.multi("finishings", Tag.ENUM, [3, 4])
    media_col = job.get("media-col")
    assert media_col is not None and isinstance(media_col.value, Collection)
    assert media_col.value.get("media-source") == A("media-source", Tag.KEYWORD, "tray-1")
    vendor = job.get("x-vendor-col")
    assert vendor is not None and isinstance(vendor.value, Collection)
    assert vendor.value.get("x-list") == Attribute.multi("x-list", Tag.KEYWORD, ["a", "b", "c"])
    size = media_col.value.get("media-size")
    assert size is not None and isinstance(size.value, Collection)
    assert size.value.get("y-dimension") == A("y-dimension", Tag.INTEGER, 29700)
    # What libcups encoded, we re-encode identically.
    assert encode(message) == _reencode_check(message)


def _reencode_check(message: Message) -> bytes:
    from ippproxy.ipp import decode

    wire = encode(message)
    assert decode(wire) == message
    return wire
