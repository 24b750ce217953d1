"""The admin's job list (``JobStore.search_jobs``) and moving a job (``move_job``) on a real
SQLite store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest

from ippproxy.jobs.moving import JobNotMovable
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore

MakeDoc = Callable[..., Awaitable[NewDocument]]


async def _job(store: JobStore, make_doc: MakeDoc, queue: str, owner: str) -> str:
    job = await store.create_job(queue, owner=owner, name=f"{owner}@{queue}",
                                 attributes=b"", document_format="application/pdf",
                                 documents=[await make_doc()])
    return job.uuid


async def test_search_filters_sorts_and_pages(store: JobStore, make_doc: MakeDoc) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    uuids = [await _job(store, make_doc, q, o)
             for q, o in [("a", "Alice"), ("a", "bob"), ("b", "alice"), ("b", "carol"),
                          ("a", "ALICE")]]
    await store.transition(uuids[1], JobEvent.HOLD, hold_until="indefinite")
    await store.transition(uuids[3], JobEvent.CANCEL)
    jobs, total = await store.search_jobs(JobQuery(owner="alice"))
    assert total == 3 and {j.uuid for j in jobs} == {uuids[0], uuids[2], uuids[4]}
    held, n = await store.search_jobs(JobQuery(states=(int(JobState.PENDING_HELD),)))
    assert n == 1 and held[0].uuid == uuids[1]
    _, n = await store.search_jobs(JobQuery(queue="b", states=(int(JobState.CANCELED),
                                                                int(JobState.PENDING))))
    assert n == 2
    _, n = await store.search_jobs(JobQuery(since=dt.datetime.now(dt.UTC)
                                            + dt.timedelta(seconds=5)))
    assert n == 0
    _, n = await store.search_jobs(JobQuery(since=before, until=dt.datetime.now(dt.UTC)
                                            + dt.timedelta(seconds=5)))
    assert n == 5
    # Pages by owner then uuid never overlap and cover everything.
    seen = []
    for offset in range(0, 5, 2):
        page, total = await store.search_jobs(JobQuery(sort="owner", descending=False,
                                                       offset=offset, limit=2))
        seen += page
    assert total == 5 and sorted(j.uuid for j in seen) == sorted(uuids)
    owners = [j.owner for j in seen]
    assert owners == sorted(owners)
    with pytest.raises(ValueError):
        await store.search_jobs(JobQuery(sort="password_hash"))


async def test_move_gives_the_next_id_of_the_new_queue(store: JobStore,
                                                       make_doc: MakeDoc) -> None:
    first = await _job(store, make_doc, "b", "dave")  # b's job 1
    moving = await _job(store, make_doc, "a", "erin")
    await store.transition(moving, JobEvent.HOLD, hold_until="indefinite")
    moved = await store.move_job(moving, "b")
    assert (moved.queue, moved.job_id, moved.state) == ("b", 2, JobState.PENDING_HELD)
    assert (await store.get("b", 2)).uuid == moving  # type: ignore[union-attr]
    assert await store.get("a", 1) is None
    await store.transition(first, JobEvent.CANCEL)
    with pytest.raises(JobNotMovable):
        await store.move_job(first, "a")
    claimed = await _job(store, make_doc, "a", "frank")
    await store.update_forwarding(claimed, forward_started=True)
    with pytest.raises(JobNotMovable):
        await store.move_job(claimed, "b")
