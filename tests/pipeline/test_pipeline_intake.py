"""The intake pipeline on real documents (pikepdf PDFs, PostScript through gs), no HTTP:
plan -> spool -> analyse -> decide -> reserve -> create, on a real job store.

Prices (queue "colour"): 0.10 mono, 0.50 colour per impression, 0.05 per job, 50 % off
impressions on two-sided sheets; staff pay half; students are forced to grayscale.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pipeline_docs as docs
import pytest
from conftest import add_user, build, config, submission
from sqlalchemy import Engine

from ippproxy.accounting import ChargeState, JobCounts, ledger
from ippproxy.accounting.txn import in_transaction
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, RangeOfInteger, Status, Tag
from ippproxy.jobs.blob import unpack
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake, Refused
from ippproxy.pipeline.stages import ANALYSE, CREATE, STAGES


def kw(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.KEYWORD, value)


def integer(name: str, value: int) -> Attribute:
    return Attribute.single(name, Tag.INTEGER, value)


def postings(engine: Engine, job: str) -> list[ledger.Posting]:
    rows: list[ledger.Posting] = in_transaction(
        engine, lambda c: ledger.entries(c, job_uuid=uuid.UUID(job)))
    return rows


def values(blob: bytes) -> dict[str, object]:
    return {a.name: a.value for a in unpack(blob)}


async def test_counts_price_and_reservation(engine: Engine, store: JobStore, spool: Spool,
                                            pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    done = await p.intake.print_job(submission(
        docs.pdf_bytes([True, False, True, False]), fmt="application/octet-stream",
        user="Dave", attrs=(integer("copies", 2), kw("sides", "two-sided-long-edge"))))
    job = done.job
    assert job.state == JobState.PENDING and done.unsupported == ()
    assert job.document_format == "application/pdf"           # detected from the bytes
    assert job.analysis is not None
    assert job.analysis["attributes"] == {
        "job-pages": 4, "job-impressions": 4, "job-impressions-col": 2,
        "job-media-sheets": 4, "job-media-sheets-col": 4,
        "ippproxy-cost-estimate": "1.25 EUR"}
    # 8 impressions (4 colour): 40 + 200 = 240, all on two-sided sheets: -120, fee 5.
    assert job.analysis["estimate"] == 125
    assert job.state_message is not None and "estimated cost 1.25 EUR" in job.state_message
    rows = postings(engine, job.uuid)
    assert [(r.amount, r.balance_after, r.kind) for r in rows] == [(-125, 375, "charge")]
    charge = p.accounting.get(job.uuid)
    assert charge is not None and charge.state == ChargeState.RESERVED
    again = p.accounting.reserve(job.uuid, username="dave", printer="colour",
                                 counts=JobCounts.simple(1))  # idempotent by job UUID
    assert again.replayed and len(postings(engine, job.uuid)) == 1


async def test_page_ranges_number_up_and_media_price(engine: Engine, store: JobStore,
                                                     spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    attrs = (Attribute.single("page-ranges", Tag.RANGE_OF_INTEGER, RangeOfInteger(2, 5)),
             integer("number-up", 2))
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True] + [False] * 5),
                                               attrs=attrs))).job
    assert job.analysis is not None
    a = job.analysis["attributes"]
    assert (a["job-pages"], a["job-impressions"], a["job-impressions-col"]) == (4, 2, 0)
    assert job.analysis["estimate"] == 5 + 2 * 10


async def test_force_grayscale_for_students_converts_and_charges_mono(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    add_user(engine, "sue", balance=500, groups=("staff",))
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True, True]), user="sam"))).job
    assert job.state == JobState.PENDING and len(job.documents) == 1
    new = job.documents[0]
    assert new.format == "application/pdf"
    assert spool.names() == {new.spool_name}                  # the received one is gone
    check = await pool.analyse(spool.path(new.spool_name), "application/pdf")
    assert check.pages == 2 and check.colour_pages == ()
    assert values(job.attributes)["print-color-mode"] == "monochrome"
    assert job.analysis is not None and job.analysis["grayscale"] is True
    assert job.analysis["attributes"]["job-impressions-col"] == 0
    assert job.analysis["estimate"] == 5 + 2 * 10
    # one sentence of clauses, not "Printed in grayscale on colour.; estimated cost ..."
    assert job.state_message == "Printed in grayscale on colour; estimated cost 0.25 EUR"
    staff = (await p.intake.print_job(submission(docs.pdf_bytes([True, True]),
                                                 user="sue"))).job
    assert "print-color-mode" not in values(staff.attributes)
    assert staff.analysis is not None and staff.analysis["grayscale"] is False
    assert staff.analysis["estimate"] == 53  # (5 + 100) / 2


async def test_force_duplex_postscript(engine: Engine, store: JobStore, spool: Spool,
                                       pool: AnalysisPool, tmp_path: Path) -> None:
    cfg = config(queue=[{"name": "colour", "cost_model": "colour", "force_duplex": True}])
    p = build(cfg, engine, store, spool, pool)
    ps = docs.postscript(tmp_path / "d.ps", [False, False, False]).read_bytes()
    job = (await p.intake.print_job(submission(ps, fmt="application/postscript"))).job
    assert len(job.documents) == 1
    assert b"/Duplex true" in spool.path(job.documents[0].spool_name).read_bytes()
    assert values(job.attributes)["sides"] == "two-sided-long-edge"
    assert job.analysis is not None
    assert job.analysis["attributes"]["job-media-sheets"] == 2
    assert job.analysis["estimate"] == 5 + 30 - 10


async def test_refusals(engine: Engine, store: JobStore, spool: Spool,
                        pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)

    async def refused(intake: Intake, data: bytes, status: int, *words: str,
                      **kwargs: str) -> None:
        with pytest.raises(Refused) as e:
            await intake.print_job(submission(data, **kwargs))
        assert e.value.status == status, e.value.message
        for w in words:
            assert w in e.value.message, e.value.message
        assert spool.names() == set()                         # nothing left behind
        assert await store.count_jobs(None, "all") == 0       # and no job

    await refused(p.intake, docs.pdf_bytes([False]), Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR,
                  "application/pdf", fmt="application/postscript")
    await refused(p.intake, b"\x00\x01\x02 junk" * 50,
                  Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                  fmt="application/octet-stream")
    await refused(p.intake, docs.pdf_bytes([False] * 51), Status.CLIENT_ERROR_NOT_POSSIBLE,
                  "51 pages")
    await refused(p.intake, docs.pdf_bytes([False]),
                  Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, "image/png",
                  fmt="image/png")                                  # plan: not supported
    strict = build(config(accounting={"unknown_users": "refuse"}), engine, store, spool, pool)
    await refused(strict.intake, docs.pdf_bytes([False]), Status.CLIENT_ERROR_NOT_AUTHORIZED,
                  "stranger", user="stranger")
    assert postings(engine, str(uuid.uuid4())) == []


async def test_uncountable_document_is_held(engine: Engine, store: JobStore, spool: Spool,
                                            pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    pcl = b"\x1bE\x1b&l26A" + b"Hello PCL 5\r\n" * 20 + b"\x0c\x1bE"
    job = (await p.intake.print_job(submission(pcl, fmt="application/octet-stream"))).job
    assert job.state == JobState.PENDING_HELD
    assert job.state_reasons == ("job-hold-until-specified",)
    assert job.state_message is not None and "cannot be counted" in job.state_message
    deny = build(config(analysis={"unknown_pages": "deny"}), engine, store, spool, pool)
    with pytest.raises(Refused) as e:
        await deny.intake.print_job(submission(pcl, fmt="application/vnd.hp-pcl"))
    assert e.value.status == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED


async def test_send_document_updates_the_stored_job(engine: Engine, store: JobStore,
                                                    spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    job = (await p.intake.create_job(submission(user="sam", op="Create-Job",
                                                attrs=(integer("copies", 2),)))).job
    assert not job.closed and job.analysis is None
    sent = await p.intake.send_document(submission(docs.pdf_bytes([True, False]), user="sam",
                                                   op="Send-Document"), job, last=True)
    assert sent.closed and len(sent.documents) == 1
    stored = await store.get_by_uuid(job.uuid)
    assert stored is not None and stored.analysis is not None
    assert stored.analysis["attributes"]["job-impressions"] == 2   # one copy (PWG 5100.7)
    assert values(stored.attributes) == {"copies": 2, "print-color-mode": "monochrome"}
    charge = p.accounting.get(job.uuid)
    assert charge is not None and charge.estimate == 5 + 2 * 2 * 10   # Create-Job's copies


def stage_seconds(intake: Intake, operation: str) -> dict[str, tuple[float, float]]:
    """(count, sum) of each stage's histogram (ippproxy_intake_stage_duration_seconds)."""
    registry = intake.metrics.registry
    found: dict[str, tuple[float, float]] = {}
    for stage in STAGES:
        labels = {"operation": operation, "stage": stage}
        count = registry.get_sample_value("ippproxy_intake_stage_duration_seconds_count", labels)
        total = registry.get_sample_value("ippproxy_intake_stage_duration_seconds_sum", labels)
        if count is not None and total is not None:
            found[stage] = (count, total)
    return found


