"""Cost models: the price of a job, exactly.

Theory of operation
-------------------
A job's counts (:class:`JobCounts`, from ``ippproxy.filters``, copies already
multiplied in) are one :class:`MediaCount` per media size: monochrome and colour
impressions, physical sheets, and how many of those monochrome and colour
impressions landed on two-sided sheets (a sheet with both sides printed; the last
sheet of an odd two-sided run, or of a media change, has its front only and is
one-sided). The layout that decides where an impression lands (page-ranges,
number-up, sides, copies, media changes) is ``ippproxy.filters.counts``.

A :class:`CostModel` (one per printer) gives a :class:`MediaPrice` per media size
(or its default), a duplex discount and a per-job fee; a group multiplier scales
the whole. Arithmetic is exact rational arithmetic (:class:`fractions.Fraction`:
integers inside, never a float). Prices may be fractional minor units (3.5 cents
per page is ``Fraction(7, 2)``; parse decimal strings with :func:`parse_amount`).

    per media size:   base     = mono * mono_price + colour * colour_price
                      discount = (mono_duplexed * mono_price
                                  + colour_duplexed * colour_price) * duplex_discount
    job:              exact    = (fee + sum(base - discount)) * multiplier
    price             = round_half_up(exact)      (the only rounding, once per job, at the end)

so each impression is priced by where it lands: its media's mono or colour price,
less ``duplex_discount`` of it when its sheet is two-sided. ``round_half_up``
rounds to the nearest minor unit with halves going up (prices are never
negative). ``duplex_discount`` is a fraction in [0, 1] (0.2 = 20 % off those
impressions).

The sum is taken in integers: each model keeps its prices once as numerators over
one common denominator (``CostModel.scaled``), so a job's exact price is one
numerator and one denominator, and the rounding an integer division. It is the same
rational number as the formula above in :class:`~fractions.Fraction` arithmetic
(tests/accounting/test_acct_cost.py checks it against that), at a fraction of the
cost: a Fraction operation normalises by a gcd each time, and a job is priced at
intake on the event loop and again in its reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from math import lcm

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
    return _half_up(value.numerator, value.denominator)


def _half_up(num: int, den: int) -> int:
    """:func:`round_half_up` of ``num / den`` (``den > 0``), in integers."""
    return (2 * num + den) // (2 * den)


@dataclass(frozen=True)
class MediaCount:
    """Counts for one media size over the whole job (copies included).

    ``mono_duplexed`` / ``color_duplexed``: the monochrome / colour impressions on
    two-sided sheets; together always ``2 * (impressions - sheets)``. They may be left
    out only where that total decides them (one kind of impression, or none or all
    duplexed); otherwise where the colour lands is unknown and ValueError says so.
    """

    media: str  # PWG 5101.1 self-describing name, e.g. "iso_a4_210x297mm"
    mono: int  # monochrome impressions (PWG 5100.11 job-impressions-monochrome)
    color: int  # colour impressions
    sheets: int  # physical sheets (job-media-sheets)
    mono_duplexed: int | None = None  # monochrome impressions on two-sided sheets
    color_duplexed: int | None = None  # colour impressions on two-sided sheets

    def __post_init__(self) -> None:
        if min(self.mono, self.color, self.sheets) < 0:
            raise ValueError("counts must not be negative")
        impressions = self.mono + self.color
        if impressions and not (impressions + 1) // 2 <= self.sheets <= impressions:
            raise ValueError("sheets must be between impressions/2 and impressions")
        if not impressions and self.sheets:
            raise ValueError("sheets without impressions")
        mono_d, color_d = _two_sided_split(self)
        object.__setattr__(self, "mono_duplexed", mono_d)
        object.__setattr__(self, "color_duplexed", color_d)

    @property
    def impressions(self) -> int:
        return self.mono + self.color

    @property
    def duplexed(self) -> int:
        """Impressions printed on two-sided sheets."""
        return 2 * (self.impressions - self.sheets) if self.impressions else 0


def _two_sided_split(mc: MediaCount) -> tuple[int, int]:
    """(mono, colour) impressions on two-sided sheets: as given, or where the total decides."""
    duplexed = 2 * (mc.mono + mc.color - mc.sheets)
    mono_d, color_d = mc.mono_duplexed, mc.color_duplexed
    if mono_d is None and color_d is None:
        if duplexed not in (0, mc.mono + mc.color) and mc.mono and mc.color:
            raise ValueError("mono_duplexed and color_duplexed are needed: "
                             "where the colour impressions land is unknown")
        color_d = min(mc.color, duplexed)
        mono_d = duplexed - color_d
    elif mono_d is None and color_d is not None:
        mono_d = duplexed - color_d
    elif color_d is None and mono_d is not None:
        color_d = duplexed - mono_d
    if mono_d is None or color_d is None or not (
            0 <= mono_d <= mc.mono and 0 <= color_d <= mc.color
            and mono_d + color_d == duplexed):
        raise ValueError("impressions on two-sided sheets must be "
                         "2 * (impressions - sheets), split between mono and colour")
    return mono_d, color_d


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

        The monochrome pages come first, the colour pages last. Duplex: each copy
        uses ceil(pages / 2) sheets; an odd last page (colour when there is one, so
        an estimate never undercharges) is alone on a one-sided sheet.
        """
        pages = mono_pages + color_pages
        sheets_per_copy = (pages + 1) // 2 if duplex else pages
        lone = duplex and pages % 2 == 1
        color_d = color_pages - (1 if lone and color_pages else 0) if duplex else 0
        mono_d = mono_pages - (1 if lone and not color_pages else 0) if duplex else 0
        return cls((MediaCount(media, mono_pages * copies, color_pages * copies,
                               sheets_per_copy * copies, mono_d * copies,
                               color_d * copies),))


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

    @cached_property
    def scaled(self) -> _Scaled:
        """The prices as integers over one denominator (the module's docstring)."""
        prices = [self.default, *self.by_media.values()]
        den = lcm(Fraction(self.job_fee).denominator,
                  *(Fraction(x).denominator for p in prices for x in (p.mono, p.color)))

        def ints(p: MediaPrice) -> tuple[int, int]:
            return int(Fraction(p.mono) * den), int(Fraction(p.color) * den)
        discount = Fraction(self.duplex_discount)
        return _Scaled(den, int(Fraction(self.job_fee) * den), ints(self.default),
                       {m: ints(p) for m, p in self.by_media.items()},
                       discount.numerator, discount.denominator)


