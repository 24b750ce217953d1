"""Counting jobs held for one reason (a "popup" queue's jobs held until their user proves
who printed them): left out of the claimed owner's count, counted by the address they came
from. The reasons are a JSON list; the count matches the whole keyword, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore

WHO = "ippproxy-identity-needed"


@pytest_asyncio.fixture
async def store(db_url: str) -> AsyncIterator[JobStore]:  # noqa: F811
    engine = make_engine(db_url)
    upgrade(engine)
    async with JobStore(engine) as s:
        yield s
    engine.dispose()


async def test_held_for_a_reason_by_owner_and_by_address(store: JobStore) -> None:
    async def job(owner: str, peer: str, reasons: list[str] | None, hold: bool = True) -> None:
        await store.create_job("walkup", owner=owner, peer_address=peer,
                               hold_until="indefinite" if hold else None,
                               reasons=reasons)

    await job("alice", "10.0.0.2", [WHO])                    # claims alice, from .2
    await job("alice", "10.0.0.2", [WHO, "job-hold-until-specified"])
    await job("alice", "10.0.0.3", [WHO])                    # claims alice, from .3
    await job("alice", "10.0.0.1", ["job-hold-until-specified"])   # alice's own, held
    await job("alice", "10.0.0.1", None, hold=False)         # alice's own, pending
    await job("carol", "10.0.0.4", ["held-x-y"])             # "_" below is no wildcard
    await job("bob", "10.0.0.2", [WHO + "-not"])             # another keyword entirely
    assert await store.count_owned_jobs("alice") == 5
    assert await store.count_owned_jobs("alice", not_held_for=WHO) == 2
    assert await store.count_held_from(WHO, "10.0.0.2") == 2
    assert await store.count_held_from(WHO, "10.0.0.3") == 1
    assert await store.count_held_from(WHO, "10.0.0.1") == 0
    assert await store.count_held_from("held_x_y", "10.0.0.4") == 0
    assert await store.count_held_from("held-x-y", "10.0.0.4") == 1
