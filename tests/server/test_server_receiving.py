"""Job submissions are counted while they are received (server/receiving.py): the
Forwarder spaces its sends meanwhile (forwarding/order.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from ippproxy.db import make_engine, upgrade
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake
from ippproxy.server.context import ServerContext
from ippproxy.server.dispatch import handle
from ippproxy.server.receiving import QUIET, RECOUNT, Receiving
from ippproxy.server.uris import Origin

from .conftest import make_config
from .test_server_housekeeping import NoCapabilities


def _request(op: int, ctx: ServerContext) -> Message:
    attrs = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
             Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
             Attribute.single("printer-uri", Tag.URI, "ipp://localhost/printers/default"),
             Attribute.single("requesting-user-name", Tag.NAME, "alice"),
             Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"))
    return Message((2, 0), op, 1, (Group(Tag.OPERATION_ATTRIBUTES, attrs),))


async def test_print_job_counts_while_its_document_is_received(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    engine = make_engine(cfg.storage.database)
    upgrade(engine)
    store = JobStore(engine)
    try:
        spool = Spool(tmp_path / "spool", 1 << 20)
        ctx = ServerContext(cfg, store, spool, NoCapabilities(), Intake(store, spool))
        seen: list[int] = []

        async def body() -> AsyncIterator[bytes]:
            seen.append(ctx.receiving.count)
            yield b"%PDF-1.4\n%%EOF\n"
            seen.append(ctx.receiving.count)

        assert not ctx.receiving()  # nothing received yet
        reply = await handle(ctx, _request(Operation.PRINT_JOB, ctx), Origin("localhost"), body=body())
        assert reply.code == 0, reply
        assert seen == [1, 1]
        assert ctx.receiving.count == 0

        async def broken() -> AsyncIterator[bytes]:
            seen.append(ctx.receiving.count)
            raise OSError("connection reset")
            yield b""  # pragma: no cover

        reply = await handle(ctx, _request(Operation.PRINT_JOB, ctx), Origin("localhost"), body=broken())
        assert reply.code != 0 and seen[-1] == 1
        assert ctx.receiving.count == 0  # a failed submission does not stay counted

        seen.clear()
        await handle(ctx, _request(Operation.VALIDATE_JOB, ctx), Origin("localhost"), body=body())
        assert seen == [] and ctx.receiving.count == 0
    finally:
        await store.close()
        engine.dispose()


def test_intake_counts_as_busy_until_quiet_for_a_moment() -> None:
    now = [100.0]
    receiving = Receiving(clock=lambda: now[0])
    assert not receiving()
    receiving.begin()
    assert receiving()
    now[0] += 5.0
    receiving.end()
    assert receiving()  # the client's next job is one round trip away
    now[0] += QUIET / 2
    assert receiving()
    now[0] += QUIET
    assert not receiving()


async def test_the_stored_count_is_read_again_only_near_the_cap_or_when_stale() -> None:
    """The job caps read the stored count once and then add the admissions (an upper
    bound); they read again before refusing and after RECOUNT seconds (other nodes)."""
    now = [0.0]
    receiving = Receiving(clock=lambda: now[0])
    stored, reads = [0], [0]

    async def count() -> int:
        reads[0] += 1
        return stored[0]

    async def submit() -> bool:
        async with receiving.admit_any(5, count) as fits:
            if fits:
                stored[0] += 1   # the job is stored before the request ends
            return fits

    assert [await submit() for _ in range(4)] == [True] * 4
    assert reads[0] == 1                    # one read for four admissions
    stored[0] -= 3                          # three jobs completed meanwhile
    assert await submit()                   # bound 4 + 0 < 5: no read needed
    assert reads[0] == 1
    assert await submit()                   # bound 5 >= 5: read again (2), fits
    assert reads[0] == 2
    assert [await submit() for _ in range(3)] == [True, True, False]
    assert stored[0] == 5 and reads[0] == 3  # the refusal came from a fresh read
    stored[0] = 0                           # another node's view: everything completed
    now[0] += RECOUNT + 0.1
    assert await submit() and reads[0] == 4  # a stale bound is read again


async def test_a_concurrent_burst_never_passes_the_cap_with_bounds() -> None:
    receiving = Receiving()
    stored = [0]

    async def count() -> int:
        await asyncio.sleep(0)
        return stored[0]

    async def submit() -> bool:
        async with receiving.admit("mallory", 50, count) as fits:
            if fits:
                await asyncio.sleep(0.001)
                stored[0] += 1
                await asyncio.sleep(0.001)
            return fits

    results = await asyncio.gather(*(submit() for _ in range(400)))
    assert stored[0] == results.count(True) == 50
