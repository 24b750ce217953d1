"""``services.user_export``: a CSV line per user with formula-looking cells defused (OWASP
CSV Injection), and the PDF's text (``pdftotext``) holding every row, across pages, with
text from users drawn as text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

from ippproxy.services.user_export import COLUMNS, csv_header, csv_line, write_pdf

WHEN = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


def user(name: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "username": name, "full_name": f"{name.title()} Person", "email": f"{name}@x.org",
        "internal": False, "admin": False, "disabled": False, "deleted": False,
        "groups": ["staff", "lab"], "balance_text": "12.50 EUR", "currency": "EUR",
        "pagometer": {"mono": 3, "colour": 2, "unprinted": 1, "jobs": 2, "bytes": 900,
                      "held_bytes": 40},
        "pagometer_since": WHEN}
    return {**base, **kw}


def test_csv_rows_and_defused_formulas() -> None:
    text = csv_header() + csv_line(user("jason")) + csv_line(
        user("eve", full_name="=HYPERLINK(\"http://evil\")", email="+1@x.org",
             internal=True, admin=True, disabled=True))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["groups"] == "staff lab" and rows[0]["pages_colour"] == "2"
    assert rows[0]["pagometer_since"] == "2026-12-01T08:30:00+00:00"
    assert rows[1]["full_name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["email"] == "'+1@x.org"
    assert (rows[1]["type"], rows[1]["role"], rows[1]["status"]) == (
        "internal", "admin", "disabled")


def text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_pdf_lists_every_row_across_pages(tmp_path: Path) -> None:
    path = tmp_path / "users.pdf"
    people = [user(f"u{i:04d}") for i in range(120)] + [user("zoë", full_name="Zoë <b>")]
    with path.open("wb") as out:
        n = write_pdf(iter(people), out, selection="Selection: everyone", made=WHEN)
    assert n == 121
    text = text_of(path)
    found = [ln.split()[0] for ln in text.splitlines() if ln.strip()
             and (ln.split()[0].startswith("u0") or ln.split()[0] == "zoë")]
    assert found == [p["username"] for p in people]
    assert "Zoë <b>" in text and "page 3" in text and "2026-12-01 08:30 UTC" in text


def test_pdf_of_nobody(tmp_path: Path) -> None:
    path = tmp_path / "none.pdf"
    with path.open("wb") as out:
        assert write_pdf(iter([]), out, selection="Selection: none", made=WHEN) == 0
    assert "No users are selected." in text_of(path)
