"""Page overrides (PWG 5100.6 ``overrides``) at intake, on real PDFs (pikepdf) and a real job
store: each member checked against the queue, unsupported parts echoed, and the price of
what actually prints page by page (queue "colour": 0.10 mono, 0.50 colour, 0.05 per job).
"""

from __future__ import annotations

from dataclasses import replace

import pipeline_docs as docs
import pytest
from conftest import CHECKS, add_user, build, config, submission
from sqlalchemy import Engine

from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Status, Tag
from ippproxy.jobs.blob import unpack
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Refused, SubmissionChecks
from ippproxy.pipeline.overrides import MAX_COLLECTIONS, MAX_RANGES

COL = Tag.BEGIN_COLLECTION
# What the server answers for a queue whose destination takes no overrides itself.
CHECKS_OVERRIDES = SubmissionChecks({**CHECKS.printer, "overrides-supported": Attribute.multi(
    "overrides-supported", Tag.KEYWORD, ["document-numbers", "pages", "print-color-mode"])})


def kw(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.KEYWORD, value)


def pages(*ranges: tuple[int, int]) -> Attribute:
    return Attribute.multi("pages", Tag.RANGE_OF_INTEGER,
                           [RangeOfInteger(lo, hi) for lo, hi in ranges])


def overrides(*collections: tuple[Attribute, ...]) -> Attribute:
    return Attribute("overrides", tuple((COL, Collection(c)) for c in collections))


async def _print(engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
                 colours: list[bool], *attrs: Attribute, ops: tuple[Attribute, ...] = (),
                 user: str = "dave"
                 ) -> tuple[dict[str, object], tuple[Attribute, ...], dict[str, object]]:
    add_user(engine, user, balance=500)
    p = build(config(), engine, store, spool, pool)
    sub = submission(docs.pdf_bytes(colours), attrs=attrs, ops=ops, user=user)
    done = await p.intake.print_job(replace(sub, checks=CHECKS_OVERRIDES))
    assert done.job.analysis is not None
    stored = {a.name: a for a in unpack(done.job.attributes)}
    return done.job.analysis["attributes"], done.unsupported, stored  # type: ignore[return-value]


