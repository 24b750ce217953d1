"""One port for IPP, IPPS and HTTPS (server/listener.py, tls.py, redirect.py), against the real
``ippproxy serve`` subprocess, with real clients: ipptool over ``ipps://`` and ``ipp://`` on
the same port, curl, aiohttp with the generated certificate as its only trust anchor, pyipp
over TLS, and raw sockets for what well-behaved clients never send (garbage first bytes, half
a ClientHello, silence). One server serves the module; it is checked to be still serving
after each abuse.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import stat
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyipp import IPP
from support.server import IppProxy, free_port, tracebacks

from ippproxy.ipp import Attribute, Group, Message, Operation, Status, Tag, decode, encode

from .metrics_text import sample

TOKEN = "scrape-token-0123456789abcdef"
HEADER_TIMEOUT = 1.5
COMPLETED = 9


@dataclass(frozen=True)
class Served:
    proxy: IppProxy
    home: Path           # HOME of the CUPS tools: their own trust-on-first-use store
    pdf: Path

    @property
    def cert(self) -> Path:
        return self.proxy.directory / "tls" / "server.crt"

    def ipps(self, queue: str = "default") -> str:
        return f"ipps://{self.proxy.authority}/printers/{queue}"


def _pdf(out: Path, pages: int = 2) -> Path:
    ps = out / "doc.ps"
    ps.write_text("%!PS\n/Helvetica findfont 24 scalefont setfont\n" + "".join(
        f"72 700 moveto (page {p}) show showpage\n" for p in range(1, pages + 1)))
    pdf = out / "doc.pdf"
    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite",
                    f"-sOutputFile={pdf}", str(ps)], check=True, timeout=60)
    return pdf


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("oneport")
    dead = f"ipp://127.0.0.1:{free_port()}/ipp/print"     # nothing listens there
    proxy = IppProxy(base / "proxy", queues=[{"name": "default"}, {"name": "held"},
                                            {"name": "closed"},
                                            {"name": "dead", "destination": dead}],
                     server={"metrics_token": TOKEN, "header_timeout": HEADER_TIMEOUT},
                     forwarding={"retry_initial": 0.2, "retry_max": 1.0,
                                 "poll_interval": 0.1})
    with proxy.config_path.open("a") as f:   # rules apply with accounting: one denies
        f.write('[accounting]\nenabled = true\n[analysis]\nworkers = 1\n'
                '[[rule]]\ntype = "allowed-users"\nvalues = ["nobody-else"]\n'
                'printers = ["closed"]\n')
    home = base / "home"
    home.mkdir()
    with proxy:
        yield Served(proxy, home, _pdf(base))
    assert not tracebacks(proxy.log()), proxy.log()[-3000:]


def _ipptool(s: Served, uri: str, test: str, *extra: str) -> str:
    env = dict(os.environ, HOME=str(s.home), CUPS_USER="alice")
    out = subprocess.run(["ipptool", "-tv", "-T", "20", *extra, uri,
                          f"/usr/share/cups/ipptool/{test}"], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _value(output: str, name: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith(f"{name} ("):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"{name} not in ipptool output:\n{output}")


def _tls_client(s: Served) -> ssl.SSLContext:
    """Trusts exactly the server's generated certificate (so its names are checked too)."""
    return ssl.create_default_context(cafile=str(s.cert))


def _request(op: int, queue_uri: str, *extra: Attribute) -> bytes:
    return encode(Message((1, 1), op, 7, (Group(Tag.OPERATION_ATTRIBUTES, (
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("printer-uri", Tag.URI, queue_uri),
        Attribute.single("requesting-user-name", Tag.NAME, "alice"), *extra)),)))


def _gpa(queue_uri: str) -> bytes:
    return _request(Operation.GET_PRINTER_ATTRIBUTES, queue_uri,
                    Attribute.single("requested-attributes", Tag.KEYWORD, "printer-state"))


def _http_post(host: str, body: bytes, keep_alive: bool = True) -> bytes:
    conn = "keep-alive" if keep_alive else "close"
    return (f"POST /printers/default HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {conn}\r\n\r\n").encode() + body


def _read_response(sock: socket.socket | ssl.SSLSocket) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length: status and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(head.split(b" ")[1]), rest[:length]


