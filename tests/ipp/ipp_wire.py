"""Hand-written wire helpers for the IPP tests (independent of the encoder under test)."""

from __future__ import annotations


def header(version: tuple[int, int] = (1, 1), code: int = 0x0002, request_id: int = 1) -> bytes:
    return bytes(version) + code.to_bytes(2, "big") + request_id.to_bytes(4, "big", signed=True)


def tok(tag: int, name: str | bytes, value: bytes | str = b"") -> bytes:
    """One attribute token: tag, name-length, name, value-length, value."""
    n = name.encode() if isinstance(name, str) else name
    v = value.encode() if isinstance(value, str) else value
    return bytes((tag,)) + len(n).to_bytes(2, "big") + n + len(v).to_bytes(2, "big") + v


def i32(value: int) -> bytes:
    return value.to_bytes(4, "big", signed=True)


def op_prologue(charset: str = "utf-8", language: str = "en") -> bytes:
    """Operation group with attributes-charset and attributes-natural-language."""
    return (
        b"\x01"
        + tok(0x47, "attributes-charset", charset)
        + tok(0x48, "attributes-natural-language", language)
    )


def member(name: str) -> bytes:
    return tok(0x4A, "", name)


BEGIN = tok(0x34, "")
END = tok(0x37, "")
