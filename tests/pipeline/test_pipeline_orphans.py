"""What a crash leaves of charges, repaired by the settlement sweep (issue 14 §2, §3):

* a reservation without a job (killed between reserve and create): the node that
  reserved it refunds it at its next start, at once and with a true reason; another node
  only after ``accounting.orphan_lease``; a reservation of the running process waits too
  (its intake may still be committing the job);
* a charge settled but never written back into its job (killed between the settlement's
  commit and the write-back): the sweep writes ``ippproxy-cost-charged`` into the job.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pipeline_docs as docs
import pytest
from conftest import build, config, submission
from sqlalchemy import Engine
from test_pipeline_intake import postings

from ippproxy.accounting import AccountingService, ChargeState, JobCounts, Outcome
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import runtime, settle
from ippproxy.pipeline.settle import Settler

LEASE = dt.timedelta(seconds=60)


def reserve(accounting: AccountingService, user: str = "dave") -> str:
    job = str(uuid.uuid4())
    accounting.reserve(job, username=user, printer="colour", counts=JobCounts.simple(1))
    return job


async def test_own_orphans_refunded_at_start_others_after_their_lease(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    a_cfg = config(storage={"node": "a"}, accounting={"orphan_lease": 60.0})
    a = build(a_cfg, engine, store, spool, pool).accounting
    b = runtime.make_accounting(config(storage={"node": "b"}), engine)
    mine, theirs = reserve(a), reserve(b)        # both nodes killed during intake
    settler = Settler(a, store, node="a", orphan_lease=LEASE)   # node a starts again
    running = reserve(a)                          # an intake of the new process, in flight
    assert await settler.sweep() == 1
    assert [r.kind for r in postings(engine, mine)] == ["charge", "refund"]
    refund = postings(engine, mine)[1]
    assert refund.reason == ("job never created: node 'a' stopped during intake; "
                             "automatic refund")
    assert refund.amount == 15 and refund.actor == "system"   # job fee 0.05 + one page
    assert [r.kind for r in postings(engine, theirs)] == ["charge"]   # b may be committing
    assert [r.kind for r in postings(engine, running)] == ["charge"]
    assert {r.job_uuid for r in a.reserved_charges()} == {uuid.UUID(theirs),
                                                          uuid.UUID(running)}
    assert {r.node for r in a.reserved_charges()} == {"a", "b"}

    # Past the lease: node b's orphan, and this process's own, are refunded too.
    settler.orphan_lease = dt.timedelta(0)
    assert await settler.sweep() == 2
    why = {j: postings(engine, j)[-1].reason for j in (theirs, running)}
    assert why[theirs].startswith("job never created: node 'b' did not store it within 0 s")
    assert why[running].startswith("job never created: this node did not store it")
    assert a.reserved_charges() == []
    assert await settler.sweep() == 0
    assert len(postings(engine, mine)) == 2       # never refunded twice


async def test_single_node_orphan_reason(engine: Engine, store: JobStore, spool: Spool,
                                         pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    orphan = reserve(p.accounting)
    settler = Settler(p.accounting, store, orphan_lease=LEASE)
    assert await settler.sweep() == 1
    assert postings(engine, orphan)[-1].reason == (
        "job never created: server stopped during intake; automatic refund")


async def test_sweep_writes_a_settled_amount_missing_from_its_job(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True]), user="dave"))).job
    await store.transition(job.uuid, JobEvent.START)
    await store.update_forwarding(job.uuid, forward_started=True, remote_job_id=3)
    await store.transition(job.uuid, JobEvent.COMPLETE)
    # The settlement commits, and the server is killed before the job's write-back.
    charge = p.accounting.settle(job.uuid, Outcome.COMPLETED, None)
    assert charge.state == ChargeState.SETTLED and charge.charged == 55
    rec = await store.get_by_uuid(job.uuid)
    assert rec is not None and rec.analysis is not None
    assert "ippproxy-cost-charged" not in rec.analysis["attributes"]
    assert p.accounting.unrecorded_charges() == [uuid.UUID(job.uuid)]

    settler = Settler(p.accounting, store, orphan_lease=LEASE)   # the restart
    assert await settler.sweep() == 1
    rec = await store.get_by_uuid(job.uuid)
    assert rec is not None and rec.analysis is not None
    assert rec.analysis["attributes"]["ippproxy-cost-charged"] == "0.55 EUR"
    assert rec.analysis["charge_state"] == "settled"
    assert p.accounting.unrecorded_charges() == []
    assert await settler.sweep() == 0
    assert [r.kind for r in postings(engine, job.uuid)] == ["charge"]   # nothing re-posted


async def test_notified_settlements_are_marked_recorded_in_a_batch(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    jobs = [(await p.intake.print_job(submission(docs.pdf_bytes([False]),
                                                 user="dave"))).job.uuid for _ in range(3)]
    settler = Settler(p.accounting, store, orphan_lease=LEASE)
    for job in jobs:
        await store.transition(job, JobEvent.CANCEL)
        assert await settler.settle_job(job) is not None
    assert len(p.accounting.unrecorded_charges()) == 3   # written back, not yet marked
    await settler.flush_recorded()
    assert p.accounting.unrecorded_charges() == []
    # A purged job's charge has nothing to show it on: marked, not an error.
    gone = reserve(p.accounting)
    p.accounting.settle(gone, Outcome.COMPLETED, None)
    assert await settler.sweep() == 0 and p.accounting.unrecorded_charges() == []


async def test_settler_marks_recorded_at_stop(engine: Engine, store: JobStore,
                                              spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    settler = Settler(p.accounting, store, interval=3600, orphan_lease=LEASE)
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True]), user="dave"))).job
    await store.transition(job.uuid, JobEvent.CANCEL)
    assert await settler.settle_job(job.uuid) is not None
    assert p.accounting.unrecorded_charges() == [uuid.UUID(job.uuid)]   # batched
    await settler.stop()
    assert p.accounting.unrecorded_charges() == []


async def test_an_orphan_behind_pages_of_held_reservations_is_found(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = build(config(), engine, store, spool, pool)
    held = [(await p.intake.print_job(submission(docs.pdf_bytes([False]), user="dave"))).job
            for _ in range(5)]                  # pending jobs keep their charges reserved
    orphan = reserve(p.accounting)
    monkeypatch.setattr(settle, "SWEEP_PAGE", 2)
    settler = Settler(p.accounting, store, orphan_lease=LEASE)
    assert await settler.sweep() == 1
    assert [r.kind for r in postings(engine, orphan)] == ["charge", "refund"]
    assert {r.job_uuid for r in p.accounting.reserved_charges()} == {
        uuid.UUID(j.uuid) for j in held}
