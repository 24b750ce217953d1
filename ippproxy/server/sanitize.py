"""Untrusted text (from clients and from destination printers) made safe to store and echo.

Control characters (C0, DEL, C1) and the bidirectional embeddings, overrides and isolates
(U+202A-202E, U+2066-2069: text that displays other than it reads, CVE-2021-42574) are
stripped, except that ``keep_newlines`` keeps LF
for multi-line messages; lengths are capped at the IPP limits of RFC 8011 §5.1.2/§5.1.3
(text 1023 octets, name 255 octets) counted in UTF-8 bytes without splitting a character.
"""

from __future__ import annotations

import re

MAX_TEXT = 1023   # RFC 8011 §5.1.2 text(MAX)
MAX_NAME = 255    # RFC 8011 §5.1.3 name(MAX)
MAX_URI = 1023    # RFC 8011 §5.1.6 uri(MAX)

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cap_bytes(text: str, limit: int) -> str:
    """Cut ``text`` so that its UTF-8 encoding has at most ``limit`` bytes."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def clean_text(text: str, limit: int = MAX_TEXT, keep_newlines: bool = False) -> str:
    """Strip control characters and cap the length."""
    pattern = _CONTROL_NL if keep_newlines else _CONTROL
    return cap_bytes(pattern.sub("", text), limit)


def clean_name(text: str) -> str:
    return clean_text(text, MAX_NAME).strip()
