"""Opening the pipeline for one server process: the pieces app.py wires in.

``async with open_pipeline(config, engine, store, spool) as p:`` writes the groups of the
config to the user store, starts the analysis pool and the settlement task, and stops
them on exit. ``p.intake`` is what the server's submission handlers call, ``p.settler``
a JobNotifier (and the Forwarder's ``on_finished``), ``p.accounting`` the user store the
server's HTTP authentication verifies passwords with. Without accounting the server uses
``Intake(store, spool, chain)``: the same steps, none of them reading a document.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from ippproxy.accounting import AccountingService
from ippproxy.config import Config
from ippproxy.db.engine import nowait_reader
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.metrics import Metrics
from ippproxy.pipeline import settings
from ippproxy.pipeline.conversion import Converter
from ippproxy.pipeline.intake import Intake
from ippproxy.pipeline.metering import Metering
from ippproxy.pipeline.recent import StoreRecentJobs
from ippproxy.pipeline.settle import Settler
from ippproxy.policies import Policy, PolicyChain


@dataclass(frozen=True)
class Pipeline:
    accounting: AccountingService
    pool: AnalysisPool
    intake: Intake
    settler: Settler
    # An embedding application's own policies, after the configured rules.
    extra: tuple[Policy, ...] = ()

    async def reconfigure(self, config: Config) -> None:
        """Take a new effective configuration (the catalog changed): prices, the
        accounting settings and the rules of the next job come from it; the groups'
        multipliers and new-user defaults are re-read from the user store."""
        groups = await asyncio.to_thread(self.accounting.group_configs)
        config = dataclasses.replace(config, groups=tuple(groups))
        self.accounting.pricing = settings.pricing(config)
        self.accounting.settings = settings.accounting_settings(config)
        self.intake.chain = make_chain(config, self.intake.store, self.extra)
        if self.intake.metering is not None:
            self.intake.metering.config = config


def make_pool(config: Config) -> AnalysisPool:
    a = config.analysis
    return AnalysisPool(a.workers, queue_size=a.queue_size, cpu_seconds=a.cpu_seconds,
                        memory_bytes=a.memory_mb << 20, wall_seconds=a.wall_seconds,
                        user=a.user)


def make_accounting(config: Config, engine: Engine) -> AccountingService:
    return AccountingService(engine, settings.pricing(config),
                             settings.accounting_settings(config))


def make_chain(config: Config, store: JobStore, extra: Iterable[Policy] = ()) -> PolicyChain:
    """The configured rules, then ``extra`` (an embedding application's own policies)."""
    chain = settings.policy_chain(config, StoreRecentJobs(store))
    return PolicyChain((*chain.policies, *extra))


@contextlib.asynccontextmanager
async def open_pipeline(config: Config, engine: Engine, store: JobStore, spool: Spool,
                        policies: Iterable[Policy] = (), metrics: Metrics | None = None
                        ) -> AsyncIterator[Pipeline]:
    accounting = make_accounting(config, engine)
    await asyncio.to_thread(accounting.define_groups, settings.groups(config))
    chain = make_chain(config, store, policies)
    async with contextlib.AsyncExitStack() as stack:
        pool = make_pool(config)
        await pool.start()
        stack.push_async_callback(pool.close)
        converter = Converter(pool, spool, config.storage.node)
        await asyncio.to_thread(converter.clean)
        settler = Settler(accounting, store, interval=config.accounting.settle_interval,
                          node=config.storage.node,
                          orphan_lease=dt.timedelta(seconds=config.accounting.orphan_lease))
        await settler.start()
        stack.push_async_callback(settler.stop)
        # Reservations join the job store's group commit (storecommit.py).
        nowait = nowait_reader(engine)
        if nowait is not None:
            stack.callback(nowait.dispose)
        metering = Metering(config, accounting, converter,
                            store.write, nowait)
        stack.callback(metering.close)
        yield Pipeline(accounting, pool, Intake(store, spool, chain, metering, metrics), settler,
                       tuple(policies))