def _still_serving(s: Served) -> None:
    with socket.create_connection((s.proxy.host, s.proxy.port), timeout=10) as raw, \
            _tls_client(s).wrap_socket(raw, server_hostname=s.proxy.host) as tls:
        tls.sendall(_http_post(s.proxy.authority, _gpa(s.ipps()), keep_alive=False))
        status, body = _read_response(tls)
    assert status == 200 and decode(body).code == Status.SUCCESSFUL_OK


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed ``sock`` (read EOF or reset); fails after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"connection still open after {seconds} s")
    return time.monotonic() - start


# -- the certificate ---------------------------------------------------------------------

def test_certificate_generated_beside_the_database(served: Served) -> None:
    tls_dir = served.proxy.directory / "tls"
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((tls_dir / "server.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(served.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    addresses = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    assert {"localhost", socket.gethostname()} <= names
    assert {"127.0.0.1", "::1"} <= addresses


def test_the_served_certificate_is_the_kept_one_and_tls_is_1_2_or_later(served: Served) -> None:
    ctx = _tls_client(served)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() == "TLSv1.2"
        der = tls.getpeercert(binary_form=True)
    kept = x509.load_pem_x509_certificate(served.cert.read_bytes())
    assert der == kept.public_bytes(Encoding.DER)


# -- IPP and IPPS on one port --------------------------------------------------------------

def test_ipptool_over_ipps_and_ipp_on_the_same_port(served: Served) -> None:
    secure = _ipptool(served, served.ipps(), "get-printer-attributes.test")
    plain = _ipptool(served, served.proxy.uri(), "get-printer-attributes.test")
    for out in (secure, plain):
        assert "[PASS]" in out and "[FAIL]" not in out
        uris = _value(out, "printer-uri-supported").split(",")
        assert [u.split("://")[0] for u in uris] == ["ipp", "ipps"]
        assert _value(out, "uri-security-supported") == "none,tls"
        assert _value(out, "uri-authentication-supported").count(",") == 1


def test_print_job_over_ipps_reaches_the_printer_and_moves_the_counters(
        served: Served) -> None:
    before = _metrics(served)
    out = _ipptool(served, served.ipps(), "print-job.test", "-f", str(served.pdf))
    assert "[PASS]" in out
    job_uri = _value(out, "job-uri")
    assert job_uri.startswith(f"ipps://localhost:{served.proxy.port}/jobs/default/")
    plain = _ipptool(served, served.proxy.uri(), "print-job.test", "-f", str(served.pdf))
    assert _value(plain, "job-uri").startswith("ipp://")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = _ipptool(served, job_uri, "get-job-attributes.test")
        if _value(got, "job-state") == "completed":
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"job not completed at the printer: {got}")
    while time.monotonic() < deadline:    # printed is counted when the forwarder sees it
        after = _metrics(served)
        if sample(after, "ippproxy_jobs_printed_total", queue="default") >= \
                sample(before, "ippproxy_jobs_printed_total", queue="default") + 1:
            break
        time.sleep(0.1)
    assert sample(after, "ippproxy_jobs_received_total", queue="default") == \
        sample(before, "ippproxy_jobs_received_total", queue="default") + 2
    assert sample(after, "ippproxy_intake_duration_seconds_count", operation="Print-Job") >= \
        sample(before, "ippproxy_intake_duration_seconds_count", operation="Print-Job") + 2
    assert sample(after, "ippproxy_printer_state", queue="default") in (3.0, 4.0)
    # The job store's writer: the two jobs (and their forwarding) were written, committed
    # and synced, each batch timed.
    for name in ("ippproxy_store_writes_total", "ippproxy_store_batch_seconds_count",
                 "ippproxy_store_batch_seconds_sum", "ippproxy_store_sync_seconds_count",
                 "ippproxy_store_sync_seconds_sum"):
        assert sample(after, name) > sample(before, name), name
    assert sample(after, "ippproxy_store_writes_total") - sample(
        before, "ippproxy_store_writes_total") >= 2


async def test_streamed_upload_over_tls_with_100_continue(served: Served) -> None:
    """aiohttp sends a chunked body of several MB after ``Expect: 100-continue``, over TLS
    verified against the generated certificate; the job is accepted whole."""
    pdf = served.pdf.read_bytes()
    header = _request(Operation.PRINT_JOB, served.ipps(),
                      Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"))
    # A PDF with 4 MB of comment padding after its end: still one valid document.
    padding = b"%" + b"x" * 1023 + b"\n"

    async def body() -> AsyncIterator[bytes]:
        yield header + pdf
        for _ in range(4096):
            yield padding

    async with aiohttp.ClientSession() as http, http.post(
            f"https://localhost:{served.proxy.port}/printers/default", data=body(),
            ssl=_tls_client(served), expect100=True,
            headers={"Content-Type": "application/ipp"}) as resp:
        assert resp.status == 200
        reply = decode(await resp.read())
    assert reply.code == Status.SUCCESSFUL_OK, reply
    job_uri = reply.get(Tag.JOB_ATTRIBUTES, "job-uri")
    assert job_uri is not None and str(job_uri.value).startswith("ipps://")


def test_keep_alive_over_tls(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as raw, \
            _tls_client(served).wrap_socket(raw, server_hostname="localhost") as tls:
        for _ in range(3):
            tls.sendall(_http_post(served.proxy.authority, _gpa(served.ipps())))
            status, body = _read_response(tls)
            assert status == 200 and decode(body).code == Status.SUCCESSFUL_OK


async def test_pyipp_over_tls(served: Served) -> None:
    async with IPP(host="localhost", port=served.proxy.port, base_path="/printers/default",
                   tls=True, verify_ssl=False) as client:
        printer = await client.printer()
    assert printer.state.printer_state in ("idle", "printing")  # an earlier job may print
    assert printer.info.printer_uri_supported == [
        f"ipp://localhost:{served.proxy.port}/printers/default",
        f"ipps://localhost:{served.proxy.port}/printers/default"]


# -- web requests: plain HTTP goes to HTTPS ------------------------------------------------

def _curl(*args: str) -> tuple[int, dict[str, str]]:
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-D", "-", "--max-time", "10",
                          *args], capture_output=True, text=True, timeout=30, check=False)
    lines = out.stdout.splitlines()
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:] if ":" in line)}
    return int(lines[0].split()[1]), headers


