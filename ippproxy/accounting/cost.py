"""Cost models: the price of a job, exactly.

Theory of operation
-------------------
A job's counts (:class:`JobCounts`, from ``ippproxy.filters``, copies already
multiplied in) are one :class:`MediaCount` per media size: monochrome and colour
impressions and physical sheets. A :class:`CostModel` (one per printer) gives a
:class:`MediaPrice` per media size (or its default), a duplex discount and a
per-job fee; a group multiplier scales the whole.

Arithmetic is exact rational arithmetic (:class:`fractions.Fraction`: integers
inside, never a float). Prices may be fractional minor units (3.5 cents per page
is ``Fraction(7, 2)``; parse decimal strings with :func:`parse_amount`).

    per media size:   base     = mono * mono_price + colour * colour_price
                      duplexed = impressions printed on two-sided sheets
                               = 2 * (impressions - sheets)
                      discount = base * duplexed / impressions * duplex_discount
    job:              exact    = (fee + sum(base - discount)) * multiplier
    price             = round_half_up(exact)      (the only rounding, once, at the end)

``round_half_up`` rounds to the nearest minor unit with halves going up
(prices are never negative). ``duplex_discount`` is a fraction in [0, 1] of the
price of impressions on two-sided sheets (0.2 = 20 % off those impressions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from ippproxy.accounting.money import parse_decimal

Amount = Fraction


def parse_amount(text: str | int) -> Fraction:
    """``"0.035"`` -> ``Fraction(7, 200)``: exact, from a non-negative decimal string in
    ASCII digits (money.parse_decimal) or a non-negative int."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("amount must not be negative")
        return Fraction(text)
    if not isinstance(text, str):
        raise TypeError(f"not a decimal amount: {text!r}")
    return parse_decimal(text)


def round_half_up(value: Fraction) -> int:
    """Nearest integer, halves up: 2.5 -> 3, 2.4999 -> 2 (for value >= 0)."""
    return int((value * 2 + 1) // 2)


@dataclass(frozen=True)
class MediaCount:
    """Counts for one media size over the whole job (copies included)."""

    media: str  # PWG 5101.1 self-describing name, e.g. "iso_a4_210x297mm"
    mono: int  # monochrome impressions (PWG 5100.11 job-impressions-monochrome)
    color: int  # colour impressions
    sheets: int  # physical sheets (job-media-sheets)

    def __post_init__(self) -> None:
        if min(self.mono, self.color, self.sheets) < 0:
            raise ValueError("counts must not be negative")
        impressions = self.mono + self.color
        if impressions and not (impressions + 1) // 2 <= self.sheets <= impressions:
            raise ValueError("sheets must be between impressions/2 and impressions")

    @property
    def impressions(self) -> int:
        return self.mono + self.color

    @property
    def duplexed(self) -> int:
        """Impressions printed on two-sided sheets."""
        return 2 * (self.impressions - self.sheets) if self.impressions else 0


@dataclass(frozen=True)
class JobCounts:
    per_media: tuple[MediaCount, ...] = ()

    @property
    def impressions(self) -> int:
        return sum(m.impressions for m in self.per_media)

    @property
    def color_impressions(self) -> int:
        return sum(m.color for m in self.per_media)

    @property
    def sheets(self) -> int:
        return sum(m.sheets for m in self.per_media)

    @classmethod
    def simple(cls, mono_pages: int, color_pages: int = 0, *, copies: int = 1,
               duplex: bool = False, media: str = "iso_a4_210x297mm") -> JobCounts:
        """Counts of one document of ``mono_pages + color_pages`` pages, ``copies`` times.

        Duplex: each copy uses ceil(pages / 2) sheets (an odd last page is simplex).
        """
        pages = mono_pages + color_pages
        sheets_per_copy = (pages + 1) // 2 if duplex else pages
        return cls((MediaCount(media, mono_pages * copies, color_pages * copies,
                               sheets_per_copy * copies),))


@dataclass(frozen=True)
class MediaPrice:
    mono: Fraction = Fraction(0)  # minor units per monochrome impression
    color: Fraction = Fraction(0)  # minor units per colour impression


@dataclass(frozen=True)
class CostModel:
    default: MediaPrice = MediaPrice()
    by_media: Mapping[str, MediaPrice] = field(default_factory=dict)
    duplex_discount: Fraction = Fraction(0)  # in [0, 1]
    job_fee: Fraction = Fraction(0)  # minor units per job

    def __post_init__(self) -> None:
        if not 0 <= self.duplex_discount <= 1:
            raise ValueError("duplex_discount must be between 0 and 1")
        prices = [self.default, *self.by_media.values()]
        if self.job_fee < 0 or any(p.mono < 0 or p.color < 0 for p in prices):
            raise ValueError("prices must not be negative")

    def media_price(self, media: str) -> MediaPrice:
        return self.by_media.get(media, self.default)


FREE = CostModel()
FULL_PRICE = Fraction(1)


def exact_price(counts: JobCounts, model: CostModel,
                multiplier: Fraction = FULL_PRICE) -> Fraction:
    """The exact (unrounded) price in minor units."""
    if multiplier < 0:
        raise ValueError("multiplier must not be negative")
    total = Fraction(model.job_fee) if counts.impressions else Fraction(0)
    for mc in counts.per_media:
        if not mc.impressions:
            continue
        p = model.media_price(mc.media)
        base = mc.mono * Fraction(p.mono) + mc.color * Fraction(p.color)
        discount = base * mc.duplexed / mc.impressions * Fraction(model.duplex_discount)
        total += base - discount
    return total * multiplier


def price(counts: JobCounts, model: CostModel, multiplier: Fraction = FULL_PRICE) -> int:
    """The price of a job in integer minor units (see the module docstring for the rule)."""
    return round_half_up(exact_price(counts, model, multiplier))


def fee_part(counts: JobCounts, model: CostModel, multiplier: Fraction = FULL_PRICE) -> int:
    """The fixed (per-job fee) part of :func:`price`, rounded the same way."""
    return round_half_up(Fraction(model.job_fee) * multiplier) if counts.impressions else 0


def group_multiplier(groups: Iterable[str], multipliers: Mapping[str, Fraction]) -> Fraction:
    """The most favourable multiplier among the user's groups; 1 if none is listed."""
    found = [Fraction(multipliers[g]) for g in groups if g in multipliers]
    return min(found) if found else FULL_PRICE


@dataclass(frozen=True)
class Pricing:
    """Cost models per printer (queue name) plus group multipliers."""

    models: Mapping[str, CostModel] = field(default_factory=dict)
    default: CostModel = FREE
    multipliers: Mapping[str, Fraction] = field(default_factory=dict)  # canonical group names

    def model_for(self, printer: str) -> CostModel:
        return self.models.get(printer, self.default)

    def price(self, printer: str, groups: Iterable[str], counts: JobCounts) -> int:
        return price(counts, self.model_for(printer), group_multiplier(groups, self.multipliers))
