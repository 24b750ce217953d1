"""Bad input end to end: malformed requests on a raw socket to a running ``ippproxy serve``.

Each case is sent as an HTTP/1.1 POST (bytes built by hand in ``wire``) and must get its
specific answer: HTTP 200 application/ipp with the expected IPP status and a non-empty
``status-message`` (RFC 8011 §4.1.6.2), or an HTTP 4xx only where the HTTP itself is broken.
After every case the server must still answer a good Get-Printer-Attributes.

Expected statuses follow RFC 8011 (and CUPS's ipptool ipp-1.1.test where it has a case):
* §4.1.1 request-id 0, §4.1.4 charset/natural-language missing or out of order, a missing
  printer-uri, malformed encodings (RFC 8010 §3): client-error-bad-request;
* §4.1.4.1 unsupported charset: client-error-charset-not-supported;
* §4.1.8 unsupported version: server-error-version-not-supported; unknown operation:
  server-error-operation-not-supported;
* Appendix B: a value longer than its syntax allows, client-error-request-value-too-long; an
  attribute section or a document over the configured limits,
  client-error-request-entity-too-large;
* Cancel-Job of another user's job and an admin operation by nobody proven, whatever name
  is claimed ("root" too): client-error-not-authenticated with HTTP 401 and a challenge
  (RFC 8011 §13.1.4.3, as cupsd answers); a requesting-user-name with control characters
  or surrounding spaces (" root ", "root\\t", "r\\0oot"): client-error-bad-request, refused,
  never stripped into another name;
* §4.1.7 with ipp-attribute-fidelity=true, a job-template value of the wrong syntax:
  client-error-attributes-or-values-not-supported (what CUPS and ippeveprinter answer).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.server import IppProxy, free_port

from ippproxy.ipp import Attribute, Operation, Status, Tag, decode

from . import wire as W
from .docs import make_pdf
from .ipp_client import build, expect_ok, send, status_message, status_name

MAX_DOCUMENT = 64 * 1024
HEADER_TIMEOUT = 1.0

PRINT_JOB, VALIDATE_JOB, SEND_DOCUMENT = 0x0002, 0x0004, 0x0006
CANCEL_JOB, GET_JOB_ATTRIBUTES, GET_JOBS = 0x0008, 0x0009, 0x000A
GET_PRINTER_ATTRIBUTES, PAUSE_PRINTER = 0x000B, 0x0010
OCTET_STRING = 0x30


@dataclass(frozen=True)
class Env:
    port: int
    uri: str          # the default queue (builtin printer)
    offline_uri: str  # a queue whose destination is down: its jobs stay pending
    bob_job: int      # a pending job of user "bob" on the offline queue


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    dead = free_port()
    server = IppProxy(
        tmp_path_factory.mktemp("bad-input"),
        queues=[{"name": "default"},
                {"name": "offline", "destination": f"ipp://127.0.0.1:{dead}/ipp/print"}],
        server={"header_timeout": HEADER_TIMEOUT, "max_document_bytes": MAX_DOCUMENT},
        forwarding={"retry_initial": 5.0, "connect_timeout": 1.0})
    with server:
        offline_uri = server.uri("offline")
        msg = build(Operation.PRINT_JOB, offline_uri, user="bob", op_attrs=[
            Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")])
        reply = expect_ok(send(server.port, msg, make_pdf("bob"), path="/printers/offline"))
        job = reply.get(Tag.JOB_ATTRIBUTES, "job-id")
        assert job is not None and isinstance(job.value, int)
        yield Env(server.port, server.uri("default"), offline_uri, job.value)
        log = server.log()
    Path(tmp_path_factory.getbasetemp() / "bad-input-server.log").write_text(log)


# -- request builders ---------------------------------------------------------------------
def ipp(body: bytes, path: str = "/printers/default") -> Callable[[Env], bytes]:
    return lambda e: W.post_request(body, path, e.port)


def ipp_env(make: Callable[[Env], bytes], path: str = "/printers/default") -> Callable[[Env], bytes]:
    return lambda e: W.post_request(make(e), path, e.port)


def gpa(e: Env, extra: bytes = b"") -> bytes:
    return W.header(GET_PRINTER_ATTRIBUTES) + W.operation_group(e.uri) + extra


def ops(e: Env, *extra: bytes, user: str | None = "alice") -> bytes:
    return W.operation_group(e.uri, user, extra)


def validate_with_job(*job_attrs: bytes) -> Callable[[Env], bytes]:
    """Validate-Job with ipp-attribute-fidelity=true and the given job group."""
    def make(e: Env) -> bytes:
        return (W.header(VALIDATE_JOB) + ops(e, W.attr(W.BOOLEAN, "ipp-attribute-fidelity", True))
                + bytes([W.JOB_GROUP]) + b"".join(job_attrs) + bytes([W.END]))
    return ipp_env(make)


def print_job(*op_extra: bytes, document: bytes = b"%PDF-1.4\n") -> Callable[[Env], bytes]:
    def make(e: Env) -> bytes:
        return W.header(PRINT_JOB) + ops(e, *op_extra) + bytes([W.END]) + document
    return ipp_env(make)


CS = W.attr(W.CHARSET, "attributes-charset", "utf-8")
NL = W.attr(W.LANGUAGE, "attributes-natural-language", "en")


def uri_attr(e: Env) -> bytes:
    return W.attr(W.URI, "printer-uri", e.uri)


def deep_collection(depth: int) -> bytes:
    """media-col nested ``depth`` levels (RFC 8010 §3.1.6), innermost has one integer."""
    out = W.begin_collection("media-col")
    for _ in range(depth - 1):
        out += W.attr(W.MEMBER_NAME, b"", "media-size") + W.begin_collection(b"")
    out += W.member(W.INTEGER, "x-dimension", 21000)
    for _ in range(depth):
        out += W.end_collection()
    return out


def big_section() -> bytes:
    """An unknown octetString attribute with 40 values of 30000 bytes: a 1.2 MB section."""
    pad = b"\x00" * 30000
    return W.attr(OCTET_STRING, "x-padding", pad) + W.extra_value(OCTET_STRING, pad) * 39


def slow_client(e: Env) -> Iterator[bytes]:
    body = gpa(e, bytes([W.END]))
    head = (f"POST /printers/default HTTP/1.1\r\nHost: 127.0.0.1:{e.port}\r\n"
            f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    yield head + body[:10]  # ... and then nothing: the header deadline must fire


def raw_http(text: str) -> Callable[[Env], bytes]:
    return lambda e: text.replace("{port}", str(e.port)).encode()


@dataclass(frozen=True)
class Case:
    id: str
    request: Callable[[Env], bytes | Iterator[bytes]]
    status: int | tuple[int, ...] | None = None  # expected IPP status (HTTP 200)
    http: int = 200                             # expected HTTP status when not 200
    unsupported: str = ""  # attribute echoed in the unsupported-attributes group (§4.1.7)


BAD = Status.CLIENT_ERROR_BAD_REQUEST
S = Status
CASES: list[Case] = [
    # -- structure (RFC 8010 §3) ----------------------------------------------------------
    Case("truncated-header", ipp(b"\x02\x00\x00\x0b"), BAD),
    Case("header-only-no-end-tag", ipp(W.header(GET_PRINTER_ATTRIBUTES)), BAD),
    Case("truncated-attribute-name", ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01" + CS[:9]), BAD),
    Case("value-length-past-end", ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01" + CS + NL
                                      + b"\x45\x00\x0bprinter-uri\x00\xc8ipp://x/\x03"), BAD),
    Case("negative-value-length", ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01" + CS + NL
                                      + b"\x45\x00\x0bprinter-uri\xff\xffipp://x/\x03"), BAD),
    Case("negative-name-length", ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01" + CS + NL
                                     + b"\x45\x80\x01printer-uri\x00\x00\x03"), BAD),
    Case("garbage-where-a-tag-should-be", ipp_env(lambda e: gpa(e, b"\x00garbage\x03")), BAD),
    Case("attribute-before-any-group", ipp(W.header(GET_PRINTER_ATTRIBUTES) + CS + NL + b"\x03"),
         BAD),
    Case("additional-value-first-in-group",
         ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01" + W.extra_value(W.CHARSET, "utf-8")
             + NL + b"\x03"), BAD),
    Case("member-name-outside-collection",
         ipp_env(lambda e: gpa(e, W.attr(W.MEMBER_NAME, b"", "media-size") + b"\x03")), BAD),
    Case("end-collection-without-begin", validate_with_job(W.end_collection()), BAD),
    Case("collection-too-deep", validate_with_job(deep_collection(11)), BAD),
    Case("integer-of-length-3", validate_with_job(b"\x21\x00\x06copies\x00\x03\x00\x00\x01"), BAD),
    Case("boolean-value-2", print_job(W.attr(W.BOOLEAN, "ipp-attribute-fidelity", b"\x02")), BAD),
    Case("invalid-utf8-in-name", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES)
                                         + ops(e, user=None)
                                         + W.attr(W.NAME, "requesting-user-name", b"al\xc3(ce")
                                         + b"\x03"), BAD),
    Case("attribute-section-over-1MiB", ipp_env(lambda e: gpa(e, big_section() + b"\x03")),
         S.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE),
    # -- RFC 8011 §4.1 request rules -----------------------------------------------------------
    Case("version-9.9", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES, version=(9, 9))
                                + W.operation_group(e.uri) + b"\x03"),
         S.SERVER_ERROR_VERSION_NOT_SUPPORTED),
    Case("version-0.0", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES, version=(0, 0))
                                + W.operation_group(e.uri) + b"\x03"),
         S.SERVER_ERROR_VERSION_NOT_SUPPORTED),
    Case("request-id-0", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES, request_id=0)
                                 + W.operation_group(e.uri) + b"\x03"), BAD),
    Case("empty-operation-group", ipp(W.header(GET_PRINTER_ATTRIBUTES) + b"\x01\x03"), BAD),
    Case("no-attributes-charset", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES) + b"\x01"
                                          + NL + uri_attr(e) + b"\x03"), BAD),
    Case("charset-not-first", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES) + b"\x01"
                                      + NL + CS + uri_attr(e) + b"\x03"), BAD),
    Case("no-natural-language", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES) + b"\x01"
                                        + CS + uri_attr(e) + b"\x03"), BAD),
    Case("unsupported-charset", ipp_env(
        lambda e: W.header(GET_PRINTER_ATTRIBUTES) + b"\x01"
        + W.attr(W.CHARSET, "attributes-charset", "iso-2022-jp") + NL + uri_attr(e) + b"\x03"),
        S.CLIENT_ERROR_CHARSET_NOT_SUPPORTED),
    Case("job-template-in-operation-group",
         print_job(W.attr(W.INTEGER, "copies", 2)), BAD),
    Case("duplicate-attribute", ipp_env(lambda e: gpa(
        e, W.attr(W.NAME, "requesting-user-name", "mallory") + b"\x03")), BAD),
    Case("name-longer-than-255", ipp_env(lambda e: W.header(GET_PRINTER_ATTRIBUTES)
                                         + ops(e, user="u" * 300) + b"\x03"),
         S.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG),
    Case("unknown-operation", ipp_env(lambda e: W.header(0x3FFF) + ops(e) + b"\x03"),
         S.SERVER_ERROR_OPERATION_NOT_SUPPORTED),
    Case("integer-for-requesting-user-name", ipp_env(
        lambda e: W.header(GET_PRINTER_ATTRIBUTES) + ops(e, user=None)
        + W.attr(W.INTEGER, "requesting-user-name", 7) + b"\x03"), BAD),
    Case("keyword-for-copies-with-fidelity", validate_with_job(W.attr(W.KEYWORD, "copies", "two")),
         S.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, unsupported="copies"),
    Case("which-jobs-unknown-keyword", ipp_env(
        lambda e: W.header(GET_JOBS) + ops(e, W.attr(W.KEYWORD, "which-jobs", "bogus")) + b"\x03"),
        S.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED),
    # -- targets ----------------------------------------------------------------------------------
    Case("unknown-printer-uri", ipp_env(
        lambda e: W.header(GET_PRINTER_ATTRIBUTES)
        + W.operation_group(f"ipp://127.0.0.1:{e.port}/printers/nope") + b"\x03",
        "/printers/nope"), S.CLIENT_ERROR_NOT_FOUND),
    Case("missing-printer-uri", ipp(W.header(GET_PRINTER_ATTRIBUTES) + W.operation_group(None)
                                    + b"\x03"), BAD),
    Case("get-job-attributes-without-job-id", ipp_env(
        lambda e: W.header(GET_JOB_ATTRIBUTES) + ops(e) + b"\x03"), BAD),
    Case("get-job-attributes-unknown-job", ipp_env(
        lambda e: W.header(GET_JOB_ATTRIBUTES) + ops(e, W.attr(W.INTEGER, "job-id", 999999))
        + b"\x03"), S.CLIENT_ERROR_NOT_FOUND),
    Case("job-id-as-keyword", ipp_env(
        lambda e: W.header(GET_JOB_ATTRIBUTES) + ops(e, W.attr(W.KEYWORD, "job-id", "1"))
        + b"\x03"), BAD),
    Case("send-document-unknown-job", ipp_env(
        lambda e: W.header(SEND_DOCUMENT) + ops(e, W.attr(W.INTEGER, "job-id", 999999),
                                                W.attr(W.BOOLEAN, "last-document", True))
        + b"\x03%PDF-1.4\n"), S.CLIENT_ERROR_NOT_FOUND),
    # -- documents ----------------------------------------------------------------------------------
    Case("document-over-max_document_bytes", print_job(
        W.attr(W.MIME, "document-format", "application/pdf"),
        document=make_pdf("too big", padding=MAX_DOCUMENT + 1024)),
        S.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE),
    Case("bad-gzip-data", print_job(W.attr(W.KEYWORD, "compression", "gzip"),
                                    W.attr(W.MIME, "document-format", "application/pdf"),
                                    document=b"this is not gzip data" * 100),
         S.CLIENT_ERROR_COMPRESSION_ERROR),
    Case("compression-lz4", print_job(W.attr(W.KEYWORD, "compression", "lz4"),
                                      W.attr(W.MIME, "document-format", "application/pdf")),
         S.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED),
    Case("unsupported-document-format", print_job(
        W.attr(W.MIME, "document-format", "application/x-bogus")),
        S.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED),
    # -- authorisation ----------------------------------------------------------------------------
    Case("cancel-job-of-another-user", lambda e: W.post_request(
        W.header(CANCEL_JOB) + W.operation_group(e.offline_uri, "mallory",
                                                 [W.attr(W.INTEGER, "job-id", e.bob_job)])
        + b"\x03", "/printers/offline", e.port), S.CLIENT_ERROR_NOT_AUTHENTICATED, http=401),
    Case("pause-printer-by-non-admin", ipp_env(
        lambda e: W.header(PAUSE_PRINTER) + ops(e, user="mallory") + b"\x03"),
        S.CLIENT_ERROR_NOT_AUTHENTICATED, http=401),
    Case("pause-printer-as-root-by-name", ipp_env(
        lambda e: W.header(PAUSE_PRINTER) + ops(e, user="root") + b"\x03"),
        S.CLIENT_ERROR_NOT_AUTHENTICATED, http=401),
    *(Case(f"pause-printer-as-{label}", ipp_env(
        lambda e, name=name: W.header(PAUSE_PRINTER) + ops(e, user=name) + b"\x03"), BAD)
      for label, name in (("space-root-space", " root "), ("root-tab", "root\t"),
                          ("r-nul-oot", "r\0oot"))),
    # -- broken HTTP: 4xx without IPP ----------------------------------------------------------------
    # Plain HTTP that is not IPP goes to HTTPS first (server/redirect.py; 405 there).
    Case("http-get-on-ipp-path", raw_http(
        "GET /ipp/print HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"), http=308),
    Case("wrong-content-type", lambda e: W.post_request(gpa(e, b"\x03"), "/printers/default",
                                                        e.port, content_type="text/plain"),
         http=400),
    Case("empty-body", ipp(b""), http=400),
    Case("broken-chunked-framing", raw_http(
        "POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/ipp\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n"), http=400),
    Case("slow-client-past-header_timeout", slow_client, http=408),
    # A body that is not IPP at all: '<h' reads as version 60.104, so a server that checks the
    # version before decoding answers version-not-supported; both are right (RFC 8011 §4.1.8).
    Case("non-ipp-body", ipp(b"<html><body>hello, printer</body></html>\n"),
         (BAD, S.SERVER_ERROR_VERSION_NOT_SUPPORTED)),
]


def check_alive(e: Env) -> None:
    msg = build(Operation.GET_PRINTER_ATTRIBUTES, e.uri, op_attrs=[
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["printer-state"])])
    reply = expect_ok(send(e.port, msg, path="/printers/default"))
    assert reply.get(Tag.PRINTER_ATTRIBUTES, "printer-state") is not None


def test_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(env: Env, case: Case) -> None:
    raw = case.request(env)
    resp = W.http_exchange(env.port, raw)
    if case.http != 200:
        assert resp.status == case.http, (
            f"expected HTTP {case.http}, got HTTP {resp.status} {resp.body[:200]!r}")
        assert b"Traceback" not in resp.body
        if case.status is not None:  # an IPP answer with the HTTP error (401: challenge)
            assert resp.content_type == "application/ipp", resp.headers
            assert decode(resp.body).code == case.status
            assert resp.headers["www-authenticate"].startswith("Basic")
    else:
        assert resp.status == 200, f"expected HTTP 200, got {resp.status} {resp.body[:200]!r}"
        assert resp.content_type == "application/ipp", resp.headers
        reply = decode(resp.body)
        expected = case.status if isinstance(case.status, tuple) else (case.status,)
        message = status_message(reply)
        assert reply.code in expected, (
            f"expected {' or '.join(status_name(int(s)) for s in expected if s is not None)}, "
            f"got {status_name(reply.code)}: {message!r}")
        assert message.strip(), "status-message missing or empty"
        assert "Traceback" not in message and 'File "' not in message
        op = reply.operation
        assert op is not None and [a.name for a in op.attributes[:2]] == [
            "attributes-charset", "attributes-natural-language"]
        if case.unsupported:
            assert reply.get(Tag.UNSUPPORTED_ATTRIBUTES, case.unsupported) is not None, reply
        if isinstance(raw, bytes) and b"\r\n\r\n" in raw:
            body = raw.split(b"\r\n\r\n", 1)[1]
            if len(body) >= 8 and struct.unpack(">I", body[4:8])[0] != 0:
                assert reply.request_id == struct.unpack(">I", body[4:8])[0]
    check_alive(env)


def test_garbage_after_end_of_attributes_is_ignored(env: Env) -> None:
    """Bytes after end-of-attributes of a Get-Printer-Attributes are not an error."""
    resp = W.http_post(env.port, gpa(env, b"\x03" + b"trailing garbage \x00\xff" * 50),
                       "/printers/default")
    reply = decode(resp.body)
    assert resp.status == 200 and reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
    assert reply.get(Tag.PRINTER_ATTRIBUTES, "printer-state") is not None


def test_collection_of_depth_10_is_accepted(env: Env) -> None:
    """The depth limit is exactly 10 (libcups's): depth 10 must still decode."""
    resp = W.http_exchange(env.port, validate_with_job(deep_collection(10))(env))
    reply = decode(resp.body)
    assert reply.code != BAD or "depth" not in status_message(reply).lower(), (
        status_message(reply))


def test_bob_can_still_cancel_his_job(env: Env) -> None:
    """The refused Cancel-Job did nothing: the owner cancels it (and no job was lost)."""
    msg = build(Operation.CANCEL_JOB, env.offline_uri, user="bob", op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, env.bob_job)])
    expect_ok(send(env.port, msg, path="/printers/offline"))
