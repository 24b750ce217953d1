"""Document format detection from the first bytes of a document.

The client's ``document-format`` is only a hint: ``application/octet-stream``
(or no hint) means "detect it"; any other hint must agree with the bytes, or
the document is refused with ``client-error-document-format-error``
(RFC 8011 §4.1.6.1, §13.1.5.17).  A format we cannot count or forward raises
``UnsupportedFormat`` (``client-error-document-format-not-supported``).

A PJL job header (``ESC %-12345X @PJL ...``) is skipped and its ``ENTER
LANGUAGE`` honoured.  Read at least ``HEAD_BYTES`` bytes for a reliable answer.
"""

from __future__ import annotations

import re

from ippproxy.filters.errors import FormatError, UnsupportedFormat

HEAD_BYTES = 4096

PDF = "application/pdf"
PCLM = "application/PCLm"
POSTSCRIPT = "application/postscript"
PWG_RASTER = "image/pwg-raster"
URF = "image/urf"
JPEG = "image/jpeg"
PNG = "image/png"
PCLXL = "application/vnd.hp-pclxl"
PCL = "application/vnd.hp-pcl"
TEXT = "text/plain"
OCTET_STREAM = "application/octet-stream"

SUPPORTED: frozenset[str] = frozenset(
    {PDF, PCLM, POSTSCRIPT, PWG_RASTER, URF, JPEG, PNG, PCLXL, PCL, TEXT})

# A hint that the detected format satisfies although the names differ.
_COMPATIBLE: dict[str, frozenset[str]] = {
    PDF: frozenset({PCLM}),   # PCLm (Mopria PCLm 1.0) is a restricted PDF
}

_PJL_UEL = b"\x1b%-12345X"
_PJL_LANGUAGE = re.compile(rb"@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Za-z0-9]+)", re.IGNORECASE)
_PCL5_START = re.compile(rb"\x1b(E|&[a-z]|\*[a-z]|\([0-9]|\)[0-9]|%-?[0-9]*[AB])")
_TEXT_BAD = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def normalise(mime: str) -> str:
    """``"text/plain; charset=utf-8"`` -> ``"text/plain"``; case-insensitive except PCLm."""
    base = mime.split(";", 1)[0].strip()
    return PCLM if base.lower() == PCLM.lower() else base.lower()


def _strip_pjl(head: bytes) -> tuple[bytes, str | None]:
    """Skip a PJL header; return the payload head and the PJL language (upper case)."""
    if not head.startswith(_PJL_UEL):
        return head, None
    language: str | None = None
    pos = len(_PJL_UEL)
    while True:
        while head[pos:pos + 1] in (b"\r", b"\n"):
            pos += 1
        if not head.startswith(b"@PJL", pos):
            break
        end = head.find(b"\n", pos)
        if end < 0:
            return b"", language
        m = _PJL_LANGUAGE.match(head, pos)
        if m:
            language = m.group(1).decode("ascii").upper()
            return head[end + 1:], language
        pos = end + 1
    return head[pos:], language


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes look like, or None when they match nothing we know."""
    data, language = _strip_pjl(head)
    if data.startswith(b"\x04"):          # a leading Ctrl-D from old PostScript drivers
        data = data[1:]
    pdf_at = data.find(b"%PDF-", 0, 1024)  # readers accept junk before the header
    if pdf_at >= 0:
        return PCLM if b"%PCLm" in data[pdf_at:pdf_at + 64] else PDF
    if data.startswith((b"%!", b"\xc5\xd0\xd3\xc6")):
        return POSTSCRIPT
    if data.startswith(b"RaS2"):          # PWG 5102.4 §4.2 sync word
        return PWG_RASTER
    if data.startswith(b"UNIRAST\x00"):
        return URF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b") HP-PCL XL;"):  # PCL XL Feature Reference 2.1 §5.1 stream header
        return PCLXL
    if language in ("PCLXL", "PCL6"):
        return None
    if language == "POSTSCRIPT":
        return POSTSCRIPT if data.lstrip().startswith(b"%!") else None
    if language == "PCL" or _PCL5_START.match(data):
        return PCL
    if language is None and data and _looks_like_text(data):
        return TEXT
    return None


def _looks_like_text(data: bytes) -> bool:
    if _TEXT_BAD.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        # A multi-byte character cut by the end of the head is fine.
        if e.start < len(data) - 3:
            return False
    return True


def detect_format(head: bytes, hint: str | None = None) -> str:
    """The format of a document from its first bytes (``HEAD_BYTES`` or the whole document).

    ``hint`` is the client's ``document-format`` (None or ``application/octet-stream``:
    detect).  Returns one of ``SUPPORTED``.  Raises ``UnsupportedFormat`` for a format we
    cannot count or forward and ``FormatError`` for an empty document or one whose bytes
    contradict the hint.
    """
    wanted = normalise(hint) if hint else OCTET_STREAM
    if wanted != OCTET_STREAM and wanted not in SUPPORTED:
        raise UnsupportedFormat(f"document-format {wanted!r} is not supported")
    if not head:
        raise FormatError("the document is empty")
    found = sniff(head)
    if wanted == OCTET_STREAM:
        if found is None:
            raise UnsupportedFormat("the document format could not be recognised")
        return found
    if found == wanted or found in _COMPATIBLE.get(wanted, frozenset()):
        return wanted
    if found is None:
        raise FormatError(f"the document is not {wanted}")
    raise FormatError(f"the document is {found}, not {wanted} as document-format says")
