"""Small test documents (real PDFs made with pikepdf, no fixtures on disk)."""

from __future__ import annotations

from pathlib import Path

import pikepdf


def make_pdf(path: Path, pages: int = 1) -> Path:
    """Write a valid PDF of ``pages`` blank A4 pages to ``path``."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    pdf.save(path)
    return path
