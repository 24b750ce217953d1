"""Jobs of the virtual printer: the record, its IPP job attributes, page counting.

A ``VirtualJob`` is mutable printer-side state (this is a fake printer, not
protocol data). Impressions follow RFC 8011 §5.3.18 / PWG 5100.7 loosely:
impressions = pages x copies; media sheets = impressions when one-sided, else
copies x ceil(pages / 2) (PWG 5100.7 §5.3 job-media-sheets-completed).
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ippproxy.ipp import Attribute, JobState, Tag

TERMINAL = frozenset({JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED})


@dataclass
class VirtualJob:
    job_id: int
    uuid: str
    name: str
    user: str
    copies: int = 1
    sides: str = "one-sided"
    document_format: str = "application/octet-stream"
    state: int = JobState.PENDING
    reasons: tuple[str, ...] = ("none",)
    message: str = ""
    pages: int = 0
    impressions_completed: int = 0
    sheets_completed: int = 0
    documents: int = 0
    document_bytes: int = 0
    kept: list[Path] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    completed_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def finish(self) -> None:
        self.impressions_completed = self.pages * self.copies
        if self.sides == "one-sided":
            self.sheets_completed = self.impressions_completed
        else:
            self.sheets_completed = self.copies * ((self.pages + 1) // 2)
        self.set_state(JobState.COMPLETED, ("job-completed-successfully",), "Job completed.")

    def set_state(self, state: int, reasons: tuple[str, ...], message: str) -> None:
        self.state, self.reasons, self.message = state, reasons, message
        if state in TERMINAL:
            self.completed_at = time.time()

    def attributes(self, printer_uri: str) -> list[Attribute]:
        """Job Description attributes (RFC 8011 §5.3), in a stable order."""
        created = dt.datetime.fromtimestamp(self.created, dt.UTC).replace(microsecond=0)
        attrs = [
            Attribute.single("job-id", Tag.INTEGER, self.job_id),
            Attribute.single("job-uri", Tag.URI, f"{printer_uri}/{self.job_id}"),
            Attribute.single("job-uuid", Tag.URI, self.uuid),
            Attribute.single("job-printer-uri", Tag.URI, printer_uri),
            Attribute.single("job-name", Tag.NAME, self.name),
            Attribute.single("job-originating-user-name", Tag.NAME, self.user),
            Attribute.single("job-state", Tag.ENUM, int(self.state)),
            Attribute.multi("job-state-reasons", Tag.KEYWORD, self.reasons),
            Attribute.single("job-state-message", Tag.TEXT, self.message),
            Attribute.single("job-impressions", Tag.INTEGER, self.pages * self.copies),
            Attribute.single("job-impressions-completed", Tag.INTEGER,
                             self.impressions_completed),
            Attribute.single("job-media-sheets-completed", Tag.INTEGER, self.sheets_completed),
            Attribute.single("job-k-octets", Tag.INTEGER, (self.document_bytes + 1023) // 1024),
            Attribute.single("copies", Tag.INTEGER, self.copies),
            Attribute.single("sides", Tag.KEYWORD, self.sides),
            Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, self.document_format),
            Attribute.single("date-time-at-creation", Tag.DATE_TIME, created),
            Attribute.single("time-at-creation", Tag.INTEGER, int(self.created)),
        ]
        if self.completed_at is not None:
            attrs.append(Attribute.single("time-at-completed", Tag.INTEGER,
                                          int(self.completed_at)))
        return attrs


def count_pages(path: Path, document_format: str) -> int:
    """Cheap page count (blocking: call in a thread). PDF: /Type /Page objects; else 1."""
    if document_format == "application/pdf" or _looks_like_pdf(path):
        try:
            import pikepdf

            with pikepdf.open(path) as pdf:
                return max(1, len(pdf.pages))
        except (pikepdf.PdfError, OSError, ValueError):  # broken PDF: one sheet, like printers
            return 1
    return 1


def _looks_like_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"%PDF-"
    except OSError:
        return False


class Decompressor:
    """IPP ``compression`` (RFC 8011 §5.4.32): none, gzip or deflate, streaming.

    "deflate" is RFC 1951; some clients send it with the RFC 1950 zlib wrapper, so
    the first byte decides (0x78 is a zlib header, raw deflate cannot start so).
    """

    def __init__(self, compression: str) -> None:
        self.compression = compression
        self._z: zlib._Decompress | None = None
        if compression == "gzip":
            self._z = zlib.decompressobj(31)

    def feed(self, data: bytes) -> bytes:
        if self.compression == "deflate" and self._z is None and data:
            self._z = zlib.decompressobj(15 if data[0] == 0x78 else -15)
        return self._z.decompress(data) if self._z is not None else data

    def flush(self) -> bytes:
        return self._z.flush() if self._z is not None else b""
