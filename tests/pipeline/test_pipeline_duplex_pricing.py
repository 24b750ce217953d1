"""Duplex priced as it prints (issue 14): the pipeline's price of random jobs against a
per-sheet computation written here from the README and docs/inspect.md.

The production road is ``filters.counts.count_document`` (the layout ``ippproxy inspect``
shows) -> ``filters.counts.combine`` -> ``pipeline.counting.job_counts`` ->
``accounting.cost.price``. The oracle below lays every copy out sheet by sheet with its
own code: pages chosen by page-ranges, ``number-up`` pages to an impression (colour when
any of its pages is, on the media of its first page), two-sided printing puts the next
impression on the back of the sheet unless the media changes or the copy ends, each copy
and each document starts a new sheet. Each impression then costs its media's mono or
colour price, ``duplex_discount`` off when its sheet has both sides printed; the job fee is
added, the group multiplier applied, and the total rounded once, half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.soak import PROFILE, examples

from ippproxy.accounting.cost import CostModel, MediaPrice, price
from ippproxy.filters import counts as pwg
from ippproxy.filters.model import DocumentAnalysis, PageSize
from ippproxy.pipeline import counting

SIZES = {"iso_a4_210x297mm": PageSize(595.28, 841.89),
         "iso_a3_297x420mm": PageSize(841.89, 1190.55),
         "na_letter_8.5x11in": PageSize(612, 792)}


@dataclass(frozen=True)
class Doc:
    media: tuple[str, ...]      # one per page
    colour: frozenset[int]      # 1-based colour pages


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    """1-50 pages, any colour pages, mixed media: runs of one size (as real documents
    have) or any size per page. Bit masks and base-3 digits keep the draws few."""
    pages = draw(st.integers(1, 50))
    names = sorted(SIZES)
    if draw(st.booleans()):
        digits = draw(st.integers(0, 3 ** pages - 1))
        media = tuple(names[digits // 3 ** i % 3] for i in range(pages))
    else:
        first, other = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        change = draw(st.integers(1, pages))
        media = (first,) * change + (other,) * (pages - change)
    mask = draw(st.integers(0, 2 ** pages - 1))
    colour = frozenset(p for p in range(1, pages + 1) if mask >> (p - 1) & 1)
    return Doc(media, colour)


def oracle(docs: list[Doc], ranges: tuple[tuple[int, int], ...], number_up: int,
           two_sided: bool, copies: int, model: CostModel, mult: Fraction) -> int:
    total = Fraction(0)
    printed = False
    for doc in docs:
        chosen = [p for p in range(1, len(doc.media) + 1)
                  if not ranges or any(lo <= p <= hi for lo, hi in ranges)]
        for _copy in range(copies):
            sheets: list[list[tuple[str, bool]]] = []   # each sheet: its printed sides
            for start in range(0, len(chosen), number_up):
                group = chosen[start:start + number_up]
                side = (doc.media[group[0] - 1], any(p in doc.colour for p in group))
                back_free = (two_sided and sheets and len(sheets[-1]) == 1
                             and sheets[-1][0][0] == side[0])
                if back_free:
                    sheets[-1].append(side)
                else:
                    sheets.append([side])
            for sheet in sheets:
                for media, is_colour in sheet:
                    printed = True
                    p = model.by_media.get(media, model.default)
                    one = Fraction(p.color if is_colour else p.mono)
                    if len(sheet) == 2:          # both sides printed: two-sided
                        one -= one * model.duplex_discount
                    total += one
    if printed:
        total += model.job_fee
    total *= mult
    whole, rest = divmod(total, 1)
    return int(whole) + (1 if rest >= Fraction(1, 2) else 0)


def production(docs: list[Doc], ticket: pwg.JobTicket, model: CostModel,
               mult: Fraction) -> int:
    analyses = [DocumentAnalysis("application/pdf", len(d.media),
                                 tuple(SIZES[m] for m in d.media), tuple(sorted(d.colour)))
                for d in docs]
    c = counting.count(analyses, ticket)
    assert c is not None
    return price(counting.job_counts(c), model, mult)


_PRICE = st.fractions(0, 100, max_denominator=4)


# A few hundred random jobs in `make test`; at least 10,000 in `make soak` (issue 14).
SOAK_JOBS = 10_000


@pytest.mark.timeout(1500 if PROFILE == "soak" else 300)   # 10,000 jobs take minutes
@settings(max_examples=max(examples(300), SOAK_JOBS if PROFILE == "soak" else 0),
          deadline=None)
@given(docs=st.lists(documents(), min_size=1, max_size=3),
       ranges=st.lists(st.tuples(st.integers(1, 60), st.integers(0, 20)), max_size=3),
       number_up=st.sampled_from(pwg.NUMBER_UP), sides=st.sampled_from(pwg.SIDES),
       copies=st.integers(1, 5),
       prices=st.lists(_PRICE, min_size=6, max_size=6),
       discount=st.fractions(0, 1, max_denominator=10), fee=_PRICE,
       mult=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(0), Fraction(3, 2)]))
def test_price_of_random_jobs_is_the_per_sheet_price(
        docs: list[Doc], ranges: list[tuple[int, int]], number_up: int, sides: str,
        copies: int, prices: list[Fraction], discount: Fraction, fee: Fraction,
        mult: Fraction) -> None:
    page_ranges = tuple(sorted((lo, lo + span) for lo, span in ranges))
    model = CostModel(default=MediaPrice(prices[0], prices[1]),
                      by_media={"iso_a3_297x420mm": MediaPrice(prices[2], prices[3]),
                                "na_letter_8.5x11in": MediaPrice(prices[4], prices[5])},
                      duplex_discount=discount, job_fee=fee)
    ticket = pwg.JobTicket(copies=copies, sides=sides, number_up=number_up,
                           page_ranges=page_ranges)
    want = oracle(docs, page_ranges, number_up, sides != "one-sided", copies, model, mult)
    assert production(docs, ticket, model, mult) == want


def test_issue_14_examples() -> None:
    """0.10 mono, 0.50 colour, half off on two-sided sheets, 3 pages two-sided."""
    model = CostModel(default=MediaPrice(Fraction(10), Fraction(50)),
                      duplex_discount=Fraction(1, 2))
    ticket = pwg.JobTicket(sides="two-sided-long-edge")
    a4 = ("iso_a4_210x297mm",) * 3
    assert production([Doc(a4, frozenset({3}))], ticket, model, Fraction(1)) == 60
    assert production([Doc(a4, frozenset({1}))], ticket, model, Fraction(1)) == 40
