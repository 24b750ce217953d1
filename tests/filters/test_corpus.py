"""Every generated case is counted and classified exactly (pages, sizes, colour pages)."""

from __future__ import annotations

from pathlib import Path

import corpus
import pytest

from ippproxy.filters import detect
from ippproxy.filters.analysis import analyse
from ippproxy.filters.colour import rendered_colour_pages


def _check(case: corpus.Case) -> None:
    head = case.path.read_bytes()[:detect.HEAD_BYTES]
    assert detect.detect_format(head, None) == case.format
    a = analyse(case.path, case.format)
    assert a.pages == case.pages, case.name
    assert a.colour_pages == case.colour_pages, f"{case.name}: {a.colour_pages} {a.methods}"
    got = [(round(s.width), round(s.height)) for s in a.page_sizes]
    assert got == [(round(w), round(h)) for w, h in case.sizes], case.name


def test_every_case_exact(cases: dict[str, corpus.Case]) -> None:
    assert len(cases) >= 30
    failures = []
    for case in cases.values():
        try:
            _check(case)
        except AssertionError as e:
            failures.append(f"{case.name}: {e}")
    assert not failures, "\n".join(failures)


def test_prover_agrees_with_render(cases: dict[str, corpus.Case]) -> None:
    """The content-stream prover must never call a page gray that renders colour."""
    for case in cases.values():
        if case.format != "application/pdf":
            continue
        _, colour = rendered_colour_pages(case.path)
        assert tuple(colour) == case.colour_pages, case.name


def test_truth_covers_the_issue_cases(cases: dict[str, corpus.Case]) -> None:
    needed = {"black-text-rgb", "black-text-cmyk", "gray-image-as-rgb",
              "colour-mark-outside-page", "small-colour-mark", "blue-header-1-of-21",
              "ps-black-text-rgb", "ps-black-text-cmyk", "ps-gray-image-rgb",
              "ps-colour-mark-outside", "ps-small-colour-mark", "ps-blue-header",
              "black-text-cmyk-pwg", "gray-image-as-rgb-urf", "small-colour-mark-urf",
              "colour-mark-outside-page-pwg", "blue-header-1-of-21-urf", "mixed-sizes-pwg"}
    assert needed <= set(cases)
    assert cases["blue-header-1-of-21"].colour_pages == (1,)


def test_page_tree_with_lying_count(tmp_path: Path) -> None:
    path = tmp_path / "lie.pdf"
    corpus.write_pdf(path, [corpus.text_stream(lines=2)] * 3)
    data = path.read_bytes()
    assert data.count(b"/Count 3") == 1
    path.write_bytes(data.replace(b"/Count 3", b"/Count 7"))   # same length: xref stays valid
    a = analyse(path, "application/pdf")
    assert a.pages == 3
    assert any("/Count says 7" in n for n in a.notes)


def test_encrypted_pdf(tmp_path: Path) -> None:
    import pikepdf

    from ippproxy.filters.errors import PasswordRequired
    src = tmp_path / "plain.pdf"
    corpus.write_pdf(src, [corpus.text_stream(lines=2)] * 2)
    with pikepdf.open(src) as pdf:
        pdf.save(tmp_path / "empty-user.pdf", encryption=pikepdf.Encryption(owner="o", user=""))
        pdf.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    assert analyse(tmp_path / "empty-user.pdf", "application/pdf").pages == 2
    with pytest.raises(PasswordRequired) as e:
        analyse(tmp_path / "locked.pdf", "application/pdf")
    assert e.value.status == "client-error-document-password-error"


def test_broken_xref_is_repaired(tmp_path: Path) -> None:
    src = tmp_path / "ok.pdf"
    corpus.write_pdf(src, [corpus.text_stream(lines=2)] * 4)
    data = src.read_bytes()
    cut = data.rfind(b"xref")
    (tmp_path / "broken.pdf").write_bytes(data[:cut] + b"xref\ngarbage\n%%EOF\n")
    assert analyse(tmp_path / "broken.pdf", "application/pdf").pages == 4
