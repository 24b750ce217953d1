"""A Find-Me job released at a printer, no HTTP (pipeline/findme_release.py): the real
intake, job store, analysis pool and gs; the printers' capabilities as their attributes.

"lab-colour": 0.10 mono, 0.50 colour; "lab-mono": 0.05 either (no colour, no duplex);
"lab-cheap": 0.05 mono, 0.20 colour.
The race of two nodes releasing one job at two printers is played with a stale record:
the loser's price goes back to where the job is, charged once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pipeline_docs as docs
import pytest
from conftest import add_user, build, config, submission
from sqlalchemy import Engine

from ippproxy.accounting import ledger
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import QueueConfig
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs.moving import JobNotMovable
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.findme_release import CannotRelease, FindMeRelease
from ippproxy.pipeline.requote import Requoter

CFG = config(
    cost_model=[{"name": "colour", "mono": "0.10", "color": "0.50"},
                {"name": "mono", "mono": "0.05", "color": "0.05"},
                {"name": "cheap", "mono": "0.05", "color": "0.20"}],
    rule=[], group=[],
    queue=[{"name": "lab-colour", "cost_model": "colour"},
           {"name": "lab-mono", "cost_model": "mono"},
           {"name": "lab-cheap", "cost_model": "cheap"},
           {"name": "findme", "findme_printers": ["lab-colour", "lab-mono", "lab-cheap"]}])
QUEUES = {q.name: q for q in CFG.queues}
CAPS = {
    "lab-colour": (Attribute.single("color-supported", Tag.BOOLEAN, True),
                   Attribute.multi("sides-supported", Tag.KEYWORD,
                                   ["one-sided", "two-sided-long-edge"])),
    "lab-cheap": (Attribute.single("color-supported", Tag.BOOLEAN, True),),
    "lab-mono": (Attribute.single("color-supported", Tag.BOOLEAN, False),
                 Attribute.multi("sides-supported", Tag.KEYWORD, ["one-sided"])),
}


async def capabilities(q: QueueConfig) -> Sequence[Attribute] | None:
    return CAPS.get(q.name)


def amounts(engine: Engine, job: str) -> list[int]:
    rows = in_transaction(engine, lambda c: ledger.entries(c, job_uuid=uuid.UUID(job)))
    return [r.amount for r in rows]


async def test_release_and_a_stale_second_release(engine: Engine, store: JobStore,
                                                  spool: Spool, pool: AnalysisPool) -> None:
    p = build(CFG, engine, store, spool, pool)
    add_user(engine, "erin", balance=1000)
    assert p.intake.metering is not None
    release = FindMeRelease(store, p.intake.metering.converter, Requoter(p.accounting),
                            capabilities)
    job = (await p.intake.print_job(submission(
        docs.pdf_bytes([True, False, True]), user="erin", queue="findme"))).job
    assert job.state == JobState.PENDING_HELD and amounts(engine, job.uuid) == [-110]
    old_docs = [d.spool_name for d in job.documents]
    done = await release.release(job, QUEUES["findme"], QUEUES["lab-mono"], "erin")
    assert (done.before, done.after, done.grayscale, done.one_sided) == (110, 15, True, False)
    assert done.job.queue == "lab-mono" and done.job.state == JobState.PENDING
    assert [d.spool_name for d in done.job.documents] != old_docs
    assert not any(spool.path(n).exists() for n in old_docs)       # the colour one is gone
    analysis = await pool.analyse(await spool.ensure_file(done.job.documents[0].spool_name),
                                  "application/pdf")
    assert analysis.colour_pages == ()
    assert amounts(engine, job.uuid) == [-110, 95]
    # a stale record of it (another node read it before): refused, nothing charged
    with pytest.raises(JobNotMovable):
        await release.release(job, QUEUES["findme"], QUEUES["lab-colour"], "erin")
    assert amounts(engine, job.uuid) == [-110, 95]


async def test_two_nodes_release_one_job_at_two_printers(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """The winner releases at lab-cheap (0.45); the loser (a record read before) converts
    for lab-mono and moves the price there (0.15), then finds the job gone: its price goes
    back to where the job is now (lab-cheap, not where it was reserved), its converted
    file is removed."""
    p = build(CFG, engine, store, spool, pool)
    add_user(engine, "erin", balance=1000)
    assert p.intake.metering is not None
    release = FindMeRelease(store, p.intake.metering.converter, Requoter(p.accounting),
                            capabilities)
    job = (await p.intake.print_job(submission(
        docs.pdf_bytes([True, False, True]), user="erin", queue="findme"))).job
    won = await release.release(job, QUEUES["findme"], QUEUES["lab-cheap"], "erin")
    assert (won.after, won.grayscale, won.job.queue) == (45, False, "lab-cheap")
    assert [d.spool_name for d in won.job.documents] == [d.spool_name for d in job.documents]
    files = set(spool.root.iterdir())
    with pytest.raises(JobNotMovable):
        await release.release(job, QUEUES["findme"], QUEUES["lab-mono"], "erin")
    assert amounts(engine, job.uuid) == [-110, 65, 30, -30]    # moved, and back
    assert set(spool.root.iterdir()) == files
    stored = await store.get_by_uuid(job.uuid)
    assert stored is not None and stored.queue == "lab-cheap"


async def test_a_printer_that_never_answered(engine: Engine, store: JobStore, spool: Spool,
                                             pool: AnalysisPool) -> None:
    p = build(CFG, engine, store, spool, pool)
    add_user(engine, "erin", balance=1000)
    assert p.intake.metering is not None

    async def silent(q: QueueConfig) -> Sequence[Attribute] | None:
        return None

    release = FindMeRelease(store, p.intake.metering.converter, Requoter(p.accounting),
                            silent)
    job = (await p.intake.print_job(submission(
        docs.pdf_bytes([True]), user="erin", queue="findme"))).job
    with pytest.raises(CannotRelease, match="lab-mono does not answer"):
        await release.release(job, QUEUES["findme"], QUEUES["lab-mono"], "erin")
    stored = await store.get_by_uuid(job.uuid)
    assert stored is not None and stored.state == JobState.PENDING_HELD
    assert amounts(engine, job.uuid) == [-50]
