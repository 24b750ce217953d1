"""The user list downloaded with the page's selection (SavaPage §4.4.1 "PDF and CSV"):
CSV a row at a time, PDF drawn in-process with reportlab, both from the user list's
batches so that memory does not grow with the number of users.

Text in a user's row came from users, directories and printers: in CSV a cell that a
spreadsheet would run as a formula (``= + - @``, tab, CR) gets a leading apostrophe
(OWASP "CSV Injection"); in the PDF it is only ever drawn as text. The PDF is drawn
page by page on a canvas (no layout engine holding the whole table), with DejaVu Sans
when Debian's fonts-dejavu-core is there (any script the font covers) and Helvetica
otherwise; reportlab keeps each finished page compressed, a few KB each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

COLUMNS = ("username", "full_name", "email", "type", "role", "status", "groups",
           "balance", "currency", "pages_mono", "pages_colour", "pages_unprinted",
           "jobs", "bytes", "held_bytes", "pagometer_since")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def status_of(item: dict[str, Any]) -> str:
    return "deleted" if item["deleted"] else "disabled" if item["disabled"] else "active"


def fields(item: dict[str, Any]) -> dict[str, Any]:
    """One user's row of the download (the columns of ``COLUMNS``)."""
    meter = item["pagometer"]
    return {"username": item["username"], "full_name": item["full_name"],
            "email": item["email"] or "",
            "type": "internal" if item["internal"] else "external",
            "role": "admin" if item["admin"] else "user", "status": status_of(item),
            "groups": " ".join(item["groups"]), "balance": item["balance_text"],
            "currency": item["currency"], "pages_mono": meter["mono"],
            "pages_colour": meter["colour"], "pages_unprinted": meter["unprinted"],
            "jobs": meter["jobs"], "bytes": meter["bytes"],
            "held_bytes": meter["held_bytes"],
            "pagometer_since": item["pagometer_since"].isoformat()}


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _csv(values: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue()


def csv_header() -> str:
    """The CSV's first line (RFC 4180, CRLF): the column names."""
    return _csv(COLUMNS)


def csv_line(item: dict[str, Any]) -> str:
    """One user's CSV line."""
    row = fields(item)
    return _csv(_safe(row[c]) for c in COLUMNS)


def _font() -> str:
    if DEJAVU.exists():
        if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
        return "DejaVuSans"
    return "Helvetica"


# (heading, key of ``fields``, x in points, width in points)
_PDF_COLUMNS = (("User", "username", 28, 95), ("Name", "full_name", 125, 110),
                ("Email", "email", 237, 150), ("Type", "type", 389, 45),
                ("Role", "role", 436, 32), ("Status", "status", 470, 42),
                ("Balance", "balance", 514, 70), ("Mono", "pages_mono", 586, 40),
                ("Colour", "pages_colour", 628, 40), ("Not printed", "pages_unprinted", 670, 50),
                ("Jobs", "jobs", 722, 32), ("Held bytes", "held_bytes", 756, 60))
_SIZE = 7.5
_LINE = 11.0


def _clip(text: str, font: str, width: float) -> str:
    text = text[:100]  # a column is never wider than this many characters
    if len(text) * _SIZE <= width:
        return text  # fits: letters are at most 1 em wide (a rare wider symbol only crowds)
    if pdfmetrics.stringWidth(text, font, _SIZE) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, _SIZE) > width:
        text = text[:-1]
    return text + "…"


def write_pdf(rows: Iterable[dict[str, Any]], out: IO[bytes], *, selection: str,
              made: dt.datetime) -> int:
    """The list as an A4 landscape table with the selection and the time on every page;
    returns how many users it lists."""
    font = _font()
    width, height = (float(v) for v in landscape(A4))
    canvas = Canvas(out, pagesize=(width, height), pageCompression=1)
    canvas.setTitle("ippproxy user list")
    per_page = int((height - 90) // _LINE)
    count, page, y = 0, 0, 0.0

    def start() -> float:
        nonlocal page
        page += 1
        canvas.setFont(font, 11)
        canvas.drawString(28, height - 32, "ippproxy user list")
        canvas.setFont(font, _SIZE)
        canvas.drawString(28, height - 45, _clip(
            f"{selection} · {made.strftime('%Y-%m-%d %H:%M UTC')} · page {page}",
            font, width - 56))
        top = height - 64
        for heading, _key, x, w in _PDF_COLUMNS:
            canvas.drawString(x, top, _clip(heading, font, w))
        canvas.line(28, top - 3, width - 28, top - 3)
        return top - _LINE - 2

    for item in rows:
        if count % per_page == 0:
            if count:
                canvas.showPage()
            y = start()
        row = fields(item)
        canvas.setFont(font, _SIZE)
        for _heading, key, x, w in _PDF_COLUMNS:
            canvas.drawString(x, y, _clip(str(row[key]), font, w))
        y -= _LINE
        count += 1
    if not count:
        start()
        canvas.drawString(28, height - 80, "No users are selected.")
    canvas.showPage()
    canvas.save()
    return count
