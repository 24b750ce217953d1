"""Cost arithmetic: exact, integer results, one documented rounding."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ippproxy.accounting.cost import (
    CostModel,
    JobCounts,
    MediaCount,
    MediaPrice,
    Pricing,
    exact_price,
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