async def test_pages_printed_monochrome_are_priced_monochrome(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    found, unsupported, stored = await _print(
        engine, store, spool, pool, [True, True, True, True],
        overrides((pages((1, 2)), kw("print-color-mode", "monochrome"))))
    assert unsupported == ()
    # 2 colour + 2 monochrome impressions: 2 x 0.50 + 2 x 0.10 + 0.05
    assert found["job-impressions-col"] == 2
    assert found["ippproxy-cost-estimate"] == "1.25 EUR"
    assert "overrides" in stored                                  # kept with the job


async def test_a_monochrome_job_with_colour_pages_is_priced_per_page(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    found, _, _ = await _print(
        engine, store, spool, pool, [True, True, True],
        kw("print-color-mode", "monochrome"),
        overrides((pages((3, 3)), kw("print-color-mode", "color"))))
    assert found["job-impressions-col"] == 1
    assert found["ippproxy-cost-estimate"] == "0.75 EUR"         # 0.50 + 2 x 0.10 + 0.05


async def test_unsupported_members_are_returned_and_the_rest_applies(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    found, unsupported, stored = await _print(
        engine, store, spool, pool, [True, True, True, True],
        overrides((pages((1, 1)), kw("print-color-mode", "monochrome"),
                   kw("sides", "two-sided-long-edge")),          # not honoured here
                  (pages((1, 3)), kw("print-color-mode", "monochrome")),   # overlaps
                  (pages((4, 4)), kw("print-color-mode", "rainbow"))))     # not supported
    assert found["job-impressions-col"] == 3                     # only page 1 is gray
    [refused] = unsupported
    assert refused.name == "overrides"
    members = [sorted(c.names()) for c in refused.plain if isinstance(c, Collection)]
    assert members == [["pages", "sides"], ["pages", "print-color-mode"],
                       ["pages", "print-color-mode"]]
    [kept] = stored["overrides"].plain                            # type: ignore[attr-defined]
    assert isinstance(kept, Collection) and sorted(kept.names()) == ["pages",
                                                                     "print-color-mode"]


@pytest.mark.parametrize("bad", [
    overrides((Attribute.single("pages", Tag.INTEGER, 1), kw("print-color-mode", "monochrome"))),
    overrides((pages((3, 1)), kw("print-color-mode", "monochrome"))),
    overrides((pages((1, 1)),)),                                  # sets nothing
    Attribute.single("overrides", Tag.KEYWORD, "pages"),
])
async def test_fidelity_refuses_a_bad_override(engine: Engine, store: JobStore, spool: Spool,
                                               pool: AnalysisPool, bad: Attribute) -> None:
    with pytest.raises(Refused) as e:
        await _print(engine, store, spool, pool, [True], bad,
                     ops=(Attribute.single("ipp-attribute-fidelity", Tag.BOOLEAN, True),))
    assert e.value.status == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert [a.name for a in e.value.unsupported] == ["overrides"]


async def test_a_queue_without_overrides_supported_ignores_them(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    add_user(engine, "dave", balance=500)
    p = build(config(), engine, store, spool, pool)
    done = await p.intake.print_job(submission(
        docs.pdf_bytes([True, True]),
        attrs=(overrides((pages((1, 2)), kw("print-color-mode", "monochrome"))),)))
    assert [a.name for a in done.unsupported] == ["overrides"]
    assert done.job.analysis is not None
    assert done.job.analysis["attributes"]["job-impressions-col"] == 2


CHECKS_SIDES = SubmissionChecks({**CHECKS_OVERRIDES.printer, "overrides-supported":
                                 Attribute.multi("overrides-supported", Tag.KEYWORD, [
                                     "document-numbers", "pages", "sides",
                                     "print-color-mode"])})


async def _submit(engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
                  user: str, colours: list[bool], *attrs: Attribute,
                  groups: tuple[str, ...] = ()) -> tuple[dict[str, object],
                                                         dict[str, Attribute]]:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, user, balance=500, groups=groups)
    done = await p.intake.print_job(replace(
        submission(docs.pdf_bytes(colours), user=user, attrs=attrs), checks=CHECKS_SIDES))
    assert done.unsupported == () and done.job.analysis is not None
    return (done.job.analysis["attributes"],
            {a.name: a for a in unpack(done.job.attributes)})


async def test_a_sides_override_is_priced_without_the_duplex_discount(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    found, _ = await _submit(engine, store, spool, pool, "dave", [False] * 4,
                             kw("sides", "two-sided-long-edge"),
                             overrides((pages((1, 2)), kw("sides", "one-sided"))))
    assert found["ippproxy-cost-estimate"] == "0.45 EUR"          # 4 x 0.10 + 0.05
    plain, _ = await _submit(engine, store, spool, pool, "erin", [False] * 4,
                             kw("sides", "two-sided-long-edge"))
    assert plain["ippproxy-cost-estimate"] == "0.25 EUR"          # 50 % off, two-sided


async def test_forced_grayscale_takes_colour_overrides_away(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """Students are forced to grayscale: a monochrome job asking for page 1 in colour is
    converted and priced monochrome, and the override is not kept (nor sent on)."""
    found, stored = await _submit(
        engine, store, spool, pool, "sam", [True, True], kw("print-color-mode", "monochrome"),
        overrides((pages((1, 1)), kw("print-color-mode", "color"))), groups=("students",))
    assert found["job-impressions-col"] == 0
    assert found["ippproxy-cost-estimate"] == "0.25 EUR"          # 2 x 0.10 + 0.05
    assert "overrides" not in stored
    found, stored = await _submit(
        engine, store, spool, pool, "sue", [True, True],
        overrides((pages((1, 1)), kw("print-color-mode", "color"), kw("sides", "one-sided"))),
        groups=("students",))
    assert found["job-impressions-col"] == 0
    [left] = stored["overrides"].plain
    assert isinstance(left, Collection) and sorted(left.names()) == ["pages", "sides"]


async def test_send_document_stores_the_overrides_without_what_a_rule_forces(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """Create-Job + Send-Document (no conversion: the stored attributes carry the forced
    options to the printer): a student's colour override is removed from the job."""
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    job = (await p.intake.create_job(replace(submission(
        user="sam", op="Create-Job",
        attrs=(overrides((pages((2, 2)), kw("print-color-mode", "color"))),)),
        checks=CHECKS_OVERRIDES))).job
    assert "overrides" in {a.name for a in unpack(job.attributes)}
    await p.intake.send_document(submission(docs.pdf_bytes([True, True]), user="sam",
                                            op="Send-Document"), job, last=True)
    stored = await store.get_by_uuid(job.uuid)
    assert stored is not None and stored.analysis is not None
    names = {a.name: a.value for a in unpack(stored.attributes)}
    assert "overrides" not in names and names["print-color-mode"] == "monochrome"
    assert stored.analysis["attributes"]["job-impressions-col"] == 0


async def test_more_overrides_than_the_bounds_are_unsupported(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    mono = kw("print-color-mode", "monochrome")
    at_bound = overrides(*((pages((n, n)), mono) for n in range(1, MAX_COLLECTIONS + 1)))
    _, unsupported, stored = await _print(engine, store, spool, pool, [True], at_bound)
    assert unsupported == () and len(stored["overrides"].values) == MAX_COLLECTIONS
    one_more = overrides(*((pages((n, n)), mono) for n in range(1, MAX_COLLECTIONS + 2)))
    many_ranges = overrides((pages(*((n, n) for n in range(1, MAX_RANGES + 2))), mono))
    for user, bad in (("erin", one_more), ("fred", many_ranges)):
        found, unsupported, stored = await _print(engine, store, spool, pool, [True], bad,
                                                  user=user)
        assert [a.name for a in unsupported] == ["overrides"] and "overrides" not in stored
        assert found["job-impressions-col"] == 1
