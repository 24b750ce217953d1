"""Opening the pipeline for one server process: the pieces app.py wires in.

``async with open_pipeline(config, engine, store, spool) as p:`` creates the groups of the
config in the user store, starts the analysis pool and the settlement task, and stops
them on exit. ``p.intake`` is the server's IntakeHook, ``p.settler`` a JobNotifier (and
the Forwarder's ``on_finished``), ``p.authenticator`` the server's Authenticator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import Engine

from ippproxy.accounting import AccountingService
from ippproxy.config import Config
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import settings
from ippproxy.pipeline.auth import BasicAuthenticator
from ippproxy.pipeline.conversion import Converter
from ippproxy.pipeline.intake import IntakePipeline
from ippproxy.pipeline.recent import StoreRecentJobs
from ippproxy.pipeline.settle import Settler


@dataclass(frozen=True)
class Pipeline:
    accounting: AccountingService
    pool: AnalysisPool
    intake: IntakePipeline
    settler: Settler
    authenticator: BasicAuthenticator


def make_pool(config: Config) -> AnalysisPool:
    a = config.analysis
    return AnalysisPool(a.workers, queue_size=a.queue_size, cpu_seconds=a.cpu_seconds,
                        memory_bytes=a.memory_mb << 20, wall_seconds=a.wall_seconds)


def make_accounting(config: Config, engine: Engine) -> AccountingService:
    return AccountingService(engine, settings.pricing(config),
                             settings.accounting_settings(config))


@contextlib.asynccontextmanager
async def open_pipeline(config: Config, engine: Engine, store: JobStore,
                        spool: Spool) -> AsyncIterator[Pipeline]:
    accounting = make_accounting(config, engine)
    await asyncio.to_thread(settings.sync_groups, engine, config)
    chain = settings.policy_chain(config, StoreRecentJobs(engine))
    async with contextlib.AsyncExitStack() as stack:
        pool = make_pool(config)
        await pool.start()
        stack.push_async_callback(pool.close)
        converter = Converter(pool, spool, config.storage.node)
        await asyncio.to_thread(converter.clean)
        settler = Settler(accounting, store, interval=config.accounting.settle_interval)
        await settler.start()
        stack.push_async_callback(settler.stop)
        yield Pipeline(accounting, pool, IntakePipeline(config, accounting, converter, chain,
                                                        store),
                       settler, BasicAuthenticator(config, accounting))
