"""Amounts of money: parsing what people type, formatting for people (never for arithmetic).

Every amount is an integer number of minor units (cents for EUR). What people type is
parsed here, by the command tool (cmd.py) and from the configuration
(pipeline/settings.py), with the same rules:

* ASCII digits only: ``"10.50"``; fullwidth ``"１０"`` or other Unicode digits are refused,
  as are exponents, spaces inside, and more decimals than the currency has;
* at most :data:`MAX_AMOUNT` minor units in any one amount, and no balance beyond
  :data:`MAX_BALANCE` (ledger.py): a signed 64-bit column (PostgreSQL ``bigint``, SQLite
  ``INTEGER``) holds up to 9 223 372 036 854 775 807, so the sum of thousands of
  maximal amounts still fits.
"""

from __future__ import annotations

import re
from fractions import Fraction

# The largest amount accepted anywhere, in minor units (9 999 999 999 999.99 EUR).
MAX_AMOUNT = 10**15 - 1
# The largest balance, either sign, in minor units: room for 9 000 maximal amounts
# below the int64 limit.
MAX_BALANCE = 10**18 - 1
# A decimal in ASCII digits (re.ASCII: \d would match fullwidth and other digits).
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_MAX_DIGITS = 40  # longer strings are refused before any arithmetic


def format_money(minor: int, currency: str, exponent: int = 2) -> str:
    """``format_money(-1234, "EUR") == "-12.34 EUR"``; exact, no float."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** exponent)
    body = f"{whole}.{frac:0{exponent}d}" if exponent else str(whole)
    return f"{sign}{body} {currency}"


def _maximum(exponent: int) -> str:
    return format_money(MAX_AMOUNT, "", exponent).strip()


def parse_decimal(text: str) -> Fraction:
    """``"0.035"`` -> ``Fraction(7, 200)``: exact, non-negative, ASCII digits only
    (prices and multipliers may have more decimals than the currency)."""
    if not isinstance(text, str):
        raise TypeError(f"not a decimal amount: {text!r}")
    s = text.strip()
    m = _DECIMAL.fullmatch(s) if len(s) <= _MAX_DIGITS else None
    if m is None:
        raise ValueError(f"not a decimal amount in ASCII digits: {text!r}")
    whole, frac = m.group(1), m.group(2) or ""
    return Fraction(int(whole + frac), 10 ** len(frac))


def parse_money(text: str, exponent: int = 2) -> int:
    """``"-12.34"`` -> ``-1234``: a sign, ASCII digits, at most ``exponent`` decimals, at
    most :data:`MAX_AMOUNT` minor units either way; else ``ValueError`` (one line)."""
    s = text.strip()
    neg = s.startswith("-")
    if neg or s.startswith("+"):
        s = s[1:]
    m = _DECIMAL.fullmatch(s) if len(s) <= _MAX_DIGITS else None
    if m is None or len(m.group(2) or "") > exponent:
        raise ValueError(f"not an amount in ASCII digits with at most {exponent} "
                         f"decimals: {text!r}")
    whole, frac = m.group(1), m.group(2) or ""
    value: int = int(whole) * 10 ** exponent + int(frac.ljust(exponent, "0") or 0)
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {text.strip()!r} is above the maximum {_maximum(exponent)}")
    return -value if neg else value


def check_amount(value: int, exponent: int = 2, what: str = "amount") -> int:
    """``value`` (minor units) if within :data:`MAX_AMOUNT` either way, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be integer minor units, not {value!r}")
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"{what} is above the maximum {_maximum(exponent)}")
    return value
