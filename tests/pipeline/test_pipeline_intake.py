"""The intake hook on real documents (pikepdf PDFs, PostScript through gs), no HTTP.

Prices (queue "colour"): 0.10 mono, 0.50 colour per impression, 0.05 per job, 50 % off
impressions on two-sided sheets; staff pay half; students are forced to grayscale.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pipeline_docs as docs
from conftest import add_user, build, config
from sqlalchemy import Engine

from ippproxy.accounting import ChargeState, ledger
from ippproxy.accounting.txn import in_transaction
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, RangeOfInteger, Status, Tag
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.server.hooks import IntakeDecision, IntakeFacts


async def spooled(spool: Spool, data: bytes) -> NewDocument:
    async with spool.writer() as w:
        await w.write(data)
    return NewDocument(w.name, w.size, w.sha256)


async def facts(spool: Spool, data: bytes, *, user: str = "dave", queue: str = "colour",
                fmt: str = "application/pdf", attrs: tuple[Attribute, ...] = (),
                op: str = "Print-Job", job_uuid: str | None = None) -> IntakeFacts:
    doc = await spooled(spool, data)
    return IntakeFacts(queue=queue, user=user, job_name="t", operation=op, document_format=fmt,
                       document_paths=(spool.path(doc.spool_name),), document_sizes=(doc.size,),
                       document_sha256=(doc.sha256,), attributes=attrs,
                       job_uuid=job_uuid or str(uuid.uuid4()))


def kw(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.KEYWORD, value)


def integer(name: str, value: int) -> Attribute:
    return Attribute.single(name, Tag.INTEGER, value)


def postings(engine: Engine, job: str) -> list[ledger.Posting]:
    rows: list[ledger.Posting] = in_transaction(
        engine, lambda c: ledger.entries(c, job_uuid=uuid.UUID(job)))
    return rows


async def test_counts_price_and_reservation(engine: Engine, store: JobStore, spool: Spool,
                                            pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    f = await facts(spool, docs.pdf_bytes([True, False, True, False]),
                    fmt="application/octet-stream", user="Dave",
                    attrs=(integer("copies", 2), kw("sides", "two-sided-long-edge")))
    d = await p.intake.decide(f)
    assert d.action == "allow", d
    assert d.document_format == "application/pdf"           # detected from the bytes
    assert d.analysis is not None
    assert d.analysis["attributes"] == {
        "job-pages": 4, "job-impressions": 4, "job-impressions-col": 2,
        "job-media-sheets": 4, "job-media-sheets-col": 4,
        "ippproxy-cost-estimate": "1.25 EUR"}
    # 8 impressions (4 colour): 40 + 200 = 240, all on two-sided sheets: -120, fee 5.
    assert d.analysis["estimate"] == 125 and "estimated cost 1.25 EUR" in d.message
    rows = postings(engine, f.job_uuid)
    assert [(r.amount, r.balance_after, r.kind) for r in rows] == [(-125, 375, "charge")]
    charge = p.accounting.get(f.job_uuid)
    assert charge is not None and charge.state == ChargeState.RESERVED
    again = await p.intake.decide(f)                          # idempotent by job UUID
    assert again.action == "allow" and len(postings(engine, f.job_uuid)) == 1


async def test_page_ranges_number_up_and_media_price(engine: Engine, store: JobStore,
                                                     spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    attrs = (Attribute.single("page-ranges", Tag.RANGE_OF_INTEGER, RangeOfInteger(2, 5)),
             integer("number-up", 2))
    d = await p.intake.decide(await facts(spool, docs.pdf_bytes([True] + [False] * 5),
                                          attrs=attrs))
    assert d.analysis is not None
    a = d.analysis["attributes"]
    assert (a["job-pages"], a["job-impressions"], a["job-impressions-col"]) == (4, 2, 0)
    assert d.analysis["estimate"] == 5 + 2 * 10


async def test_force_grayscale_for_students_converts_and_charges_mono(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    add_user(engine, "sue", balance=500, groups=("staff",))
    f = await facts(spool, docs.pdf_bytes([True, True]), user="sam")
    d = await p.intake.decide(f)
    assert d.action == "allow" and len(d.documents) == 1
    new = d.documents[0]
    assert new.format == "application/pdf" and new.spool_name != f.document_paths[0].name
    check = await pool.analyse(spool.path(new.spool_name), "application/pdf")
    assert check.pages == 2 and check.colour_pages == ()
    assert any(o.name == "print-color-mode" and o.value == "monochrome" for o in d.overrides)
    assert d.analysis is not None and d.analysis["grayscale"] is True
    assert d.analysis["attributes"]["job-impressions-col"] == 0
    assert d.analysis["estimate"] == 5 + 2 * 10
    assert "grayscale" in d.message
    staff = await p.intake.decide(await facts(spool, docs.pdf_bytes([True, True]), user="sue"))
    assert staff.documents == () and staff.overrides == ()
    assert staff.analysis is not None and staff.analysis["estimate"] == 53  # (5 + 100) / 2


async def test_force_duplex_postscript(engine: Engine, store: JobStore, spool: Spool,
                                       pool: AnalysisPool, tmp_path: Path) -> None:
    cfg = config(queue=[{"name": "colour", "cost_model": "colour", "force_duplex": True}])
    p = build(cfg, engine, store, spool, pool)
    ps = docs.postscript(tmp_path / "d.ps", [False, False, False]).read_bytes()
    d = await p.intake.decide(await facts(spool, ps, fmt="application/postscript"))
    assert d.action == "allow" and len(d.documents) == 1
    assert b"/Duplex true" in spool.path(d.documents[0].spool_name).read_bytes()
    assert [(o.name, o.value) for o in d.overrides] == [("sides", "two-sided-long-edge")]
    assert d.analysis is not None
    assert d.analysis["attributes"]["job-media-sheets"] == 2
    assert d.analysis["estimate"] == 5 + 30 - 10


async def test_refusals(engine: Engine, store: JobStore, spool: Spool,
                        pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "poor", balance=10)

    async def refused(d: IntakeDecision, status: int, *words: str) -> None:
        assert (d.action, d.status) == ("deny", status), d
        for w in words:
            assert w in d.message, d.message

    await refused(await p.intake.decide(await facts(spool, docs.pdf_bytes([True]), user="poor")),
                  Status.CLIENT_ERROR_ACCOUNT_LIMIT_REACHED, "balance 0.10 EUR", "cost 0.55 EUR")
    await refused(await p.intake.decide(await facts(spool, docs.pdf_bytes([False]),
                                                    fmt="application/postscript")),
                  Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, "application/pdf")
    await refused(await p.intake.decide(await facts(spool, b"\x00\x01\x02 junk" * 50,
                                                    fmt="application/octet-stream")),
                  Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)
    await refused(await p.intake.decide(await facts(spool, docs.pdf_bytes([False] * 51))),
                  Status.CLIENT_ERROR_NOT_POSSIBLE, "51 pages")
    strict = build(config(accounting={"unknown_users": "refuse"}), engine, store, spool, pool)
    await refused(await strict.intake.decide(await facts(spool, docs.pdf_bytes([False]),
                                                         user="stranger")),
                  Status.CLIENT_ERROR_NOT_AUTHORIZED, "stranger")
    assert postings(engine, str(uuid.uuid4())) == []


async def test_uncountable_document_is_held(engine: Engine, store: JobStore, spool: Spool,
                                            pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    pcl = b"\x1bE\x1b&l26A" + b"Hello PCL 5\r\n" * 20 + b"\x0c\x1bE"
    d = await p.intake.decide(await facts(spool, pcl, fmt="application/octet-stream"))
    assert d.action == "hold" and "cannot be counted" in d.message
    deny = build(config(analysis={"unknown_pages": "deny"}), engine, store, spool, pool)
    d = await deny.intake.decide(await facts(spool, pcl, fmt="application/vnd.hp-pcl"))
    assert (d.action, d.status) == ("deny", Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)


async def test_send_document_updates_the_stored_job(engine: Engine, store: JobStore,
                                                    spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    job = await store.create_job("colour", owner="sam", closed=False)
    d = await p.intake.decide(await facts(spool, docs.pdf_bytes([True, False]), user="sam",
                                          op="Send-Document", job_uuid=job.uuid))
    assert d.action == "allow" and d.documents == ()
    stored = await store.get_by_uuid(job.uuid)
    assert stored is not None and stored.analysis is not None
    assert stored.analysis["attributes"]["job-impressions"] == 2
    assert b"monochrome" in stored.attributes


async def test_validate_job_quote(engine: Engine, store: JobStore, spool: Spool,
                                  pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    f = IntakeFacts(queue="colour", user="anyone", job_name="q", operation="Validate-Job",
                    document_format="application/pdf")
    assert await p.intake.quote(f) == ("price per impression on colour: 0.15 EUR monochrome, "
                                       "0.55 EUR colour")
    f2 = IntakeFacts(queue="colour", user="anyone", job_name="q", operation="Validate-Job",
                     document_format="application/pdf",
                     attributes=(integer("job-impressions", 10), kw("print-color-mode",
                                                                    "monochrome")))
    assert await p.intake.quote(f2) == "estimated cost 1.05 EUR for 10 impressions"
