"""JobStore on a real SQLite database (WAL) in tmp_path."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine

from ippproxy.db import Base, make_engine
from ippproxy.jobs import personal
from ippproxy.jobs.records import (
    DocumentHold,
    JobClosedError,
    JobNotFound,
    JobRecord,
    NewDocument,
)
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore

S, E = JobState, JobEvent
MakeDoc = Callable[..., Awaitable[NewDocument]]


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diff if any(t in repr(d) for t in ("'queues'", "'queue_states'",
                                                           "'jobs'", "'documents'",
                                                           "'spool_copies'",
                                                           "'ipp_subscriptions'",
                                                           "'ipp_events'"))]
    assert mine == []


async def test_create_and_get(store: JobStore, make_doc: MakeDoc) -> None:
    doc = await make_doc(b"%PDF-1.7 hello")
    job = await store.create_job(
        "q",
        owner="alice",
        name="report.pdf",
        attributes=b"\x42\x00\x08job-name",
        document_format="application/pdf",
        documents=[doc],
        originating_host="10.0.0.5",
    )
    assert job.job_id == 1 and job.state is S.PENDING and job.state_reasons == ("none",)
    assert job.documents[0].sha256 == doc.sha256 and job.documents[0].number == 1
    assert job.created_at.tzinfo is not None
    got = await store.get("q", 1)
    assert got == job
    assert await store.get_by_uuid(job.uuid) == job
    assert await store.get("q", 2) is None
    assert await store.get("other", 1) is None
    assert await store.get_by_uuid("nope") is None


async def test_the_record_of_a_new_job_is_what_the_store_gives_back(
        store: JobStore, make_doc: MakeDoc) -> None:
    # create_job builds its answer from the rows it staged, not by reading them back:
    # every field (types included) must be what a later read returns.
    variants = [
        {},
        {"hold_until": "indefinite", "priority": 90, "name": "held"},
        {"closed": False, "originating_host": "10.1.2.3", "peer_address": "127.0.0.2"},
        {"reasons": ("job-account-info-needed",), "message": "pick an account",
         "hold_until": "indefinite", "analysis": {"pages": 3, "colour": [1, 0, 1]}},
        {"attributes": bytearray(b"\x02\x00"), "documents": "doc"},
    ]
    for kw in variants:
        if kw.get("documents") == "doc":
            kw = {**kw, "documents": [await make_doc(b"%PDF-1.7 x")]}
        job = await store.create_job("q", owner="alice", **kw)  # type: ignore[arg-type]
        got = await store.get_by_uuid(job.uuid)
        assert got == job, kw
        for field in JobRecord.__dataclass_fields__:
            assert type(getattr(job, field)) is type(getattr(got, field)), (field, kw)


async def test_the_last_document_and_its_hold_are_one_write(store: JobStore,
                                                          make_doc: MakeDoc) -> None:
    """A closed, pending job may be claimed by a forwarder at once: a hold decided for the
    last document (Find-Me, an account to choose) goes in the write that closes the job,
    or a forwarder could send the job before it (tests/e2e/test_findme.py saw it)."""
    job = await store.create_job("q", owner="u", closed=False)
    before = store.stats().ops
    job = await store.add_document(job.uuid, await make_doc(b"last"), last=True,
                                   hold=DocumentHold(("job-held-for-review",), "pick a printer"))
    assert store.stats().ops - before == 1
    assert job.closed and job.state is S.PENDING_HELD and job.hold_until == "indefinite"
    assert job.state_reasons == ("job-held-for-review",)
    assert job.state_message == "pick a printer"
    # A job held already (Create-Job with a hold) stays as it is; no hold, no change.
    held = await store.create_job("q", owner="u", closed=False, hold_until="indefinite")
    held = await store.add_document(held.uuid, await make_doc(b"x"), last=True,
                                    hold=DocumentHold(("job-held-for-review",)))
    assert held.state is S.PENDING_HELD and held.state_reasons == ("job-hold-until-specified",)
    plain = await store.create_job("q", owner="u", closed=False)
    assert (await store.add_document(plain.uuid, None, last=True, hold=None)).state is S.PENDING
    # A document that is not the last (Close-Job comes after it) is held as well, open.
    later = await store.create_job("q", owner="u", closed=False)
    later = await store.add_document(later.uuid, await make_doc(b"y"), last=False,
                                     hold=DocumentHold(("job-held-for-review",)))
    assert later.state is S.PENDING_HELD and not later.closed
    assert (await store.close_job(later.uuid)).state is S.PENDING_HELD


async def test_job_ids_per_queue(store: JobStore) -> None:
    a = [await store.create_job("a", owner="u") for _ in range(3)]
    b = await store.create_job("b", owner="u")
    assert [j.job_id for j in a] == [1, 2, 3] and b.job_id == 1


async def test_held_and_incoming(store: JobStore, make_doc: MakeDoc) -> None:
    held = await store.create_job("q", owner="u", hold_until="indefinite")
    assert held.state is S.PENDING_HELD and held.state_reasons == ("job-hold-until-specified",)
    assert (await store.create_job("q", owner="u", hold_until="no-hold")).state is S.PENDING
    # Create-Job, then two Send-Documents, the second with last-document=true.
    job = await store.create_job("q", owner="u", closed=False)
    assert not job.closed and "job-incoming" in job.state_reasons
    job = await store.add_document(job.uuid, await make_doc(b"one"))
    assert not job.closed and job.document_format == "application/pdf"
    job = await store.add_document(job.uuid, await make_doc(b"two"), last=True)
    assert job.closed and job.state_reasons == ("none",)
    assert [d.number for d in job.documents] == [1, 2]
    with pytest.raises(JobClosedError):
        await store.add_document(job.uuid, await make_doc(b"three"))
    with pytest.raises(JobNotFound):
        await store.add_document("missing", None, last=True)
    other = await store.create_job("q", owner="u", closed=False)
    assert (await store.close_job(other.uuid)).closed


async def test_transitions(store: JobStore) -> None:
    job = await store.create_job("q", owner="u")
    job = await store.transition(job.uuid, E.HOLD, hold_until="indefinite")
    assert job.state is S.PENDING_HELD and job.hold_until == "indefinite"
    job = await store.transition(job.uuid, E.RELEASE)
    assert job.state is S.PENDING and job.hold_until is None
    with pytest.raises(InvalidTransition):
        await store.transition(job.uuid, E.COMPLETE)
    job = await store.transition(job.uuid, E.START)
    assert job.state is S.PROCESSING and job.processing_at is not None
    job = await store.transition(job.uuid, E.DESTINATION_STOPPED, message="media-empty")
    assert job.state is S.PROCESSING_STOPPED and job.state_message == "media-empty"
    job = await store.transition(job.uuid, E.COMPLETE)
    assert job.state is S.COMPLETED and job.completed_at is not None and job.is_terminal
    assert job.state_reasons == ("job-completed-successfully",)
    with pytest.raises(InvalidTransition):
        await store.transition(job.uuid, E.CANCEL)
    with pytest.raises(JobNotFound):
        await store.transition("missing", E.CANCEL)
    # A failed op in a batch does not spoil the others in the same commit.
    other = await store.create_job("q", owner="u")
    results = await asyncio.gather(
        store.transition(job.uuid, E.CANCEL),
        store.transition(other.uuid, E.CANCEL),
        return_exceptions=True,
    )
    assert isinstance(results[0], InvalidTransition)
    assert (await store.get_by_uuid(other.uuid)).state is S.CANCELED  # type: ignore[union-attr]


async def test_a_transition_stores_an_analysis_and_attributes_in_the_same_write(
        store: JobStore) -> None:
    # An answered popup (services/userside.py): the choice and the release, one commit;
    # the attributes are edited from the row as locked, not as the caller last read it.
    job = await store.create_job("q", owner="u", hold_until="indefinite",
                                 attributes=b"old")
    seen: list[bytes] = []

    def edit(attributes: bytes) -> bytes:
        seen.append(attributes)
        return attributes + b"+account"
    analysis = {"account": "lab", "attributes": {"job-impressions": 3,
                                                 "job-impressions-col": 1}}
    new = await store.transition(job.uuid, E.RELEASE, analysis=analysis,
                                 edit_attributes=edit)
    assert new.state is S.PENDING and new.hold_until is None
    assert new.analysis == analysis and new.attributes == b"old+account" and seen == [b"old"]
    assert (new.impressions, new.impressions_col) == (3, 1)
    assert await store.get_by_uuid(job.uuid) == new
    # A refused transition stores neither.
    with pytest.raises(InvalidTransition):
        await store.transition(job.uuid, E.COMPLETE, analysis={"account": "x"},
                               edit_attributes=lambda a: b"x")
    assert await store.get_by_uuid(job.uuid) == new


async def test_forwarding_fields_and_counts(store: JobStore) -> None:
    job = await store.create_job("q", owner="u")
    await store.update_forwarding(
        job.uuid,
        destination_uri="ipp://p/ipp/print",
        forward_started=True,
        remote_job_id=17,
        forward_attempts=1,
        reasons=["job-outgoing"],
        message="sending",
    )
    job = await store.get_by_uuid(job.uuid)  # type: ignore[assignment]
    assert job is not None
    assert job.forward_started and job.remote_job_id == 17 and job.forward_attempts == 1
    assert job.state_reasons == ("job-outgoing",) and job.state_message == "sending"
    job = await store.set_counts(job.uuid, impressions=3, sheets=2, analysis={"pages": 3})
    assert (job.impressions_completed, job.media_sheets_completed) == (3, 2)
    assert job.analysis == {"pages": 3}
    job = await store.set_reasons(job.uuid, ["job-printing"])
    assert job.state_reasons == ("job-printing",) and job.state_message == "sending"
    with pytest.raises(JobNotFound):
        await store.set_counts("missing", impressions=1)


async def test_list_jobs_order_which_owner_limit(store: JobStore) -> None:
    clock = [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]

    def tick() -> dt.datetime:
        clock[0] += dt.timedelta(seconds=1)
        return clock[0]

    store.clock = tick
    j = {n: (await store.create_job("q", owner="alice" if n < "e" else "bob")) for n in "abcdefg"}
    await store.create_job("other-queue", owner="alice")
    await store.transition(j["a"].uuid, E.START)  # a: processing
    await store.transition(j["b"].uuid, E.HOLD)  # b: held
    await store.transition(j["c"].uuid, E.CANCEL)  # c: canceled first
    await store.transition(j["g"].uuid, E.START)
    await store.transition(j["g"].uuid, E.COMPLETE)  # g: completed later
    hi = await store.create_job("q", owner="bob", priority=90)  # h: pending, high priority

    def ids(jobs: list[JobRecord]) -> list[int]:
        return [x.job_id for x in jobs]

    # RFC 8011 §4.2.6: not-completed in processing order; completed newest first.
    assert ids(await store.list_jobs("q")) == [1, hi.job_id, 4, 5, 6, 2]
    assert ids(await store.list_jobs("q", "completed")) == [7, 3]
    assert ids(await store.list_jobs("q", "all")) == [1, hi.job_id, 4, 5, 6, 2, 7, 3]
    assert ids(await store.list_jobs("q", "all", owner="alice")) == [1, 4, 2, 3]
    assert ids(await store.list_jobs("q", "not-completed", limit=2)) == [1, hi.job_id]
    assert len(await store.list_jobs(None, "all")) == 9
    assert await store.count_jobs("q") == 6 and await store.count_jobs("q", "completed") == 2
    with pytest.raises(ValueError):
        await store.list_jobs("q", "fetchable")  # type: ignore[arg-type]


async def test_claim_next_for_forwarding(store: JobStore) -> None:
    now = dt.datetime.now(dt.UTC)
    held = await store.create_job("q", owner="u", hold_until="indefinite")
    incoming = await store.create_job("q", owner="u", closed=False)
    later = await store.create_job("q", owner="u")
    await store.transition(later.uuid, E.START)
    await store.transition(later.uuid, E.REQUEUE, next_attempt_at=now + dt.timedelta(minutes=5))
    low = await store.create_job("q", owner="u", priority=10)
    high = await store.create_job("paused", owner="u", priority=99)

    first = await store.claim_next_for_forwarding(now, queues=["q"])
    assert first is not None and first.uuid == low.uuid and first.state is S.PROCESSING
    assert first.lease_until is not None
    assert await store.claim_next_for_forwarding(now, queues=["q"]) is None  # held, open, later
    assert await store.next_attempt_time() == now + dt.timedelta(minutes=5)
    due = await store.claim_next_for_forwarding(now + dt.timedelta(minutes=6), queues=["q"])
    assert due is not None and due.uuid == later.uuid
    assert (await store.claim_next_for_forwarding(now)).uuid == high.uuid  # type: ignore[union-attr]
    assert {held.uuid, incoming.uuid}.isdisjoint({first.uuid, due.uuid})


async def test_abort_incomplete(store: JobStore) -> None:
    job = await store.create_job("q", owner="u", closed=False)
    assert await store.abort_incomplete(job.created_at) == []
    [aborted] = await store.abort_incomplete(job.created_at + dt.timedelta(seconds=1))
    assert aborted.state is S.ABORTED and "submission-interrupted" in aborted.state_reasons


async def test_purge_history_and_ids_never_reused(
    db_url: str, engine: Engine, make_doc: MakeDoc
) -> None:
    async with JobStore(engine) as store:
        done = []
        for _ in range(3):
            job = await store.create_job("q", owner="u", documents=[await make_doc(b"x")])
            await store.transition(job.uuid, E.CANCEL)
            done.append(job)
        keep = await store.create_job("q", owner="u")
        purged = await store.purge_history(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
        assert set(purged.job_uuids) == {j.uuid for j in done}
        assert sorted(purged.spool_names) == sorted(j.documents[0].spool_name for j in done)
        assert await store.list_jobs("q", "all") == [keep]
    engine.dispose()
    # A restart: new engine, new store. The counter continues; 1-4 are never handed out again.
    async with JobStore(make_engine(db_url)) as store:
        assert (await store.create_job("q", owner="u")).job_id == 5


async def test_group_commit_50_concurrent_all_durable(
    db_url: str, engine: Engine, make_doc: MakeDoc
) -> None:
    docs = [await make_doc(b"doc %d" % i) for i in range(50)]
    async with JobStore(engine) as store:
        jobs = await asyncio.gather(
            *(store.create_job("q", owner=f"u{i}", documents=[d]) for i, d in enumerate(docs))
        )
        stats = store.stats()
    assert sorted(j.job_id for j in jobs) == list(range(1, 51))
    assert stats.batches < stats.ops  # several creates shared one commit
    # The answers waited for the syncer's fdatasync (a file-backed SQLite): at most one a batch.
    assert 1 <= stats.syncs <= stats.batches
    assert stats.batch_seconds > 0 and stats.sync_seconds > 0
    engine.dispose()
    async with JobStore(make_engine(db_url)) as store:  # reopened: everything is on disk
        stored = await store.list_jobs("q")
        assert {j.uuid for j in stored} == {j.uuid for j in jobs}
        assert {j.documents[0].sha256 for j in stored} == {d.sha256 for d in docs}


async def test_closed_store_refuses(engine: Engine) -> None:
    store = JobStore(engine)
    await store.close()
    with pytest.raises(RuntimeError):
        await store.create_job("q", owner="u")


async def test_batched_creates_with_a_failure_and_several_queues(store: JobStore) -> None:
    """One bad create in a batch (a duplicate uuid) fails alone; the rest commit."""
    dup = "00000000-0000-4000-8000-000000000001"
    results = await asyncio.gather(
        *(store.create_job(q, owner="u") for q in ("a", "b", "a", "c", "b")),
        store.create_job("a", owner="u", uuid=dup),
        store.create_job("a", owner="u", uuid=dup),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    ok = [r for r in results if not isinstance(r, BaseException)]
    by_queue: dict[str, list[int]] = {}
    for r in ok:
        by_queue.setdefault(r.queue, []).append(r.job_id)
    # The failed fast path was rolled back as a whole, so no id was lost either.
    assert {q: sorted(v) for q, v in by_queue.items()} == {"a": [1, 2, 3], "b": [1, 2], "c": [1]}
    assert len(await store.list_jobs(None)) == 6
    ids = [(r.queue, r.job_id) for r in ok]
    assert len(ids) == len(set(ids))


async def test_release_expired_holds(store: JobStore) -> None:
    now = dt.datetime.now(dt.UTC)
    timed = await store.create_job(
        "q", owner="u", hold_until="day-time", hold_until_time=now + dt.timedelta(hours=1)
    )
    forever = await store.create_job("q", owner="u", hold_until="indefinite")
    assert await store.release_expired_holds(now) == []
    [released] = await store.release_expired_holds(now + dt.timedelta(hours=2))
    assert released.uuid == timed.uuid and released.state is S.PENDING
    assert released.hold_until is None and released.hold_until_time is None
    assert (await store.get_by_uuid(forever.uuid)).state is S.PENDING_HELD  # type: ignore[union-attr]


async def test_requeue_expired_leases(store: JobStore) -> None:
    now = dt.datetime.now(dt.UTC)
    await store.create_job("q", owner="u")
    claimed = await store.claim_next_for_forwarding(now, lease=dt.timedelta(minutes=1))
    assert claimed is not None
    await store.update_forwarding(claimed.uuid, forward_started=True)
    writes_before = store.stats()
    assert await store.requeue_expired_leases(now + dt.timedelta(seconds=30)) == []
    assert store.stats() == writes_before   # nothing expired: a read, no write transaction
    [back] = await store.requeue_expired_leases(now + dt.timedelta(minutes=2))
    assert back.state is S.PENDING and back.forward_started and back.lease_until is None


async def test_held_jobs_by_peer_address_and_erased_with_their_owner(store: JobStore) -> None:
    """The socket peer a job came from (a "popup" queue asks the clients there): the held
    jobs from one address are found by it; erasing the owner's personal data clears it."""
    held = await store.create_job("q", owner="Pixel 7", hold_until="indefinite",
                                  peer_address="127.0.0.2")
    await store.create_job("q", owner="Pixel 7", peer_address="127.0.0.2")    # not held
    await store.create_job("q", owner="bob", hold_until="indefinite",
                           peer_address="127.0.0.3")
    await store.create_job("q", owner="carol", hold_until="indefinite")      # no address
    found, _ = await store.search_jobs(JobQuery(peer_address="127.0.0.2",
                                                states=(S.PENDING_HELD,)))
    assert [j.uuid for j in found] == [held.uuid] and found[0].peer_address == "127.0.0.2"
    await store.write(lambda c: personal.erase_owner(c, "Pixel 7", "erased-1"))
    gone = await store.get_by_uuid(held.uuid)
    assert gone is not None and gone.peer_address is None and gone.owner == "erased-1"


