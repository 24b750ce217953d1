"""Small valid PDFs made in Python (no gs needed): one per job, each with unique bytes.

``make_pdf(text, pages=1, padding=0)`` writes a PDF 1.4 with a correct xref table; ``padding``
adds an unreferenced stream of random (incompressible) bytes to make big documents.
"""

from __future__ import annotations

import hashlib
import os


def make_pdf(text: str, pages: int = 1, padding: int = 0) -> bytes:
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> "
                       f"/Contents {4 + 2 * i} 0 R >>".encode())
        safe = text.replace("\\", "").replace("(", "").replace(")", "")
        stream = f"BT /F1 24 Tf 72 720 Td ({safe} page {i + 1}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if padding:
        blob = os.urandom(padding)
        objects.append(b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
