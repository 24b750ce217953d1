"""Pause-Printer over real IPP: the queue's state is kept in the job store, so a paused
queue holds its jobs (the others go on), Resume-Printer forwards them at once, and the
state (paused, not accepting) survives a restart of the server, as with cupsd."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from support.admin import master_authorization, start_tls_site

from ippproxy.app import build_app
from ippproxy.catalog.audit import AuditQuery
from ippproxy.catalog.store import Catalog
from ippproxy.config import Config, QueueConfig
from ippproxy.db import make_engine
from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag
from ippproxy.jobs.store import JobStore

from .client import Ipp, a, status, value
from .conftest import free_port, make_config
from .test_server_flow import PDF_FMT, wait_state

J, P = Tag.JOB_ATTRIBUTES, Tag.PRINTER_ATTRIBUTES
PENDING, PROCESSING_STOPPED, COMPLETED = 3, 6, 9
IDLE, STOPPED = 3, 5


class Server:
    """build_app on its port, stopped and started again on the same database and spool."""

    def __init__(self, config: Config, session: aiohttp.ClientSession) -> None:
        self.config, self.session = config, session
        self.runner: web.AppRunner | None = None
        self.tls_port = free_port()
        self.authorization = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(build_app(self.config), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.config.server.listen,
                          self.config.server.port).start()
        await start_tls_site(self.runner, self.config, self.tls_port)
        if not self.authorization:
            self.authorization = await master_authorization(self.config)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def queue(self, name: str) -> Ipp:
        auth = f"{self.config.server.listen}:{self.config.server.port}"
        return Ipp(self.session, f"http://{auth}", auth, name,
                   tls_base=f"https://{self.config.server.listen}:{self.tls_port}")

    def admin(self, name: str) -> Ipp:
        """The queue as the master admin (HTTP Basic over TLS)."""
        return self.queue(name).with_auth(self.authorization)


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    config = make_config(tmp_path, queues=(QueueConfig("a"), QueueConfig("b")))
    async with aiohttp.ClientSession() as session:
        srv = Server(config, session)
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()


async def print_job(ipp: Ipp, pdf: bytes) -> int:
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    assert status(m) == "successful-ok"
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    return job_id


async def printer(ipp: Ipp) -> tuple[object, list[object], object]:
    # A destination slower than the first answer's grace is answered for with the static
    # attributes and offline-report while it is read in the background (issue 15): ask
    # again until its own answer is in.
    for _ in range(150):
        m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a(
            "requested-attributes", Tag.KEYWORD, "printer-state", "printer-state-reasons",
            "printer-is-accepting-jobs"))
        reasons = m.get(P, "printer-state-reasons")
        assert reasons is not None
        if "offline-report" not in reasons.plain:
            break
        await asyncio.sleep(0.2)
    return (value(m, P, "printer-state"), list(reasons.plain),
            value(m, P, "printer-is-accepting-jobs"))


async def held(ipp: Ipp, job_id: int) -> None:
    """The job stays pending while the forwarder polls many times (poll 0.1 s)."""
    for _ in range(5):
        assert await wait_state(ipp, job_id, {PROCESSING_STOPPED, 7, 8, COMPLETED},
                                timeout=0.3) == PENDING


async def test_a_paused_queue_holds_its_jobs_and_the_others_go_on(server: Server,
                                                                   pdf: bytes) -> None:
    qa, qb = server.queue("a"), server.queue("b")
    assert status(await server.admin("a").call(Op.PAUSE_PRINTER)) == "successful-ok"
    assert (await printer(qa))[:2] == (STOPPED, ["paused"])
    held_id = await print_job(qa, pdf)
    other_id = await print_job(qb, pdf)
    assert await wait_state(qb, other_id, {7, 8, COMPLETED}) == COMPLETED
    await held(qa, held_id)
    assert status(await server.admin("a").call(Op.RESUME_PRINTER)) == "successful-ok"
    assert (await printer(qa))[0] != STOPPED
    # The forwarder is woken: the job goes long before its next idle poll would matter.
    assert await wait_state(qa, held_id, {7, 8, COMPLETED}, timeout=10) == COMPLETED


async def test_pause_and_reject_survive_a_restart(server: Server, pdf: bytes) -> None:
    qa, qb = server.queue("a"), server.queue("b")
    assert status(await server.admin("a").call(Op.PAUSE_PRINTER)) == "successful-ok"
    assert status(await server.admin("b").call(Op.DISABLE_PRINTER)) == "successful-ok"
    job_id = await print_job(qa, pdf)
    await held(qa, job_id)
    await server.stop()
    await server.start()
    assert await printer(qa) == (STOPPED, ["paused"], True)
    assert (await printer(qb))[2] is False
    m = await qb.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    assert status(m) == "server-error-not-accepting-jobs"
    await held(qa, job_id)                      # still paused after the restart
    assert status(await server.admin("a").call(Op.RESUME_PRINTER)) == "successful-ok"
    assert await wait_state(qa, job_id, {7, 8, COMPLETED}) == COMPLETED
    assert status(await server.admin("b").call(Op.ENABLE_PRINTER)) == "successful-ok"
    await server.stop()
    await server.start()
    assert await printer(qa) == (IDLE, ["none"], True)
    assert await printer(qb) == (IDLE, ["none"], True)
    assert await wait_state(qb, await print_job(qb, pdf), {7, 8, COMPLETED}) == COMPLETED


async def test_a_pause_made_on_one_node_holds_the_jobs_of_another(
        tmp_path: Path, virtual_printer: Any, pdf: bytes) -> None:
    """Two servers (nodes) on one database and spool: Pause-Printer on the first keeps the
    second from forwarding the queue's jobs (it claims through the store)."""
    vp = await virtual_printer()
    base = make_config(tmp_path, queues=(QueueConfig("a", destination=vp.uri),))
    first = dataclasses.replace(base, storage=dataclasses.replace(base.storage, node="one"))
    second = dataclasses.replace(first, server=dataclasses.replace(
        base.server, port=free_port()), storage=dataclasses.replace(base.storage, node="two"))
    async with aiohttp.ClientSession() as session:
        one, two = Server(first, session), Server(second, session)
        await one.start()
        await two.start()
        try:
            assert status(await one.admin("a").call(Op.PAUSE_PRINTER)) \
                == "successful-ok"
            job_id = await print_job(two.queue("a"), pdf)
            await held(two.queue("a"), job_id)
            assert not vp.jobs
            assert status(await one.admin("a").call(Op.RESUME_PRINTER)) \
                == "successful-ok"
            assert await wait_state(two.queue("a"), job_id, {7, 8, COMPLETED}) == COMPLETED
            assert len(vp.jobs) == 1
        finally:
            await two.stop()
            await one.stop()


