"""The client package the server hands out (issue 17 §8: the seed's client directory),
no HTTP: a wheel of this very package (PEP 427; its ``ippproxy-client`` console script is
the user client), built in memory from the installed files, so the server needs no
network and no build tools to offer it.

The wheel holds the ``ippproxy`` package's files as installed (no byte code), its
distribution metadata (``METADATA``, ``entry_points.txt``) and ``RECORD`` with the SHA-256
of every file (PEP 376/427: urlsafe base64 without padding). Installed with
``pip install ippproxy-VERSION-py3-none-any.whl``; pip fetches the dependencies its
``METADATA`` names. Built once per process, on first request, off the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import ippproxy

DIST = "ippproxy"
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
# A fixed time for every member: the same files make the same wheel (reproducible).
_STAMP = (2020, 1, 1, 0, 0, 0)
WHEEL_FILE = (b"Wheel-Version: 1.0\nGenerator: ippproxy\nRoot-Is-Purelib: true\n"
              b"Tag: py3-none-any\n")   # PEP 427 §"The .dist-info directory"


@dataclass(frozen=True)
class Wheel:
    filename: str
    data: bytes
    sha256: str     # hex, shown on the download page


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not _SKIP_DIRS.intersection(p.relative_to(root).parts)
                  and p.suffix not in _SKIP_SUFFIXES)


def build() -> Wheel:
    dist = importlib.metadata.distribution(DIST)
    version = dist.version
    info = f"{DIST}-{version}.dist-info"
    members: list[tuple[str, bytes]] = []
    root = Path(ippproxy.__file__).resolve().parent
    for path in _files(root):
        members.append((f"{DIST}/{path.relative_to(root).as_posix()}", path.read_bytes()))
    metadata = dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {DIST}\n" \
                                              f"Version: {version}\n"
    members.append((f"{info}/METADATA", metadata.encode()))
    members.append((f"{info}/WHEEL", WHEEL_FILE))
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        members.append((f"{info}/entry_points.txt", entry_points.encode()))
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED)
    data = out.getvalue()
    return Wheel(f"{DIST}-{version}-py3-none-any.whl", data, hashlib.sha256(data).hexdigest())


class ClientWheel:
    """The wheel, built on first use (blocking: call it in a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wheel: Wheel | None = None

    def get(self) -> Wheel:
        with self._lock:
            if self._wheel is None:
                self._wheel = build()
            return self._wheel