def test_plain_http_get_redirects_to_https_on_the_same_port(served: Served) -> None:
    port = served.proxy.port
    for path in ("/admin", "/admin/queues?page=2", "/", "/metrics", "/printers/default"):
        status, headers = _curl(f"http://127.0.0.1:{port}{path}")
        assert status == 308, path
        assert headers["location"] == f"https://127.0.0.1:{port}{path}"
    # A web form POST to /admin (not IPP) goes to HTTPS too, with its method kept (308).
    status, headers = _curl("-X", "POST", "-d", "a=b", f"http://127.0.0.1:{port}/admin")
    assert status == 308 and headers["location"].startswith("https://")


def test_https_get_reaches_the_app_and_ipp_posts_to_admin_stay_ipp(served: Served) -> None:
    port = served.proxy.port
    status, headers = _curl("-k", f"https://127.0.0.1:{port}/admin")
    # The web app's deny-by-default answer (web/auth.py), not a redirect loop.
    assert status == 401 and "location" not in headers
    status, _ = _curl("-k", f"https://127.0.0.1:{port}/printers/default")
    assert status == 200
    # CUPS tools POST IPP to /admin, over plain HTTP too.
    with socket.create_connection((served.proxy.host, port), timeout=10) as sock:
        body = _gpa(served.proxy.uri())
        sock.sendall(_http_post(served.proxy.authority, body, keep_alive=False)
                     .replace(b"POST /printers/default", b"POST /admin"))
        status, reply = _read_response(sock)
    assert status == 200 and decode(reply).code == Status.SUCCESSFUL_OK


# -- what well-behaved clients never send ---------------------------------------------------

