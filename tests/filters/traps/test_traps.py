"""Every trap document: exact page count and exact list of colour pages (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
import traps

from ippproxy.filters.analysis import analyse


@pytest.fixture(scope="session")
def trap_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, traps.Trap]:
    return traps.built_once(tmp_path_factory)


@pytest.mark.parametrize("name", ["layers", "layers-usage-without-as", "annotations", "vector",
                                  "patterns-forms", "images", "image-reused", "pclm-strips",
                                  "pclm-strips-jpeg", "lying-count"])
def test_trap(trap_docs: dict[str, traps.Trap], name: str) -> None:
    t = trap_docs[name]
    a = analyse(t.path, t.format)
    assert a.pages == t.pages
    assert a.colour_pages == t.colour, f"{name}: {a.methods}"
    for note in t.notes:
        assert any(note in n for n in a.notes), a.notes
    # What the scan decides exactly, it decides: only the expected pages are rendered.
    rendered = [m for m in a.methods if m.startswith("gs-render:")]
    assert rendered == ([f"gs-render:{t.rendered}"] if t.rendered else []), name


def test_every_trap_is_tested(trap_docs: dict[str, traps.Trap]) -> None:
    assert set(trap_docs) == {"layers", "layers-usage-without-as", "annotations", "vector",
                              "patterns-forms", "images", "image-reused", "pclm-strips",
                              "pclm-strips-jpeg", "lying-count"}


def test_a_real_tree_over_the_limit_is_refused(tmp_path: Path) -> None:
    """The limit applies to the leaves, whatever /Count says (both ways)."""
    import pikepdf

    from ippproxy.filters import pdf
    from ippproxy.filters.errors import FormatError
    doc = traps.Doc()
    for _ in range(6):
        doc.page(traps.BLACK_TEXT)
    path = tmp_path / "six.pdf"
    doc.save(path)
    path.write_bytes(path.read_bytes().replace(b"/Count 6", b"/Count 2", 1))
    with pikepdf.open(path) as p:
        assert int(p.Root.Pages.Count) == 2
        with pytest.raises(FormatError, match="more than 5 pages"):
            pdf.count(p, max_pages=5)
        assert pdf.count(p, max_pages=6).pages == 6


def test_a_loop_in_the_page_tree_is_walked_once() -> None:
    import pikepdf

    from ippproxy.filters import pdf
    doc = traps.Doc()
    for _ in range(2):
        doc.page(traps.BLACK_TEXT)
    pages = doc.pdf.Root.Pages
    loop = doc.pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Pages, Count=1,
                                                    Parent=pages))
    loop.Kids = pikepdf.Array([loop])
    pages.Kids.append(loop)
    assert pdf._leaves(pages, 10) == 2      # qpdf refuses to save such a tree


# Pages whose truth is finer than an 8-bit render shows: rich black (C = M = Y = K = 1 puts
# colour toner down, yet renders 0 0 0; images page 27 is a rich-black JPEG), Lab a* = 1,
# a 16-bit sample 1/65535 off neutral.
FINER_THAN_A_RENDER = {"vector": {5, 7}, "images": {16, 27}}


def test_the_render_in_print_state_agrees_with_the_truth(
        trap_docs: dict[str, traps.Trap]) -> None:
    """The expected lists are not the scan's opinion: every page of every trap rendered in
    its print state (at twice the images' resolution) gives them, save the pages above."""
    import dataclasses

    import pikepdf

    from ippproxy.filters import pdfscan
    from ippproxy.filters.render_fallback import undecided_colour_pages
    for name, t in trap_docs.items():
        with pikepdf.open(t.path) as pdf:
            forced = [dataclasses.replace(v, colour=None, dpi=60.0)
                      for v in pdfscan.scan_document(pdf)]
        rendered, colour = undecided_colour_pages(t.path, forced)
        assert rendered == t.pages
        assert set(colour) ^ set(t.colour) == FINER_THAN_A_RENDER.get(name, set()), name
