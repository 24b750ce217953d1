"""Decoder limits: a hostile client must not make the decoder allocate or recurse without bound."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds enforced while decoding; exceeding one raises :class:`DecodeError`.

    * ``max_section``: bytes from the start of the message through end-of-attributes
      (answer ``client-error-request-entity-too-large``).
    * ``max_depth``: collection nesting (libcups uses 10).
    * ``max_value_length`` / ``max_name_length``: RFC 8010 §3.1.3 lengths are SIGNED-SHORT,
      so 32767 is the wire maximum (answer ``client-error-request-value-too-long``).
    * ``max_values``: values in the whole message, collection members included.
    * ``strict_utf8``: reject invalid UTF-8 in text/name/keyword/uri/... values
      (``client-error-bad-request``); when False such a value is kept as ``bytes`` with its tag,
      which a client talking to quirky printers may prefer. Attribute names are always strict.
    """

    max_section: int = 1 << 20
    max_depth: int = 10
    max_value_length: int = 32767
    max_name_length: int = 32767
    max_values: int = 65536
    strict_utf8: bool = True
