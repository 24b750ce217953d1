"""Format detection from the bytes; the client's document-format is only a hint."""

from __future__ import annotations

import pytest

from ippproxy.filters.detect import detect_format
from ippproxy.filters.errors import FormatError, UnsupportedFormat

SAMPLES = {
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\n1 0 obj",
    "application/PCLm": b"%PDF-1.7\n%PCLm 1.0\n",
    "application/postscript": b"%!PS-Adobe-3.0\n%%Pages: 1\n",
    "image/pwg-raster": b"RaS2PwgRaster\x00",
    "image/urf": b"UNIRAST\x00\x00\x00\x00\x01",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "application/vnd.hp-pclxl": b") HP-PCL XL;2;0;Comment\n\xd1",
    "application/vnd.hp-pcl": b"\x1bE\x1b&l0O",
    "text/plain": "Hello, wörld\n\fpage two\n".encode(),
}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_sniff(fmt: str) -> None:
    assert detect_format(SAMPLES[fmt], None) == fmt
    assert detect_format(SAMPLES[fmt], "application/octet-stream") == fmt
    assert detect_format(SAMPLES[fmt], fmt) == fmt


def test_pjl_wrapped() -> None:
    pjl = b"\x1b%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n%!PS\n"
    assert detect_format(pjl) == "application/postscript"
    pjl = b"\x1b%-12345X@PJL SET X=1\n@PJL ENTER LANGUAGE = PCLXL\n) HP-PCL XL;2;0\n"
    assert detect_format(pjl) == "application/vnd.hp-pclxl"
    with pytest.raises(UnsupportedFormat):
        detect_format(b"\x1b%-12345X@PJL ENTER LANGUAGE=PCLXL\n garbage")


def test_pdf_with_junk_before_header_and_ctrl_d_postscript() -> None:
    assert detect_format(b"\r\n\r\n%PDF-1.4\n") == "application/pdf"
    assert detect_format(b"\x04%!PS\n") == "application/postscript"


def test_hint_mismatch_is_a_format_error() -> None:
    with pytest.raises(FormatError) as e:
        detect_format(SAMPLES["image/jpeg"], "application/pdf")
    assert e.value.status == "client-error-document-format-error"
    with pytest.raises(FormatError):
        detect_format(SAMPLES["application/pdf"], "application/PCLm")
    assert detect_format(SAMPLES["application/PCLm"], "application/pdf") == "application/pdf"
    assert detect_format(SAMPLES["text/plain"], "text/plain; charset=utf-8") == "text/plain"


def test_unsupported() -> None:
    with pytest.raises(UnsupportedFormat) as e:
        detect_format(b"II*\x00\x08\x00", None)         # TIFF
    assert e.value.status == "client-error-document-format-not-supported"
    with pytest.raises(UnsupportedFormat):
        detect_format(SAMPLES["application/pdf"], "image/tiff")
    with pytest.raises(FormatError):
        detect_format(b"", None)
    with pytest.raises(UnsupportedFormat):
        detect_format(b"\x00\x01\x02binary", None)
