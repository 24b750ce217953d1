"""The checks and normal forms of a user's edit-page fields (SavaPage manual, "Users",
§4.4.4: e-mail, card number, ID number, PIN, internal password). No I/O.

- E-mail addresses are entered as one text separated by space, comma, semicolon, CR or
  LF; the first is the primary one. Kept in lower case (the uniqueness test compares them
  so).
- A card number is stored as upper-case hexadecimal in LSB (least significant byte first)
  order; readers report decimal or hexadecimal, MSB or LSB first, so the entered form is
  converted (:func:`card_number`).
- A PIN is digits only, ``pin_length_min``..``pin_length_max`` long (0: no maximum).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ippproxy.accounting.errors import InvalidOperation

_SPLIT = re.compile(r"[ ,;\r\n]+")
# RFC 5321 §4.5.3.1.3: a path is at most 256 octets; a local part and a domain, one "@".
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})\.[A-Za-z0-9-]{2,63}")
CARD_MAX_BYTES = 32  # the column holds 64 hexadecimal digits
ID_NUMBER_MAX = 64


class FieldError(InvalidOperation):
    """A value refused; ``field`` names it (``"email"``, ``"card-number"``, ``"pin"``)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class CardFormat(enum.StrEnum):
    HEX = "hex"
    DECIMAL = "dec"


class ByteOrder(enum.StrEnum):
    LSB = "lsb"  # least significant byte first: the stored form
    MSB = "msb"


@dataclass(frozen=True)
class Lengths:
    """The options bounding the fields (``users.*`` in the configuration)."""

    pin_min: int = 4
    pin_max: int = 0  # 0 = no maximum
    id_number_min: int = 0
    password_min: int = 8


def emails(text: str) -> tuple[str, ...]:
    """The addresses of one entry, primary first, lower-cased, duplicates dropped."""
    out: list[str] = []
    for raw in _SPLIT.split(text.strip()):
        if not raw:
            continue
        if len(raw) > 254 or not _EMAIL.fullmatch(raw):
            raise FieldError("email", f"not an e-mail address: {raw[:80]!r}")
        address = raw.lower()
        if address not in out:
            out.append(address)
    return tuple(out)


def card_number(raw: str, fmt: CardFormat = CardFormat.HEX,
                order: ByteOrder = ByteOrder.LSB) -> str | None:
    """The stored form (hexadecimal, LSB first) of a card number as a reader reported it;
    ``None`` for an empty entry. The entry, hexadecimal or decimal, is a number whose bytes
    (written as the number is, highest first) are the card's bytes in the order the reader
    reports them; ``order`` says whether that is MSB or LSB first: MSB is reversed."""
    text = raw.strip().replace(" ", "").replace(":", "")
    if not text:
        return None
    if fmt == CardFormat.DECIMAL:
        if not text.isascii() or not text.isdigit():
            raise FieldError("card-number", "a decimal card number is digits only")
        value = int(text)
        data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    else:
        if not re.fullmatch(r"[0-9A-Fa-f]+", text):
            raise FieldError("card-number", "a hexadecimal card number is 0-9 and A-F only")
        if len(text) % 2:
            text = "0" + text
        data = bytes.fromhex(text)
    if len(data) > CARD_MAX_BYTES:
        raise FieldError("card-number", f"at most {CARD_MAX_BYTES} bytes")
    if order == ByteOrder.MSB:
        data = data[::-1]
    return data.hex().upper()


def id_number(raw: str, lengths: Lengths) -> str | None:
    text = raw.strip()
    if not text:
        return None
    if len(text) < lengths.id_number_min:
        raise FieldError("id-number", f"at least {lengths.id_number_min} characters")
    if len(text) > ID_NUMBER_MAX or not text.isprintable():
        raise FieldError("id-number", f"at most {ID_NUMBER_MAX} printable characters")
    return text


def pin(raw: str, lengths: Lengths) -> str:
    if not raw.isascii() or not raw.isdigit():
        raise FieldError("pin", "digits only")
    if len(raw) < lengths.pin_min:
        raise FieldError("pin", f"at least {lengths.pin_min} digits")
    if lengths.pin_max and len(raw) > lengths.pin_max:
        raise FieldError("pin", f"at most {lengths.pin_max} digits")
    return raw


def password(raw: str, lengths: Lengths) -> str:
    if len(raw) < lengths.password_min:
        raise FieldError("password", f"at least {lengths.password_min} characters")
    if len(raw) > 1024:
        raise FieldError("password", "at most 1024 characters")
    return raw