async def test_each_intake_stage_is_timed(engine: Engine, store: JobStore, spool: Spool,
                                         pool: AnalysisPool) -> None:
    """Print-Job and Send-Document observe each of their five stages once a job, and the
    stages add up to the intake's duration (nothing counted twice, nothing left out)."""
    p = build(config(), engine, store, spool, pool)
    pdf = docs.pdf_bytes([True, False])
    await p.intake.print_job(submission(pdf, user="dave"))
    await p.intake.print_job(submission(pdf, user="erin"))
    job = (await p.intake.create_job(submission(user="dave", op="Create-Job"))).job
    await p.intake.send_document(submission(pdf, user="dave", op="Send-Document"), job,
                                 last=True)
    registry = p.intake.metrics.registry
    for operation, jobs in (("Print-Job", 2), ("Send-Document", 1)):
        stages = stage_seconds(p.intake, operation)
        assert {k: v[0] for k, v in stages.items()} == dict.fromkeys(STAGES, jobs)
        assert stages[ANALYSE][1] > 0 and stages[CREATE][1] > 0   # a worker, a commit
        total = registry.get_sample_value("ippproxy_intake_duration_seconds_sum",
                                          {"operation": operation})
        assert total == pytest.approx(sum(v[1] for v in stages.values()), abs=1e-9)
    # Within the analysis, each of the three documents' parts (the pool's queue and round
    # trip, the worker's steps): a text PDF from memory is opened, counted and scanned.
    for part in ("queue", "ipc", "request", "open", "count", "scan"):
        count = registry.get_sample_value("ippproxy_analysis_stage_duration_seconds_count",
                                          {"stage": part})
        assert count == 3, part
    assert registry.get_sample_value("ippproxy_analysis_stage_duration_seconds_count",
                                     {"stage": "render"}) is None


