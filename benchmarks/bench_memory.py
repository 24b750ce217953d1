"""Peak RSS of ``ippproxy serve`` while it receives a 1 GiB document (target: < 100 MB).

    .venv/bin/python benchmarks/bench_memory.py [--size-mib 1024] [--chunked]

Theory of operation. The real server runs as a subprocess (tests/support/server.py) with one
queue whose destination is a loopback port where nothing listens, so the figure is about
intake only (the job stays pending, nothing is forwarded). The client streams a valid PDF of
the requested size over a raw socket: the header objects, then one stream object whose bytes
are a 1 MiB random block repeated (made on the fly, never held whole), then the xref table,
whose offsets are known in advance. The server's VmRSS is sampled while the upload runs and
its VmHWM (peak resident set, /proc/PID/status) is read before and after. The document's
sha256 is computed on the fly and printed with the server's answer.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from support.server import IppProxy, free_port

from ippproxy.ipp import Attribute, Group, Message, Operation, Tag, decode, encode

LIMIT_MB = 100
BLOCK = 1 << 20


class StreamedPdf:
    """A valid one-page PDF with an unreferenced stream of ``payload`` bytes, as chunks."""

    def __init__(self, payload: int) -> None:
        self.payload = payload
        self.block = os.urandom(BLOCK)
        content = b"BT /F1 24 Tf 72 720 Td (1 GiB) Tj ET"
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
        head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.offsets = []
        for n, body in enumerate(objs, start=1):
            self.offsets.append(len(head))
            head += b"%d 0 obj\n" % n + body + b"\nendobj\n"
        self.offsets.append(len(head))
        head += b"5 0 obj\n<< /Length %d >>\nstream\n" % payload
        self.head = bytes(head)
        tail = bytearray(b"\nendstream\nendobj\n")
        xref = len(self.head) + payload + len(tail)
        tail += b"xref\n0 6\n0000000000 65535 f \n"
        for off in self.offsets:
            tail += b"%010d 00000 n \n" % off
        tail += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
        self.tail = bytes(tail)
        self.size = len(self.head) + payload + len(self.tail)
        self.sha256 = hashlib.sha256()

    def chunks(self) -> Iterator[bytes]:
        for piece in (self.head, *self._payload(), self.tail):
            self.sha256.update(piece)
            yield piece

    def _payload(self) -> Iterator[bytes]:
        left = self.payload
        while left:
            n = min(left, BLOCK)
            yield self.block[:n]
            left -= n


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def upload(proxy: IppProxy, doc: StreamedPdf, chunked: bool) -> tuple[int, bytes, float]:
    attrs = (
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("printer-uri", Tag.URI, proxy.uri("big")),
        Attribute.single("requesting-user-name", Tag.NAME, "bench"),
        Attribute.single("job-name", Tag.NAME, "one-gibibyte"),
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"))
    ipp = encode(Message((2, 0), Operation.PRINT_JOB, 1, (Group(Tag.OPERATION_ATTRIBUTES, attrs),)))
    head = (f"POST {proxy.path('big')} HTTP/1.1\r\nHost: {proxy.authority}\r\n"
            f"Content-Type: application/ipp\r\n")
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += f"Content-Length: {len(ipp) + doc.size}\r\n\r\n"
    t0 = time.perf_counter()
    with socket.create_connection((proxy.host, proxy.port), timeout=600) as s:
        def frame(data: bytes) -> bytes:
            return f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data

        s.sendall(head.encode() + frame(ipp))
        for piece in doc.chunks():
            s.sendall(frame(piece))
        if chunked:
            s.sendall(b"0\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        header, _, body = data.partition(b"\r\n\r\n")
        status = int(header.split()[1])
        length = 0
        for line in header.decode("latin-1").split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        while len(body) < length:
            body += s.recv(65536)
    return status, body, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--chunked", action="store_true", help="chunked framing (default: CL)")
    args = ap.parse_args()
    payload = args.size_mib << 20
    doc = StreamedPdf(payload)

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        proxy = IppProxy(Path(tmp), log_level="warning",
                         queues=[{"name": "big",
                                  "destination": f"ipp://127.0.0.1:{free_port()}/ipp/print"}],
                         server={"max_document_bytes": payload + (64 << 20)},
                         forwarding={"retry_initial": 60.0, "connect_timeout": 1.0})
        with proxy:
            pid = proxy.pid
            before_rss = proc_status(pid, "VmRSS")
            before_hwm = proc_status(pid, "VmHWM")
            samples: list[int] = []
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.05):
                    try:
                        samples.append(proc_status(pid, "VmRSS"))
                    except (OSError, KeyError):
                        return

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            status, body, seconds = upload(proxy, doc, args.chunked)
            done.set()
            sampler.join()
            after_hwm = proc_status(pid, "VmHWM")
            after_rss = proc_status(pid, "VmRSS")
            reply = decode(body) if status == 200 else None

    mib = doc.size / (1 << 20)
    print(f"document: {doc.size} bytes ({mib:.0f} MiB), sha256 {doc.sha256.hexdigest()}, "
          f"{'chunked' if args.chunked else 'Content-Length'} framing")
    if reply is not None:
        sm = reply.get(Tag.OPERATION_ATTRIBUTES, "status-message")
        job = reply.get(Tag.JOB_ATTRIBUTES, "job-id")
        job_id = job.value if job is not None else None
        print(f"answer: HTTP {status}, IPP status 0x{reply.code:04x}"
              f"{' ' + repr(sm.value) if sm else ''}, job-id {job_id!r}")
    else:
        print(f"answer: HTTP {status} {body[:200]!r}")
    print(f"upload: {seconds:.1f} s, {mib / seconds:.0f} MiB/s")
    print(f"server RSS before: {before_rss / 1024:.1f} MB (peak so far {before_hwm / 1024:.1f} MB)")
    print(f"server RSS during upload: max sampled {max(samples, default=0) / 1024:.1f} MB, "
          f"after {after_rss / 1024:.1f} MB")
    peak = after_hwm / 1024
    verdict = "OK" if peak < LIMIT_MB else "OVER LIMIT"
    print(f"server peak RSS (VmHWM): {peak:.1f} MB (limit {LIMIT_MB} MB): {verdict}")
    ok = reply is not None and reply.code < 0x100 and peak < LIMIT_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