async def test_a_batchs_before_writes_run_in_the_order_of_their_keys(store: JobStore) -> None:
    """Intake's reservations lock their accounts' rows until the batch's COMMIT: every
    node's batches take them in one order (their keys), not the order of arrival."""
    ran: list[str] = []

    def before(key: str) -> Callable[[object], None]:
        return lambda conn: ran.append(key)

    keys = ["user zoe", "account physics", "user ann", "user bob"]
    made = await asyncio.gather(*(store.create_job("q", owner="u", before=before(k),
                                                   before_key=k) for k in keys))
    assert len({j.job_id for j in made}) == 4
    assert ran == sorted(keys), ran   # one batch: created together, in key order


async def test_a_batch_reads_ahead_once_for_the_before_writes_that_ask_it(
        store: JobStore) -> None:
    """On PostgreSQL every statement of the writer is a round trip: the before writes of
    a batch that name one ``read_ahead`` are given to it together, in their keys' order,
    before the first of them runs; a write without it is not given to it."""
    ran: list[object] = []

    def read(conn: Connection, befores: Sequence[Callable[[Connection], object]]) -> None:
        ran.append(("read", [names[b] for b in befores]))

    def before(key: str) -> Callable[[Connection], object]:
        return lambda conn: ran.append(key)

    keys = ["user zoe", "user ann", "account physics", "user bob"]
    writes = {k: before(k) for k in keys}
    names = {w: k for k, w in writes.items()}
    made = await asyncio.gather(*(store.create_job(
        "q", owner="u", before=writes[k], before_key=k,
        read_ahead=None if k.startswith("account") else read) for k in keys))
    assert len({j.job_id for j in made}) == 4
    assert ran == [("read", ["user ann", "user bob", "user zoe"]), *sorted(keys)], ran
