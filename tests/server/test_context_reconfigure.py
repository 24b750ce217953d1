"""``ServerContext.reconfigure``: what the server answers after the catalog changed (the
composition root calls it with each new snapshot): queues added, changed and gone, their
stored states, the per-queue caches, HTTP authentication per queue."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ippproxy.config import QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake
from ippproxy.server.basic_auth import BasicAuthenticator
from ippproxy.server.context import ServerContext

from .conftest import make_config


class RecordingCapabilities:
    """A capability source that never reaches a printer and notes what it is told to
    forget."""

    def __init__(self) -> None:
        self.forgotten: list[str] = []

    async def printer_attributes(self, queue: object) -> None:
        return None

    async def identify(self, queue: object, actions: object, message: str) -> bool:
        return False

    def forget(self, queue: str) -> None:
        self.forgotten.append(queue)


class NoUsers:
    def verify_password(self, username: str, password: str) -> str | None:
        return None


async def test_reconfigure_adds_changes_and_removes_queues(tmp_path: Path) -> None:
    a, b = QueueConfig("a"), QueueConfig("b", destination="ipp://192.0.2.1/ipp/print")
    cfg = make_config(tmp_path, queues=(a, b))
    engine = make_engine(cfg.storage.database)
    upgrade(engine)
    store = JobStore(engine)
    spool = Spool(tmp_path / "spool", 1 << 20)
    caps = RecordingCapabilities()
    try:
        ctx = ServerContext(cfg, store, spool, caps, Intake(store, spool),
                            authenticator=BasicAuthenticator((), NoUsers()))
        runtime_a = ctx.queues["a"]
        ctx.checks_cache["a"] = ctx.checks_cache["b"] = object()  # type: ignore[assignment]
        await store.set_queue_state("c", paused=True, message="paused by olga")
        moved = dataclasses.replace(b, destination="ipp://192.0.2.2/ipp/print")
        c = QueueConfig("c", authentication="basic")
        live = dataclasses.replace(cfg, queues=(moved, c))
        ctx.reconfigure(live, await store.queue_states())

        assert list(ctx.queues) == ["b", "c"] and ctx.config is live
        assert ctx.queues["b"].config == moved
        assert ctx.queues["c"].paused and ctx.queues["c"].state_message == "paused by olga"
        assert sorted(caps.forgotten) == ["a", "b"]          # gone, and moved
        assert ctx.checks_cache == {}
        assert ctx.authenticator is not None and ctx.authenticator.required("c")
        assert not ctx.authenticator.required("b")
        assert ctx.default_queue == "b"

        ctx.reconfigure(cfg, await store.queue_states())     # "a" again: a new runtime
        assert ctx.queues["a"] is not runtime_a and not ctx.queues["a"].paused
        ctx.reconfigure(dataclasses.replace(cfg, queues=()), {})
        assert ctx.queues == {} and ctx.default_queue == ""
    finally:
        await store.close()
        engine.dispose()
