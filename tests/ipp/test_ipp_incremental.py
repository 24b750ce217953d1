"""The incremental decoder: document bytes after the section, O(n) work for any chunking."""

from __future__ import annotations

from typing import Any

import pytest
from ipp_wire import header, op_prologue, tok

from ippproxy.ipp import Decoder, decode
from ippproxy.ipp import values as values_module

PRINT_JOB = (
    header((2, 0), 0x0002, 9) + op_prologue()
    + tok(0x45, "printer-uri", "ipp://localhost:8631/printers/default")
    + tok(0x42, "requesting-user-name", "alice") + tok(0x42, "job-name", "report.pdf")
    + tok(0x49, "document-format", "application/pdf")
    + b"\x02" + tok(0x21, "copies", (1).to_bytes(4, "big"))
    + tok(0x44, "sides", "two-sided-long-edge") + tok(0x44, "print-color-mode", "monochrome")
    + b"\x03"
)
DOCUMENT = b"%PDF-1.7\n" + bytes(range(256)) * 4


def test_rest_is_the_start_of_the_document() -> None:
    decoder = Decoder()
    assert decoder.feed(PRINT_JOB[:50]) is None
    message = decoder.feed(PRINT_JOB[50:] + DOCUMENT[:100])
    assert message is not None and decoder.message is message
    assert decoder.rest == DOCUMENT[:100]
    assert decoder.received == len(PRINT_JOB) + 100
    with pytest.raises(RuntimeError):
        decoder.feed(DOCUMENT[100:])
    assert decoder.close() is message


def test_decode_ignores_trailing_bytes() -> None:
    assert decode(PRINT_JOB + DOCUMENT) == decode(PRINT_JOB)


def test_empty_feeds_are_harmless() -> None:
    decoder = Decoder()
    assert decoder.feed(b"") is None
    assert decoder.feed(PRINT_JOB[:3]) is None
    assert decoder.feed(b"") is None
    assert decoder.feed(bytearray(PRINT_JOB[3:])) == decode(PRINT_JOB)
    assert decoder.header == ((2, 0), 2, 9)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_each_value_is_decoded_once(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """No re-parsing from the start: each value is converted once whatever the chunking, and
    an incomplete token costs a constant-time length check."""
    calls = 0
    for tag, convert in list(values_module._DECODERS.items()):

        def counting(t: int, d: bytes, s: bool, convert: Any = convert) -> Any:
            nonlocal calls
            calls += 1
            return convert(t, d, s)

        monkeypatch.setitem(values_module._DECODERS, tag, counting)
    decoder = Decoder()
    wire = PRINT_JOB + DOCUMENT
    for i in range(0, len(wire), chunk):
        if decoder.feed(wire[i:i + chunk]) is not None:
            break
    assert calls == 9  # the 9 attributes of PRINT_JOB
    assert decoder.rest + wire[i + chunk:] == DOCUMENT
