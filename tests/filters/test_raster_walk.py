"""The native raster walker (_rasterwalk.c) against the pure-Python one.

Every input is walked five ways: the pure-Python walker over bytes and over a
mapped file, the C walker over bytes, and the C ``FileWalker`` with its
default block and with the smallest block (2 KiB, so that runs and line
groups straddle block boundaries everywhere).  All must give the same pages,
or the same error with the same byte offset, on the generated corpus, on
truncated and corrupted copies of it, and on random (hypothesis) streams.
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import corpus
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.soak import examples

from ippproxy.filters import raster, raster_walk
from ippproxy.filters.errors import FormatError

RASTER_CASES = ("blue-header-1-of-21", "small-colour-mark", "mixed-sizes", "gray-image-as-rgb")
Outcome = tuple[str, "tuple[raster.RasterPage, ...] | str", "int | None"]


@contextmanager
def implementation(native: bool, block: int = raster_walk.BLOCK_SIZE) -> Iterator[None]:
    saved = raster_walk.NATIVE, raster_walk.BLOCK_SIZE
    raster_walk.NATIVE, raster_walk.BLOCK_SIZE = native, block
    try:
        yield
    finally:
        raster_walk.NATIVE, raster_walk.BLOCK_SIZE = saved


def outcome(fn: Callable[[], list[raster.RasterPage]]) -> Outcome:
    try:
        return ("pages", tuple(fn()), None)
    except FormatError as e:
        assert e.offset is not None or "empty" in e.reason
        return ("error", e.reason, e.offset)


def pages_of(got: Outcome) -> tuple[raster.RasterPage, ...]:
    assert got[0] == "pages" and isinstance(got[1], tuple), got
    return got[1]


def walk_all_ways(data: bytes, fmt: str, path: Path, colour: bool = True) -> Outcome:
    """Walk ``data`` five ways; assert they agree; return the common outcome."""
    path.write_bytes(data)
    in_memory = raster.walk_urf if fmt == "image/urf" else raster.walk_pwg
    results = {}
    for label, native, block in (("py", False, 0), ("c", True, raster_walk.BLOCK_SIZE),
                                 ("c-2k", True, 2048)):
        with implementation(native, block or raster_walk.BLOCK_SIZE):
            results[f"{label} file"] = outcome(lambda: raster.walk_file(path, fmt, colour=colour))
            if label != "c-2k":
                results[f"{label} bytes"] = outcome(lambda: in_memory(data, colour=colour))
    first = results["py bytes"]
    for label, got in results.items():
        if "file" in label and not data:
            assert got == ("error", "the document is empty", None)
            continue
        assert got == first, f"{label} differs from the pure-Python walker"
    return first


def test_native_extension_is_built() -> None:
    # `pip install -e .` compiles it (setup.py); the suite must exercise the C walker.
    assert raster_walk.NATIVE, "ippproxy.filters._rasterwalk did not import"


def test_fallback_without_extension(cases: dict[str, corpus.Case]) -> None:
    # An install without a compiler: the import fails and the pure-Python walker serves.
    case = cases["small-colour-mark-urf"]
    code = ("import sys; sys.modules['ippproxy.filters._rasterwalk'] = None\n"
            "from pathlib import Path\n"
            "from ippproxy.filters import raster, raster_walk\n"
            "assert not raster_walk.NATIVE\n"
            f"pages = raster.walk_file(Path({str(case.path)!r}), 'image/urf', colour=True)\n"
            "print([p.colour for p in pages])\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == str([i + 1 in case.colour_pages for i in range(case.pages)])


@pytest.mark.parametrize("name", RASTER_CASES)
@pytest.mark.parametrize("ext", ["pwg", "urf"])
def test_corpus_same_pages(cases: dict[str, corpus.Case], tmp_path: Path, name: str,
                           ext: str) -> None:
    case = cases[f"{name}-{ext}"]
    data = case.path.read_bytes()
    for colour in (False, True):
        pages = pages_of(walk_all_ways(data, case.format, tmp_path / f"x.{ext}", colour))
        assert len(pages) == case.pages
        if colour:
            assert tuple(i + 1 for i, p in enumerate(pages) if p.colour) == case.colour_pages


@pytest.mark.parametrize("ext", ["pwg", "urf"])
def test_truncated_pages(cases: dict[str, corpus.Case], tmp_path: Path, ext: str) -> None:
    case = cases[f"mixed-sizes-{ext}"]
    data = case.path.read_bytes()
    pages = raster.walk_file(case.path, case.format)
    starts = {p.offset for p in pages}
    cuts = {len(data) * i // 40 for i in range(1, 40)}
    for s in starts:
        cuts |= {s - 1, s, s + 1, s + 20, s + (raster.URF_HEADER if ext == "urf" else 1796) + 1}
    for cut in sorted(c for c in cuts if 12 < c < len(data)):
        got = walk_all_ways(data[:cut], case.format, tmp_path / f"t.{ext}")
        if cut in starts:            # a cut between pages leaves a shorter, valid stream
            assert len(pages_of(got)) == sorted(starts).index(cut)
        else:
            assert got[0] == "error"
            assert "ends inside" in str(got[1]) or "truncated" in str(got[1])


@pytest.mark.parametrize("ext", ["pwg", "urf"])
def test_corrupted_pages(cases: dict[str, corpus.Case], tmp_path: Path, ext: str) -> None:
    case = cases[f"small-colour-mark-{ext}"]
    data = case.path.read_bytes()
    header = 4 + raster.PWG_HEADER if ext == "pwg" else 12 + raster.URF_HEADER
    rng = random.Random(4)
    errors = 0
    for _ in range(60):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(header, len(bad))] = rng.randrange(256)
        errors += walk_all_ways(bytes(bad), case.format, tmp_path / f"c.{ext}")[0] == "error"
    assert 5 < errors < 55    # damage to control bytes is detected; to pixels, it walks


# ---- hand-made streams ------------------------------------------------------

def pwg_page(width: int, height: int, bpp: int, body: bytes, cspace: int = 19) -> bytes:
    h = bytearray(raster.PWG_HEADER)
    struct.pack_into(">II", h, 276, 72, 72)
    struct.pack_into(">8I", h, 372, width, height, 0, 8 if bpp >= 3 else bpp * 8, bpp * 8,
                     width * bpp, 0, cspace)
    return bytes(h) + body


def urf_page(width: int, height: int, bpp: int, body: bytes, cspace: int = 1) -> bytes:
    return struct.pack(">BBBBII IIIII", bpp * 8, cspace, 1, 4, 0, 0, width, height, 72,
                       0, 0) + body


def pwg(*pages: bytes) -> bytes:
    return raster.PWG_SYNC + b"".join(pages)


def urf(*pages: bytes) -> bytes:
    return raster.URF_SYNC + struct.pack(">I", len(pages)) + b"".join(pages)


@pytest.mark.parametrize(("body", "message", "offset"), [
    (b"\x00\x05" + b"\x00" * 3, "a run crosses the end of a 12-byte line", 4 + 1796 + 5),
    (b"\x05\x03" + b"\x00" * 3, "line repeat overflows the page (6 lines of 2)", 4 + 1796 + 5),
    (b"\x00\xfd" + b"\x00" * 5, "raster data ends inside a run", 4 + 1796 + 1),
    (b"\x00\x80", "raster data ends inside a page at line 1 of 2", 4 + 1796 + 2),
    (b"\x00\x01\x00\x00\x00", "raster data ends inside a line", 4 + 1796 + 5),
])
def test_hostile_messages(tmp_path: Path, body: bytes, message: str, offset: int) -> None:
    got = walk_all_ways(pwg(pwg_page(4, 2, 3, body)), "image/pwg-raster", tmp_path / "h.pwg")
    assert got == ("error", f"{message} (at byte {offset})", offset)


def test_fill_16_bit_and_threshold(tmp_path: Path) -> None:
    # 128 fills the line; 48-bit pixels use the high bytes; chroma 24 is neutral, 25 colour.
    neutral = b"\x00\x80" + b"\x01\x03" + bytes([100, 124, 100])  # 2 lines: fill, 4 x pixel
    coloured = b"\x01\x03" + bytes([100, 125, 100])
    deep = b"\x00\xff" + bytes([9, 0, 200, 0, 9, 0, 9, 9, 9, 9, 9, 9]) + b"\x80"
    data = urf(urf_page(4, 3, 3, neutral), urf_page(4, 2, 3, coloured),
               urf_page(3, 1, 6, deep), urf_page(2, 1, 1, b"\x00\x01\x55"))
    got = walk_all_ways(data, "image/urf", tmp_path / "f.urf")
    assert [p.colour for p in pages_of(got)] == [False, True, True, False]


def test_native_argument_checks(tmp_path: Path) -> None:
    from ippproxy.filters import _rasterwalk
    for args in ((0, 1, 3), (1, -1, 3), (1, 1, 0), (1, 1, 9), (1 << 25, 1, 3)):
        with pytest.raises(ValueError, match="impossible"):
            _rasterwalk.walk_page(b"\x00\x00", 0, *args, False, 24)
    with pytest.raises(ValueError):
        _rasterwalk.FileWalker(-1)
    path = tmp_path / "r.bin"
    path.write_bytes(b"x" * 10)
    with open(path, "rb") as f:
        w = _rasterwalk.FileWalker(f.fileno(), 4096)
        with pytest.raises(ValueError):
            w.read(4097)
        assert w.read(4) == b"xxxx" and w.tell() == 4 and not w.at_end()
        assert w.read(100) == b"x" * 6 and w.at_end()
    r, w_ = os.pipe()                                 # pread on a pipe: ESPIPE
    try:
        with pytest.raises(OSError):
            _rasterwalk.FileWalker(r).read(1)
    finally:
        os.close(r)
        os.close(w_)


# ---- random streams ----------------------------------------------------------

PALETTE = [bytes([v, v, v]) for v in (0, 128, 255)] + [bytes([100, 124, 100]),
                                                        bytes([100, 125, 100])]


def random_body(rng: random.Random, width: int, height: int, bpp: int) -> bytes:
    def pixel() -> bytes:
        if bpp == 3:
            return rng.choice(PALETTE)
        return bytes(rng.choice((0, 9, 200)) for _ in range(bpp))
    out = bytearray()
    y = 0
    while y < height:
        r = rng.randint(0, min(255, height - y - 1))
        out.append(r)
        y += r + 1
        x = 0
        while x < width:
            kind = rng.random()
            if kind < 0.05:
                out.append(128)
                break
            n = rng.randint(1, min(128, width - x))
            if kind < 0.5 or n == 1:
                out += bytes([n - 1]) + pixel()
            else:
                out += bytes([257 - n]) + b"".join(pixel() for _ in range(n))
            x += n
    return bytes(out)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), fmt=st.sampled_from(["image/pwg-raster", "image/urf"]),
       damage=st.integers(0, 3))
def test_random_streams(tmp_path_factory: pytest.TempPathFactory, seed: int, fmt: str,
                        damage: int) -> None:
    rng = random.Random(seed)
    pages = []
    for _ in range(rng.randint(1, 3)):
        width, height = rng.randint(1, 300), rng.randint(1, 40)
        bpp = rng.choice((1, 3, 3, 4, 6, 8))
        body = random_body(rng, width, height, bpp)
        space = rng.choice((19, 18)) if fmt == "image/pwg-raster" else rng.choice((1, 0))
        make = pwg_page if fmt == "image/pwg-raster" else urf_page
        pages.append(make(width, height, bpp, body, space))
    data = bytearray((pwg if fmt == "image/pwg-raster" else urf)(*pages))
    for _ in range(damage):                 # 0: a valid stream; else bytes overwritten or cut
        if rng.random() < 0.3 and len(data) > 1:  # (a cut keeps at least one byte)
            del data[rng.randrange(1, len(data)):]
        else:
            data[rng.randrange(len(data))] = rng.randrange(256)
    got = walk_all_ways(bytes(data), fmt, tmp_path_factory.getbasetemp() / "random.bin")
    if damage == 0:
        assert len(pages_of(got)) == len(pages)


def test_pwg_black_1_is_walked(tmp_path: Path) -> None:
    # IPP Everywhere's black_1 (PWG 5100.14 §4.3): 1 bit per pixel, cupsColorSpace 3 (K); a
    # 100-pixel line is 13 bytes, compressed in units of one byte (PWG 5102.4 §5.3).
    h = bytearray(raster.PWG_HEADER)
    struct.pack_into(">II", h, 276, 300, 300)
    struct.pack_into(">8I", h, 372, 100, 3, 0, 1, 1, 13, 0, 3)
    line = b"\x0c\xff"                            # 13 copies of 0xff
    body = b"\x01" + line + b"\x00" + line        # two lines, then one
    got = walk_all_ways(pwg(bytes(h) + body, bytes(h) + body), "image/pwg-raster",
                        tmp_path / "b1.pwg")
    assert [(p.bits_per_pixel, p.colour) for p in pages_of(got)] == [(1, False), (1, False)]
    # A line of 14 units would cross the 13-byte line: refused, with its offset.
    bad = pwg(bytes(h) + b"\x00\x0d\xff")
    assert walk_all_ways(bad, "image/pwg-raster", tmp_path / "bad.pwg")[0] == "error"