def test_silent_client_is_dropped_after_the_header_timeout(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as sock:
        waited = _closed_within(sock, HEADER_TIMEOUT + 5)
    assert waited >= HEADER_TIMEOUT * 0.8
    _still_serving(served)


def test_half_a_client_hello_is_dropped(served: Served) -> None:
    # A TLS record header announcing 512 bytes of handshake, and then only 5 of them.
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as sock:
        sock.sendall(struct.pack(">BHH", 0x16, 0x0301, 512) + b"\x01\x00\x01\xfc\x03")
        _closed_within(sock, HEADER_TIMEOUT + 5)
    _still_serving(served)


def test_garbage_after_the_handshake_byte_is_dropped(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as sock:
        sock.sendall(b"\x16" + os.urandom(300))
        _closed_within(sock, HEADER_TIMEOUT + 5)
    _still_serving(served)


def test_garbage_first_bytes_get_http_400(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as sock:
        sock.sendall(b"\x00\xff\xfe garbage \x01\x02\r\n\r\n")
        data = sock.recv(4096)
        assert data.split(b" ")[1] == b"400", data
        _closed_within(sock, 5)
    _still_serving(served)


async def test_many_silent_connections_do_not_block_others(served: Served) -> None:
    """Fifty connections that say nothing hold no one up; all are gone after the timeout."""
    loop = asyncio.get_running_loop()
    idle = [socket.create_connection((served.proxy.host, served.proxy.port), timeout=10)
            for _ in range(50)]
    try:
        await loop.run_in_executor(None, _still_serving, served)
        for s in idle:
            await loop.run_in_executor(None, _closed_within, s, HEADER_TIMEOUT + 5)
    finally:
        for s in idle:
            s.close()


# -- /metrics ------------------------------------------------------------------------------

def _metrics(s: Served, token: str | None = TOKEN) -> str:
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(["curl", "-s", "--cacert", str(s.cert), "--max-time", "10", *headers,
                          f"https://localhost:{s.proxy.port}/metrics"],
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def test_metrics_refused_without_the_token(served: Served) -> None:
    port = served.proxy.port
    for auth in ((), ("-H", "Authorization: Bearer wrong-token-0123456789abc"),
                 ("-H", f"Authorization: Basic {TOKEN}"),
                 ("-H", f"Authorization: Bearer {TOKEN}x")):
        status, headers = _curl("--cacert", str(served.cert), *auth,
                                f"https://localhost:{port}/metrics")
        assert status == 401, auth
        assert headers["www-authenticate"].startswith("Bearer")
        assert headers["content-type"].startswith("application/problem+json")
    text = _metrics(served)
    assert "ippproxy_analysis_queue_length" in text
    assert sample(text, "ippproxy_printer_state", queue="default") == 3.0


def test_rules_move_the_denied_and_held_counters(served: Served) -> None:
    before = _metrics(served)
    # PCL 5 cannot be counted: held for an operator ([analysis] unknown_pages = "hold").
    pcl = b"\x1bE\x1b&l26A" + b"Hello PCL 5\r\n" * 20 + b"\x0c\x1bE"
    body = _request(Operation.PRINT_JOB, served.ipps("held"),
                    Attribute.single("document-format", Tag.MIME_MEDIA_TYPE,
                                     "application/octet-stream")) + pcl
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as raw, \
            _tls_client(served).wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(_http_post(served.proxy.authority, body, keep_alive=False)
                    .replace(b"/printers/default", b"/printers/held"))
        status, reply = _read_response(tls)
    held = decode(reply).get(Tag.JOB_ATTRIBUTES, "job-state")
    assert status == 200 and held is not None and held.value == 4   # pending-held
    env = dict(os.environ, HOME=str(served.home), CUPS_USER="alice")
    denied = subprocess.run(["ipptool", "-tv", "-T", "20", "-f", str(served.pdf),
                             served.ipps("closed"), "/usr/share/cups/ipptool/print-job.test"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "client-error-not-authorized" in denied.stdout
    after = _metrics(served)
    assert sample(after, "ippproxy_jobs_held_total", queue="held") == \
        sample(before, "ippproxy_jobs_held_total", queue="held") + 1
    assert sample(after, "ippproxy_jobs_denied_total", queue="closed", reason="rule") == \
        sample(before, "ippproxy_jobs_denied_total", queue="closed", reason="rule") + 1
    assert sample(after, "ippproxy_jobs_received_total", queue="closed") == 0


def test_a_redirect_never_names_a_host_the_client_made_up(served: Served) -> None:
    port = served.proxy.port
    for host in ("evil.example/@x", "a b", "evil.example:80:81"):
        with socket.create_connection((served.proxy.host, port), timeout=10) as sock:
            sock.sendall(f"GET /admin HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                         .encode())
            head = sock.recv(4096).decode("latin-1")
        assert head.split(" ")[1] in ("308", "400"), head
        for line in head.split("\r\n"):
            if line.lower().startswith("location:"):
                assert line.split(":", 1)[1].strip() == f"https://127.0.0.1:{port}/admin"


def test_get_on_an_ipp_path_over_https_is_405_not_a_redirect(served: Served) -> None:
    status, headers = _curl("--cacert", str(served.cert),
                            f"https://localhost:{served.proxy.port}/ipp/print")
    assert status == 405 and "location" not in headers


async def test_a_large_upload_over_tls_streams_without_growing_memory(tmp_path: Path) -> None:
    """Flow control through TLS: a 128 MB document, sent as fast as the client can, is
    streamed to the spool; the server's peak resident memory grows by far less than the
    document (it would hold it all if the body were buffered)."""
    size, piece = 128 << 20, b"\xa5" * (1 << 20)
    with IppProxy(tmp_path / "big") as proxy:
        cert = proxy.directory / "tls" / "server.crt"
        header = _request(Operation.PRINT_JOB, f"ipps://{proxy.authority}/printers/default",
                          Attribute.single("document-format", Tag.MIME_MEDIA_TYPE,
                                           "application/octet-stream"))
        before = proxy.peak_rss_kib()

        async def body() -> AsyncIterator[bytes]:
            yield header
            for _ in range(size // len(piece)):
                yield piece

        async with aiohttp.ClientSession() as http, http.post(
                f"https://localhost:{proxy.port}/printers/default", data=body(),
                ssl=ssl.create_default_context(cafile=str(cert)),
                headers={"Content-Type": "application/ipp"}) as resp:
            reply = decode(await resp.read())
        assert reply.code == Status.SUCCESSFUL_OK, reply
        grown = proxy.peak_rss_kib() - before
    assert grown < 48 * 1024, f"peak RSS grew by {grown} KiB for a {size >> 20} MB document"


def test_a_printer_that_is_not_there_moves_the_retry_counter(served: Served) -> None:
    before = sample(_metrics(served), "ippproxy_forwarding_retries_total", queue="dead")
    _ipptool(served, served.ipps("dead"), "print-job.test", "-f", str(served.pdf))
    deadline = time.monotonic() + 30
    while sample(_metrics(served), "ippproxy_forwarding_retries_total", queue="dead") < \
            before + 2:
        assert time.monotonic() < deadline, "no retries counted"
        time.sleep(0.2)


# -- RFC 2817: upgrading a plain connection to TLS ------------------------------------------

UPGRADE = (b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
           b"Upgrade: TLS/1.2,TLS/1.1,TLS/1.0\r\n\r\n")


def test_ipptool_with_encryption_required_upgrades_an_ipp_uri(served: Served) -> None:
    out = _ipptool(served, served.proxy.uri(), "print-job.test", "-E", "-f", str(served.pdf))
    assert "[PASS]" in out
    assert _value(out, "job-uri").startswith("ipps://")   # the request came over TLS


def test_upgrade_in_place_then_ipp_on_the_same_connection(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as raw:
        raw.sendall(UPGRADE)
        switched = b""
        while b"\r\n\r\n" not in switched:
            switched += raw.recv(1)               # byte by byte: nothing of TLS read here
        assert switched.startswith(b"HTTP/1.1 101 ")
        with _tls_client(served).wrap_socket(raw, server_hostname="localhost") as tls:
            status, _ = _read_response(tls)       # the OPTIONS request's final response
            assert status == 200
            tls.sendall(_http_post(served.proxy.authority, _gpa(served.ipps())))
            status, body = _read_response(tls)
    assert status == 200 and decode(body).code == Status.SUCCESSFUL_OK


def test_options_without_upgrade_is_plain_http(served: Served) -> None:
    with socket.create_connection((served.proxy.host, served.proxy.port), timeout=10) as sock:
        sock.sendall(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 ") and not head.startswith(b"HTTP/1.1 101")
    _still_serving(served)
