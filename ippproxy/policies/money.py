"""Money for messages (kept here so policies import nothing from accounting)."""

from __future__ import annotations


def money(minor: int, currency: str, exponent: int = 2) -> str:
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** exponent)
    return f"{sign}{whole}.{frac:0{exponent}d} {currency}" if exponent else f"{sign}{whole} {currency}"
