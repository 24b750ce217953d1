"""The decoder's limits at and one past each bound, and the IPP versions a request may carry.

Each limit of ``ipp/limits.py`` is exercised with the default ``Limits()`` (what the
server decodes requests with, except ``max_section``, which it takes from its config): a
message exactly at the bound decodes, one byte (or one value, one level) more is refused
with the status a server answers. Moving a default by one therefore fails a test here.
The accepted versions are written out (RFC 8011 §4.1.8; PWG 5100.12 for 2.0-2.2), not taken
from ``SUPPORTED_VERSIONS``, so that dropping one from the accepted set fails too.
"""

from __future__ import annotations

import pytest
from ipp_wire import BEGIN, END, header, member, op_prologue, tok

from ippproxy.ipp import DecodeError, Limits, Message, Status, decode
from ippproxy.ipp.validate import RequestError, check_request

DEFAULT = Limits()
KEYWORD = 0x44
TEXT = 0x41


def _message(*tokens: bytes, version: tuple[int, int] = (2, 0)) -> bytes:
    return header(version) + op_prologue() + b"".join(tokens) + b"\x03"


def _refused(data: bytes, limits: Limits = DEFAULT) -> DecodeError:
    with pytest.raises(DecodeError) as e:
        decode(data, limits)
    return e.value


def test_the_defaults_are_the_documented_ones() -> None:
    assert (DEFAULT.max_section, DEFAULT.max_depth, DEFAULT.max_value_length,
            DEFAULT.max_name_length, DEFAULT.max_values) == (1 << 20, 10, 32767, 32767, 65536)


def test_name_length_at_the_limit_and_one_past() -> None:
    at = "n" * DEFAULT.max_name_length
    msg = decode(_message(tok(KEYWORD, at, "x")))
    assert msg.groups[0].attributes[-1].name == at
    # one past the default is the sign bit of RFC 8010's SIGNED-SHORT
    assert _refused(_message(tok(KEYWORD, at + "n", "x"))).status == \
        Status.CLIENT_ERROR_BAD_REQUEST
    # and one past a lower limit is "value too long" (the same check, any bound)
    lower = Limits(max_name_length=100)
    decode(_message(tok(KEYWORD, "n" * 100, "x")), lower)
    e = _refused(_message(tok(KEYWORD, "n" * 101, "x")), lower)
    assert e.status == Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG and "name length 101" in str(e)


def test_value_length_at_the_limit_and_one_past() -> None:
    at = "v" * DEFAULT.max_value_length
    msg = decode(_message(tok(TEXT, "job-name", at)))
    assert msg.groups[0].attributes[-1].value == at
    assert _refused(_message(tok(TEXT, "job-name", at + "v"))).status == \
        Status.CLIENT_ERROR_BAD_REQUEST
    lower = Limits(max_value_length=100)
    decode(_message(tok(TEXT, "job-name", "v" * 100)), lower)
    e = _refused(_message(tok(TEXT, "job-name", "v" * 101)), lower)
    assert e.status == Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG and "value length 101" in str(e)


def _sized(total: int) -> bytes:
    """A message whose bytes through end-of-attributes are exactly ``total``."""
    empty = _message(tok(TEXT, "job-name", ""))
    filler = total - len(empty)
    chunks, last = divmod(filler, 32767 + 13)   # tok overhead: 1 + 2 + 8 ("job-name") + 2
    tokens = [tok(TEXT, "job-name", "x" * 32767) for _ in range(chunks)]
    tokens.append(tok(TEXT, "job-name", "x" * last))
    data = _message(*tokens)
    assert len(data) == total
    return data


def test_section_size_at_the_limit_and_one_past() -> None:
    decode(_sized(DEFAULT.max_section), DEFAULT)
    e = _refused(_sized(DEFAULT.max_section + 1))
    assert e.status == Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE


def test_value_count_at_the_limit_and_one_past() -> None:
    # the two prologue attributes count: fill up to exactly max_values values
    more = [tok(KEYWORD, "", "k") for _ in range(DEFAULT.max_values - 3)]
    decode(_message(tok(KEYWORD, "requested-attributes", "k"), *more))
    e = _refused(_message(tok(KEYWORD, "requested-attributes", "k"), *more,
                          tok(KEYWORD, "", "k")))
    assert e.status == Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE


def _nested(depth: int) -> bytes:
    inner = BEGIN if depth else b""
    body = tok(0x34, "media-col")
    for _ in range(depth - 1):
        body += member("m") + inner
    body += member("x") + tok(0x44, "", "y")
    body += END * depth
    return _message(body)


def test_collection_depth_at_the_limit_and_one_past() -> None:
    decode(_nested(DEFAULT.max_depth))
    e = _refused(_nested(DEFAULT.max_depth + 1))
    assert "nested deeper than 10" in str(e)


ACCEPTED = [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
REFUSED = [(0, 9), (0, 0), (1, 2), (2, 3), (3, 0), (9, 9)]


@pytest.mark.parametrize("version", ACCEPTED, ids=lambda v: f"{v[0]}.{v[1]}")
def test_versions_accepted(version: tuple[int, int]) -> None:
    msg = decode(_message(tok(KEYWORD, "requested-attributes", "all"), version=version))
    assert msg.version == version
    check_request(msg)


@pytest.mark.parametrize("version", REFUSED, ids=lambda v: f"{v[0]}.{v[1]}")
def test_versions_refused(version: tuple[int, int]) -> None:
    msg: Message = decode(_message(version=version))
    with pytest.raises(RequestError) as e:
        check_request(msg)
    assert e.value.status == Status.SERVER_ERROR_VERSION_NOT_SUPPORTED
    assert f"{version[0]}.{version[1]}" in e.value.message
