"""Job submissions are counted while they are received (server/receiving.py): the
Forwarder spaces its sends meanwhile (forwarding/order.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from ippproxy.db import make_engine, upgrade
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake
from ippproxy.server.context import ServerContext
from ippproxy.server.dispatch import handle
from ippproxy.server.receiving import QUIET, Receiving
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
