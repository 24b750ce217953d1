"""Fuzz: arbitrary and mutated input makes the decoder raise DecodeError and nothing else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ipp_strategies import MESSAGES
from support.soak import examples

from ippproxy.ipp import DecodeError, Decoder, Limits, Message, encode

DEFAULT = Limits()
SMALL = Limits(max_section=4096, max_depth=4, max_value_length=512, max_values=200)


def _check(data: bytes, limits: Limits = DEFAULT) -> None:
    decoder = Decoder(limits)
    try:
        message = decoder.feed(data)
        if message is None:
            decoder.close()
            raise AssertionError("close() returned without a message")
    except DecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        assert 0x0400 <= exc.status <= 0x04FF
        return
    # Whatever decodes re-encodes to exactly the attribute section.
    section = len(data) - len(decoder.rest)
    assert encode(message) == data[:section]


@settings(max_examples=examples(400), deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _check(data)
    _check(data, SMALL)


@settings(max_examples=examples(400), deadline=None)
@given(st.binary(min_size=8, max_size=8), st.lists(
    st.sampled_from([b"\x01", b"\x02", b"\x03", b"\x04", b"\x34\x00\x00\x00\x00",
                     b"\x37\x00\x00\x00\x00", b"\x4a\x00\x00\x00\x01m",
                     b"\x21\x00\x01a\x00\x04\x00\x00\x00\x01", b"\x21\x00\x00\x00\x00"]),
    max_size=20))
def test_token_soup(head: bytes, tokens: list[bytes]) -> None:
    _check(head + b"".join(tokens))


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, st.data())
def test_mutated_messages(message: Message, data: st.DataObject) -> None:
    wire = bytearray(encode(message))
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = data.draw(st.integers(0, max(0, len(wire) - 1)))
        if kind == "flip" and wire:
            wire[pos] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            wire[pos:pos] = data.draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete" and wire:
            del wire[pos]
        elif kind == "truncate":
            del wire[pos:]
    _check(bytes(wire))
    _check(bytes(wire), SMALL)
