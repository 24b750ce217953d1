"""Formatting integer minor units for people (never for arithmetic)."""

from __future__ import annotations


def format_money(minor: int, currency: str, exponent: int = 2) -> str:
    """``format_money(-1234, "EUR") == "-12.34 EUR"``; exact, no float."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** exponent)
    body = f"{whole}.{frac:0{exponent}d}" if exponent else str(whole)
    return f"{sign}{body} {currency}"


def parse_money(text: str, exponent: int = 2) -> int:
    """``"-12.34"`` -> ``-1234``; at most ``exponent`` decimals, else ``ValueError``."""
    s = text.strip()
    neg = s.startswith("-")
    if neg or s.startswith("+"):
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > exponent:
        raise ValueError(f"not an amount with at most {exponent} decimals: {text!r}")
    value: int = int(whole) * 10 ** exponent + int(frac.ljust(exponent, "0") or 0)
    return -value if neg else value
