"""Property-based round trips: encode/decode identity, byte exactness, any chunking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ipp_strategies import MESSAGES
from support.soak import examples

from ippproxy.ipp import Decoder, Message, decode, encode


@settings(max_examples=examples(200), deadline=None)
@given(MESSAGES)
def test_encode_decode_identity(message: Message) -> None:
    wire = encode(message)
    decoded = decode(wire)
    assert decoded == message
    assert encode(decoded) == wire


@settings(max_examples=examples(150), deadline=None)
@given(MESSAGES, st.binary(max_size=40), st.data())
def test_any_chunking(message: Message, document: bytes, data: st.DataObject) -> None:
    wire = encode(message) + document
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    decoder = Decoder()
    result = None
    fed = 0
    for chunk in chunks:
        result = decoder.feed(chunk)
        fed += len(chunk)
        if result is not None:
            break
    assert result == message
    assert decoder.rest + wire[fed:] == document
    assert decoder.close() == message


@settings(max_examples=examples(50), deadline=None)
@given(MESSAGES)
def test_one_byte_at_a_time(message: Message) -> None:
    wire = encode(message)
    decoder = Decoder()
    results = [decoder.feed(wire[i:i + 1]) for i in range(len(wire))]
    assert all(r is None for r in results[:-1])
    assert results[-1] == message
    assert decoder.rest == b""
