"""Cost arithmetic: exact, integer results, one documented rounding."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.soak import examples

from ippproxy.accounting.cost import (
    CostModel,
    JobCounts,
    MediaCount,
    MediaPrice,
    Pricing,
    exact_price,
    fee_part,
    group_multiplier,
    parse_amount,
    price,
    round_half_up,
)
from ippproxy.accounting.money import format_money, parse_money

A4 = "iso_a4_210x297mm"
A3 = "iso_a3_297x420mm"
MODEL = CostModel(default=MediaPrice(mono=Fraction(10), color=Fraction(50)),
                  by_media={A3: MediaPrice(mono=Fraction(20), color=Fraction(100))},
                  duplex_discount=parse_amount("0.2"), job_fee=Fraction(5))


def test_parse_amount_is_exact() -> None:
    assert parse_amount("0.035") == Fraction(7, 200)
    assert parse_amount("3") == 3
    assert parse_amount(4) == 4
    for bad in ("-1", "1e3", "abc", "0.1.2", ""):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_round_half_up() -> None:
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(249, 100)) == 2
    assert round_half_up(Fraction(7, 2)) == 4
    assert round_half_up(Fraction(0)) == 0


def test_simplex_mono_and_colour() -> None:
    counts = JobCounts.simple(3, 2)  # 3 mono + 2 colour pages, simplex
    assert price(counts, MODEL) == 5 + 3 * 10 + 2 * 50


def test_copies_and_media() -> None:
    counts = JobCounts((MediaCount(A4, 4, 0, 4), MediaCount(A3, 0, 1, 1)))
    assert price(counts, MODEL) == 5 + 40 + 100
    assert price(JobCounts.simple(2, 0, copies=3), MODEL) == 5 + 60


def test_duplex_discount_applies_to_two_sided_sheets_only() -> None:
    # 3 pages duplex: 2 sheets, the last simplex -> 2 impressions on two-sided sheets.
    counts = JobCounts.simple(3, 0, duplex=True)
    assert counts.per_media[0].sheets == 2 and counts.per_media[0].duplexed == 2
    # base 30, discount 20 % of the 20 on duplex sheets = 4
    assert exact_price(counts, MODEL) == 5 + 30 - 4
    assert price(counts, MODEL) == 31


LASER = CostModel(default=MediaPrice(mono=Fraction(10), color=Fraction(50)),
                  duplex_discount=parse_amount("0.5"))


def test_colour_duplex_priced_where_the_colour_lands() -> None:
    # Issue 14: 3 pages two-sided, 0.10 / 0.50, half off on two-sided sheets.
    # Colour page 3 alone on sheet 2: 10/2 + 10/2 + 50 = 60 (the job average gave 47).
    last = JobCounts((MediaCount(A4, 2, 1, 2, mono_duplexed=2, color_duplexed=0),))
    assert price(last, LASER) == 60
    # Colour page 1 on two-sided sheet 1: 50/2 + 10/2 + 10 = 40 (not 47).
    first = JobCounts((MediaCount(A4, 2, 1, 2, mono_duplexed=1, color_duplexed=1),))
    assert price(first, LASER) == 40
    # Three copies, each colour page alone: 3 * 60.
    copies = JobCounts((MediaCount(A4, 6, 3, 6, mono_duplexed=6, color_duplexed=0),))
    assert price(copies, LASER) == 180
    # A3 colour priced at the A3 price, discounted on its two-sided sheet only.
    mixed = JobCounts((MediaCount(A4, 1, 0, 1), MediaCount(A3, 1, 2, 2, 1, 1)))
    assert exact_price(mixed, MODEL) == 5 + 10 + (20 + 200) - Fraction(20 + 100, 5)


def test_two_sided_split_must_add_up() -> None:
    with pytest.raises(ValueError, match="needed"):
        MediaCount(A4, 2, 1, 2)  # which impression is alone on its sheet?
    with pytest.raises(ValueError):
        MediaCount(A4, 2, 1, 2, mono_duplexed=2, color_duplexed=2)  # 4 != 2 * (3 - 2)
    with pytest.raises(ValueError):
        MediaCount(A4, 0, 3, 2, mono_duplexed=2, color_duplexed=0)  # no mono impressions
    assert MediaCount(A4, 2, 1, 2, color_duplexed=1).mono_duplexed == 1
    assert MediaCount(A4, 0, 3, 2).color_duplexed == 2   # only colour: decided
    assert MediaCount(A4, 2, 2, 2).mono_duplexed == 2    # all on two-sided sheets


def test_simple_puts_an_odd_last_colour_page_alone() -> None:
    (m,) = JobCounts.simple(2, 1, copies=2, duplex=True).per_media
    assert (m.mono_duplexed, m.color_duplexed, m.sheets) == (4, 0, 4)
    (m,) = JobCounts.simple(3, 0, duplex=True).per_media
    assert (m.mono_duplexed, m.color_duplexed) == (2, 0)
    (m,) = JobCounts.simple(1, 2, duplex=True).per_media
    assert (m.mono_duplexed, m.color_duplexed) == (1, 1)


_SHEET = st.tuples(st.sampled_from([A4, A3, "na_letter_8.5x11in"]),
                   st.lists(st.booleans(), min_size=1, max_size=2))  # colour of each side


_PRICE = st.fractions(0, 200, max_denominator=1000)  # 3.5 cents is 7/2, 0.035 EUR is 7/200


@settings(max_examples=examples(300))
@given(sheets=st.lists(_SHEET, max_size=40), mono=_PRICE, colour=_PRICE, a3_colour=_PRICE,
       fee=_PRICE, discount=st.fractions(0, 1, max_denominator=20),
       mult=st.fractions(0, 3, max_denominator=8))
def test_price_is_the_sum_over_sheets(sheets: list[tuple[str, list[bool]]], mono: Fraction,
                                      colour: Fraction, a3_colour: Fraction, fee: Fraction,
                                      discount: Fraction, mult: Fraction) -> None:
    """Independent of cost.py's formula and of its integer arithmetic: in Fractions, each
    impression at its media's mono or colour price, ``discount`` off when its sheet has
    both sides printed (README), the fee, the multiplier, one rounding half up."""
    model = CostModel(default=MediaPrice(mono, colour),
                      by_media={A3: MediaPrice(mono * 2, a3_colour)},
                      duplex_discount=discount, job_fee=fee)
    expected = fee if sheets else Fraction(0)
    tally: dict[str, list[int]] = {}
    for media, sides in sheets:
        p = model.by_media.get(media, model.default)
        for is_colour in sides:
            one = p.color if is_colour else p.mono
            expected += one * (1 - discount) if len(sides) == 2 else one
        t = tally.setdefault(media, [0, 0, 0, 0, 0])  # mono, colour, sheets, mono_d, colour_d
        t[0] += sides.count(False)
        t[1] += sides.count(True)
        t[2] += 1
        if len(sides) == 2:
            t[3] += sides.count(False)
            t[4] += sides.count(True)
    counts = JobCounts(tuple(MediaCount(m, *t) for m, t in tally.items()))
    expected *= mult
    want = int(expected) + (1 if expected - int(expected) >= Fraction(1, 2) else 0)
    assert exact_price(counts, model, mult) == expected
    assert price(counts, model, mult) == want
    fixed = fee * mult if sheets else Fraction(0)
    assert fee_part(counts, model, mult) == int(fixed) + (fixed - int(fixed) >= Fraction(1, 2))


def test_multiplier_and_rounding() -> None:
    counts = JobCounts.simple(1, 0)
    # (5 + 10) * 1/2 = 7.5 -> 8 (half up)
    assert price(counts, MODEL, Fraction(1, 2)) == 8
    assert price(counts, MODEL, Fraction(0)) == 0
    fractional = CostModel(default=MediaPrice(mono=parse_amount("3.5")))
    assert price(JobCounts.simple(3, 0), fractional) == 11  # 10.5 -> 11
    assert price(JobCounts.simple(1, 0), fractional) == 4  # 3.5 -> 4


def test_empty_job_is_free() -> None:
    assert price(JobCounts(), MODEL) == 0


def test_group_multiplier_most_favourable() -> None:
    mult = {"staff": Fraction(0), "students": Fraction(1)}
    assert group_multiplier(["students", "staff"], mult) == 0
    assert group_multiplier(["other"], mult) == 1
    pricing = Pricing(models={"colour": MODEL}, multipliers=mult)
    assert pricing.price("colour", ["students"], JobCounts.simple(1)) == 15
    assert pricing.price("elsewhere", ["students"], JobCounts.simple(1)) == 0


def test_invalid_counts_and_models() -> None:
    with pytest.raises(ValueError):
        MediaCount(A4, 4, 0, 1)  # 4 impressions cannot fit on 1 sheet
    with pytest.raises(ValueError):
        MediaCount(A4, -1, 0, 0)
    with pytest.raises(ValueError):
        CostModel(duplex_discount=Fraction(3, 2))


@given(mono=st.integers(0, 500), color=st.integers(0, 500), copies=st.integers(1, 20),
       duplex=st.booleans(), num=st.integers(0, 4), den=st.integers(1, 4))
def test_price_is_integer_monotone_and_exact(mono: int, color: int, copies: int,
                                             duplex: bool, num: int, den: int) -> None:
    mult = Fraction(num, den)
    counts = JobCounts.simple(mono, color, copies=copies, duplex=duplex)
    p = price(counts, MODEL, mult)
    assert isinstance(p, int) and p >= 0
    exact = exact_price(counts, MODEL, mult)
    assert abs(p - exact) <= Fraction(1, 2)
    # One more sheet never costs less (one more page may: it earns the duplex discount
    # for the page on the other side of that sheet).
    more = JobCounts.simple(mono + (2 if duplex else 1), color, copies=copies, duplex=duplex)
    assert price(more, MODEL, mult) >= p


def test_money_format_and_parse() -> None:
    assert format_money(-1234, "EUR") == "-12.34 EUR"
    assert format_money(5, "EUR") == "0.05 EUR"
    assert format_money(5, "JPY", 0) == "5 JPY"
    assert parse_money("-12.34") == -1234
    assert parse_money("7") == 700
    assert parse_money("0.5") == 50
    for bad in ("1.234", "abc", "1,00", ""):
        with pytest.raises(ValueError):
            parse_money(bad)
