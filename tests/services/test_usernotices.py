"""The user's live events (services/usernotices.py) fed by the job feed's hub, on the real
job store and accounts (SQLite and PostgreSQL), no HTTP."""

from __future__ import annotations

import asyncio

from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.payer import PayerHold
from ippproxy.pipeline.settle import FanOut
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.events import EventHub, EventKind
from ippproxy.services.usernotices import UserNotices, UserStream
from ippproxy.services.userside import UserSide

BALANCE, JOB_STATE = b"event: balance\n", b"event: job-state\n"


async def _not_answered(job: JobRecord) -> PayerHold | None:
    raise AssertionError("nobody answers a question in this test")


async def _until(stream: UserStream, got: bytearray, kind: bytes, count: int) -> None:
    while got.count(kind) < count:
        got += await asyncio.wait_for(stream.next_batch(), 10)


async def test_a_users_balance_is_read_once_per_batch_of_their_job_changes(
        engine: Engine, store: JobStore) -> None:
    # Every change of a connected user's job is a job-state event; their accounts are read
    # once per batch of the feed however many of their jobs changed in it (under load a
    # batch holds many: issue 17's popups with 2,000 clients).
    def ann(conn: Connection) -> None:
        users.add_user(conn, "ann", defaults=users.UserDefaults("EUR", 500, False, 0),
                       internal=True)
    in_transaction(engine, ann)
    jobs = [await store.create_job("q", owner="ann") for _ in range(3)]
    hub = EventHub("n1")
    side = UserSide(store, engine, FanOut(), LogAudit(), _not_answered)
    notices = UserNotices(side, lambda: 600.0, hub)
    follower = asyncio.create_task(notices.run())
    got = bytearray()
    try:
        async with notices.subscribe(Actor("ann", Via.SESSION)) as stream:
            await _until(stream, got, BALANCE, 1)       # on connecting
            while not hub.subscribers:
                await asyncio.sleep(0.01)
            for job in jobs:                             # one batch
                hub.publish(EventKind.JOB_PENDING, queue="q", job_id=job.job_id, user="ann")
            await _until(stream, got, JOB_STATE, 3)
            await _until(stream, got, BALANCE, 2)
            hub.publish(EventKind.JOB_PRINTING, queue="q", job_id=jobs[0].job_id, user="ann")
            await _until(stream, got, JOB_STATE, 4)
            await _until(stream, got, BALANCE, 3)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert got.count(JOB_STATE) == 4 and got.count(BALANCE) == 3
    # Each balance follows the job-state events of its batch, with the balance itself.
    last = got.rindex(BALANCE)
    assert got.rindex(JOB_STATE) < last and b'"balance": 500' in got[last:]


async def test_a_client_that_went_away_is_not_connected(engine: Engine, store: JobStore
                                                        ) -> None:
    # A stream stays subscribed until its handler's next write fails (a keep-alive away):
    # its client's connection, asked at the moment it matters, says whether it is gone.
    def bea(conn: Connection) -> None:
        users.add_user(conn, "bea", defaults=users.UserDefaults("EUR", 500, False, 0),
                       internal=True)
    in_transaction(engine, bea)
    side = UserSide(store, engine, FanOut(), LogAudit(), _not_answered)
    notices = UserNotices(side, lambda: 600.0, EventHub("n1"))
    closed = False
    async with notices.subscribe(Actor("bea", Via.SESSION), "10.0.0.7",
                                 lambda: closed) as stream:
        assert notices.connected("bea") and stream.alive
        closed = True
        assert not notices.connected("bea") and not stream.alive
    assert not notices.connected("bea")