async def _reasons(ipp: Ipp, job_id: int | None = None) -> list[object]:
    if job_id is None:     # Get-Jobs: the first job's
        m = await ipp.call(Op.GET_JOBS, a("requested-attributes", Tag.KEYWORD,
                                           "job-id", "job-state-reasons"))
    else:
        m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    reasons = m.get(J, "job-state-reasons")
    assert reasons is not None, m
    return list(reasons.plain)


async def test_a_job_waiting_on_a_paused_queue_says_printer_stopped(server: Server,
                                                                    pdf: bytes) -> None:
    """RFC 8011 §5.3.8: a pending job of a stopped printer has 'printer-stopped' in its
    job-state-reasons (Get-Job-Attributes and Get-Jobs), until the queue is resumed."""
    qa = server.queue("a")
    assert status(await server.admin("a").call(Op.PAUSE_PRINTER)) == "successful-ok"
    job_id = await print_job(qa, pdf)
    await held(qa, job_id)
    assert "printer-stopped" in await _reasons(qa, job_id)
    assert "none" not in await _reasons(qa, job_id)
    assert "printer-stopped" in await _reasons(qa)
    m = await qa.call(Op.PRINT_JOB, PDF_FMT, a("job-hold-until", Tag.KEYWORD, "indefinite"),
                      data=pdf)
    on_hold = value(m, J, "job-id")
    assert isinstance(on_hold, int)
    assert "printer-stopped" not in await _reasons(qa, on_hold)   # waits for its release
    assert status(await server.admin("a").call(Op.RESUME_PRINTER)) == "successful-ok"
    assert await wait_state(qa, job_id, {7, 8, COMPLETED}, timeout=10) == COMPLETED
    assert "printer-stopped" not in await _reasons(qa, job_id)


async def test_a_pause_over_ipp_is_announced_when_this_node_missed_the_resume(
        server: Server) -> None:
    """Another node (or the command tool) resumed the queue in the store, and this node's
    copy still says paused: its catalog watcher has not looked yet. Pause-Printer here
    changes the store, so it is audited and bumps the catalog's version, which makes every
    other node re-read the queue's state. Judged against the stale copy, it was "no
    change": no audit, no bump, and the other nodes showed the queue running for good
    (the flake of tests/e2e/test_catalog_live.py's IPP pause)."""
    admin = server.admin("a")
    assert status(await admin.call(Op.PAUSE_PRINTER)) == "successful-ok"
    engine = make_engine(server.config.storage.database)
    try:
        async with JobStore(engine, node="another") as other:
            resumed = await other.set_queue_state("a", paused=False)
        assert resumed.was == (True, True)
        catalog = Catalog(engine)
        version = catalog.version()
        assert status(await admin.call(Op.PAUSE_PRINTER)) == "successful-ok"
        assert catalog.version() > version
        pauses = catalog.audit_log(AuditQuery(kind="queue", name="a", action="pause"))
        assert [e.via for e in pauses] == ["ipp", "ipp"]
        assert (await printer(server.queue("a")))[:2] == (STOPPED, ["paused"])
        # And a pause of a queue the store already has paused changes nothing.
        version = catalog.version()
        assert status(await admin.call(Op.PAUSE_PRINTER)) == "successful-ok"
        assert catalog.version() == version
    finally:
        engine.dispose()
