"""Per-user caps (issue 15 part 6): jobs not yet completed (server-error-too-many-jobs) and
subscriptions (client-error-too-many-subscriptions), and multiple-operation-time-out
aborting Create-Job jobs that never get their document, which frees the cap again."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web

from ippproxy.app import build_app
from ippproxy.db.base import utcnow
from ippproxy.ipp import Group, Status, Tag
from ippproxy.ipp import Operation as Op
from ippproxy.server import housekeeping
from ippproxy.server.http import CTX

from .client import Ipp, a, status, value
from .conftest import make_config

J = Tag.JOB_ATTRIBUTES
# Long enough that the server's own housekeeping pass (at start, then every 10 s) cannot
# abort a job of the burst below, however slow a loaded machine makes it: an abort frees a
# place under the cap, so a job more would rightly pass. The abort itself is checked by
# moving the store's clock past the time-out.
TIME_OUT = 600


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Ipp, web.Application]]:
    cfg = make_config(tmp_path, multiple_operation_timeout=TIME_OUT,
                      max_subscriptions_per_user=3)
    app = build_app(cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, cfg.server.listen, cfg.server.port).start()
    async with aiohttp.ClientSession() as session:
        auth = f"{cfg.server.listen}:{cfg.server.port}"
        yield Ipp(session, f"http://{auth}", auth, "default"), app
    await runner.cleanup()


async def test_600_jobs_without_documents_from_one_user(
        served: tuple[Ipp, web.Application]) -> None:
    ipp, app = served
    sem = asyncio.Semaphore(8)

    async def create(user: str) -> str:
        async with sem:
            return status(await ipp.call(Op.CREATE_JOB, user=user))

    answers = await asyncio.gather(*(create("mallory") for _ in range(600)))
    # Never one too many; a concurrent burst may be refused a job early (receiving.py),
    # which one at a time tops up to exactly the default max_jobs_per_user.
    ok = answers.count("successful-ok")
    assert 190 <= ok <= 200
    assert answers.count("server-error-too-many-jobs") == 600 - ok
    while ok < 200:
        assert await create("mallory") == "successful-ok"
        ok += 1
    m = await ipp.call(Op.CREATE_JOB, user="mallory")
    assert status(m) == "server-error-too-many-jobs"
    assert "200 jobs not yet completed" in str(m.get(Tag.OPERATION_ATTRIBUTES,
                                                      "status-message").value)  # type: ignore[union-attr]
    assert await create("bob") == "successful-ok"   # the cap is per user
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES)
    assert value(m, Tag.PRINTER_ATTRIBUTES, "multiple-operation-time-out") == TIME_OUT

    ctx = app[CTX].get()
    ctx.store.clock = lambda: utcnow() + dt.timedelta(seconds=TIME_OUT + 1)
    await housekeeping.run_once(ctx)
    m = await ipp.call(Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "completed"),
                       a("requested-attributes", Tag.KEYWORD, "job-state",
                         "job-state-reasons"), user="mallory")
    jobs = m.groups_of(J)
    assert len(jobs) == 201
    for g in jobs:
        assert g.get("job-state").value == 8  # type: ignore[union-attr]
        assert "submission-interrupted" in g.get("job-state-reasons").plain  # type: ignore[union-attr]
    assert await create("mallory") == "successful-ok"


def _sub_group() -> Group:
    return Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
        a("notify-pull-method", Tag.KEYWORD, "ippget"),
        a("notify-events", Tag.KEYWORD, "job-completed")))


async def test_subscriptions_per_user_are_capped(served: tuple[Ipp, web.Application]) -> None:
    ipp, _app = served
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=[_sub_group()] * 2)
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=[_sub_group()] * 2)
    assert status(m) == "successful-ok-ignored-subscriptions"
    codes = [g.get("notify-status-code") for g in m.groups_of(Tag.SUBSCRIPTION_ATTRIBUTES)]
    assert codes[0] is None
    assert codes[1] is not None and codes[1].value == Status.CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=[_sub_group()])
    assert status(m) == "client-error-too-many-subscriptions"
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=[_sub_group()], user="bob")
    assert status(m) == "successful-ok"


async def test_the_servers_active_jobs_are_capped_whoever_owns_them(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, max_active_jobs=5)
    app = build_app(cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, cfg.server.listen, cfg.server.port).start()
    try:
        async with aiohttp.ClientSession() as session:
            auth = f"{cfg.server.listen}:{cfg.server.port}"
            ipp = Ipp(session, f"http://{auth}", auth, "default")
            answers = await asyncio.gather(*(ipp.call(Op.CREATE_JOB, user=f"u{n % 3}")
                                             for n in range(8)))
            assert [status(m) for m in answers].count("successful-ok") == 5
            busy = [m for m in answers if status(m) != "successful-ok"]
            assert {status(m) for m in busy} == {"server-error-busy"}
            message = str(busy[0].get(Tag.OPERATION_ATTRIBUTES, "status-message").value)  # type: ignore[union-attr]
            assert "5 jobs not yet completed" in message
            m = await ipp.call(Op.CREATE_JOB, user="newcomer")
            assert status(m) == "server-error-busy"
            # one finishes (cancelled): room for one more
            job_id = value(answers[0], J, "job-id")
            m = await ipp.call(Op.CANCEL_JOB, a("job-id", Tag.INTEGER, job_id), user="u0")
            assert status(m) == "successful-ok"
            assert status(await ipp.call(Op.CREATE_JOB, user="newcomer")) == "successful-ok"
            assert status(await ipp.call(Op.CREATE_JOB, user="newcomer")) == "server-error-busy"
    finally:
        await runner.cleanup()