async def test_duplicate_jobs_are_looked_up_in_the_job_store(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    cfg = config(rule=[{"type": "duplicate-jobs", "window_minutes": 10}])
    p = build(cfg, engine, store, spool, pool)
    pdf = docs.pdf_bytes([False])
    await p.intake.print_job(submission(pdf, user="Dave"))
    with pytest.raises(Refused) as e:
        await p.intake.print_job(submission(pdf, user="dave"))   # same owner, canonically
    assert e.value.status == Status.CLIENT_ERROR_NOT_POSSIBLE and "duplicate" in e.value.message
    await p.intake.print_job(submission(pdf, user="erin"))       # another owner may


async def test_without_accounting_no_document_is_read(store: JobStore, spool: Spool) -> None:
    """Analyse and reserve do nothing: a small document stays in memory until it is
    committed with the job (no spool file is written for it)."""
    cfg_spool = Spool(spool.root, 1 << 30, copy_max=65536)
    cfg_spool.copies = store
    intake = Intake(store, cfg_spool)
    # Made once: two calls differ when a second passes between them (the PDF's dates).
    pdf = docs.pdf_bytes([True])
    done = await intake.print_job(submission(pdf, user="Whoever",
                                             fmt="application/octet-stream"))
    assert done.job.owner == "Whoever" and done.job.analysis is None
    assert done.job.document_format == "application/octet-stream"   # not detected
    assert cfg_spool.names() == set()
    assert await store.copy_of(done.job.documents[0].spool_name) == pdf


async def test_validate_job_quote(engine: Engine, store: JobStore, spool: Spool,
                                  pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    v = await p.intake.validate(submission(user="anyone", op="Validate-Job"))
    assert v.message == "price per impression on colour: 0.15 EUR monochrome, 0.55 EUR colour"
    v2 = await p.intake.validate(submission(
        user="anyone", op="Validate-Job", attrs=(kw("print-color-mode", "monochrome"),),
        ops=(integer("job-impressions", 10),)))
    assert v2.message == "estimated cost 1.05 EUR for 10 impressions"


async def test_print_job_creator_denied_is_not_authorized(engine: Engine, store: JobStore,
                                                          spool: Spool,
                                                          pool: AnalysisPool) -> None:
    """Issue 18: a user whose role print-job-creator resolves to denied gets
    client-error-not-authorized saying which role and why; nothing is spooled or charged."""
    from ippproxy.accounting.roles import Role, RoleState
    from ippproxy.accounting.roles_store import set_group_role

    p = build(config(), engine, store, spool, pool)
    add_user(engine, "erin", balance=500, groups=("students",))
    in_transaction(engine, lambda c: set_group_role(c, "students", Role.PRINT_JOB_CREATOR,
                                                    RoleState.DISABLED))
    with pytest.raises(Refused) as e:
        await p.intake.print_job(submission(docs.pdf_bytes([False]), user="erin"))
    assert e.value.status == Status.CLIENT_ERROR_NOT_AUTHORIZED
    assert "role print-job-creator denied by group students" in e.value.message
    assert spool.names() == set()
    assert await store.count_jobs(None, "all") == 0