@dataclass(frozen=True)
class _Scaled:
    den: int                                  # every price below is over it
    fee: int
    default: tuple[int, int]                  # (mono, colour)
    by_media: Mapping[str, tuple[int, int]]
    discount_num: int
    discount_den: int


FREE = CostModel()
FULL_PRICE = Fraction(1)


def _exact(counts: JobCounts, model: CostModel, multiplier: Fraction) -> tuple[int, int]:
    """The exact price as (numerator, denominator > 0), not reduced."""
    if multiplier < 0:
        raise ValueError("multiplier must not be negative")
    m = model.scaled
    r, s = m.discount_num, m.discount_den
    # Over m.den * s: the fee, each impression at its price, less r/s of it when two-sided.
    total = m.fee * s if counts.impressions else 0
    for mc in counts.per_media:
        if not mc.impressions:
            continue
        mono, colour = m.by_media.get(mc.media, m.default)
        on_two_sided = _known(mc.mono_duplexed) * mono + _known(mc.color_duplexed) * colour
        total += (mc.mono * mono + mc.color * colour) * s - on_two_sided * r
    return total * multiplier.numerator, m.den * s * multiplier.denominator


def exact_price(counts: JobCounts, model: CostModel,
                multiplier: Fraction = FULL_PRICE) -> Fraction:
    """The exact (unrounded) price in minor units."""
    return Fraction(*_exact(counts, model, multiplier))


def _known(n: int | None) -> int:
    """A field ``MediaCount.__post_init__`` always fills in."""
    if n is None:
        raise ValueError("MediaCount without its two-sided split")
    return n


def price(counts: JobCounts, model: CostModel, multiplier: Fraction = FULL_PRICE) -> int:
    """The price of a job in integer minor units (see the module docstring for the rule)."""
    return _half_up(*_exact(counts, model, multiplier))


def fee_part(counts: JobCounts, model: CostModel, multiplier: Fraction = FULL_PRICE) -> int:
    """The fixed (per-job fee) part of :func:`price`, rounded the same way."""
    if not counts.impressions:
        return 0
    m = model.scaled
    return _half_up(m.fee * multiplier.numerator, m.den * multiplier.denominator)


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
