"""The queues service without HTTP, on SQLite and PostgreSQL: rights, validation naming the
field, conflicts, provisioned queues read-only, state changes shared through the store,
delete and purge canceling unfinished jobs (as CUPS does), and an audit entry per change."""

from __future__ import annotations

import asyncio

import pytest

from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.config import Config, from_dict
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.provisioning import provision
from ippproxy.services.queues import QueueService
from ippproxy.services.rules import RuleService

from .conftest import ADMIN, NOBODY, OPERATOR, add_job

PRINTER = "ipp://192.0.2.10:631/ipp/print"


@pytest.fixture
def queues(catalog: Catalog, store: JobStore, config: Config) -> QueueService:
    return QueueService(catalog, store, config)


async def test_create_list_update_with_an_audit_entry_each(
        queues: QueueService, catalog: Catalog) -> None:
    q = await queues.create(OPERATOR, {"name": "front", "destination": PRINTER,
                                       "location": "Hall"})
    assert q.destination == PRINTER and q.location == "Hall"
    await queues.update(OPERATOR, "front", {"info": "Colour laser"})
    [view] = await queues.list(OPERATOR)
    assert view.config.info == "Colour laser" and view.config.location == "Hall"
    assert not view.provisioned and not view.paused and view.accepting
    log = await asyncio.to_thread(catalog.audit_log, AuditQuery(kind="queue"))
    assert [(e.action, e.actor, e.via) for e in log] == [("update", "olga", "token"),
                                                         ("create", "olga", "token")]
    assert log[0].before["info"] == "" and log[0].after["info"] == "Colour laser"
    assert log[1].before is None and log[1].after["destination"] == PRINTER


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "with space"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "q", "destination": "ftp://printer/x"}, "destination"),
    ({"name": "q", "destination": "ipp://"}, "destination"),
    ({"name": "q", "authentication": "kerberos"}, "authentication"),
    ({"name": "q", "force_duplex": "yes"}, "force_duplex"),
    ({"name": "q", "cost_model": "missing"}, "cost_model"),
    ({"name": "q", "colour": True}, "colour"),
    ({"destination": PRINTER}, "name"),
    ({"name": "q", "destination": "ipp://127.0.0.1:8631/printers/other"}, "destination"),
    ({"name": "q", "destination": "ipps://localhost:8631/printers/q"}, "destination"),
    ({"name": "q", "destination": "ipp://localhost:99999/ipp/print"}, "destination"),
])
async def test_bad_fields_are_refused_naming_the_field(
        queues: QueueService, catalog: Catalog, fields: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as e:
        await queues.create(ADMIN, fields)
    assert e.value.field == field
    assert catalog.snapshot().queues == ()
    assert catalog.audit_log(AuditQuery()) == []


@pytest.mark.parametrize("kind", ["basic", "token"])
async def test_basic_authentication_needs_accounting(catalog: Catalog, store: JobStore,
                                                     kind: str) -> None:
    off = QueueService(catalog, store, Config())
    with pytest.raises(Invalid) as e:
        await off.create(ADMIN, {"name": "q", "authentication": kind})
    assert e.value.field == "authentication" and kind in e.value.reason


async def test_rights_are_checked_first(queues: QueueService, catalog: Catalog) -> None:
    await queues.create(ADMIN, {"name": "front"})
    with pytest.raises(Forbidden):
        await queues.list(NOBODY)
    for attempt in (queues.create(NOBODY, {"name": "x"}), queues.delete(NOBODY, "front"),
                    queues.pause(NOBODY, "front"), queues.purge(NOBODY, "front"),
                    queues.update(NOBODY, "front", {"info": "x"})):
        with pytest.raises(Forbidden):
            await attempt
    assert [e.actor for e in catalog.audit_log(AuditQuery())] == ["alice"]


async def test_duplicates_and_unknown_names(queues: QueueService) -> None:
    await queues.create(ADMIN, {"name": "front"})
    with pytest.raises(Conflict):
        await queues.create(ADMIN, {"name": "front", "destination": PRINTER})
    with pytest.raises(NotFound):
        await queues.update(ADMIN, "back", {"info": "x"})
    with pytest.raises(NotFound):
        await queues.pause(ADMIN, "back")
    with pytest.raises(Invalid):
        await queues.update(ADMIN, "front", {"name": "renamed"})


async def test_concurrent_creates_of_one_name_give_one_queue(queues: QueueService) -> None:
    results = await asyncio.gather(*(queues.create(ADMIN, {"name": "race", "info": str(i)})
                                     for i in range(6)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert len(await queues.list(ADMIN)) == 1


async def test_provisioned_queues_are_read_only_but_can_be_paused(
        queues: QueueService, catalog: Catalog) -> None:
    await provision(catalog, from_dict({"queue": [{"name": "lobby"}]}))
    with pytest.raises(Conflict, match="provisioned"):
        await queues.update(ADMIN, "lobby", {"info": "x"})
    with pytest.raises(Conflict, match="provisioned"):
        await queues.delete(ADMIN, "lobby")
    view = await queues.pause(ADMIN, "lobby")
    assert view.paused and view.provisioned


async def test_pause_resume_and_accepting_are_shared_through_the_store(
        queues: QueueService, store: JobStore, catalog: Catalog) -> None:
    await queues.create(ADMIN, {"name": "front"})
    version = catalog.version()
    view = await queues.pause(ADMIN, "front", "toner change")
    assert view.paused and view.state_message == "toner change"
    assert (await store.queue_states())["front"].paused
    assert catalog.version() > version                   # every node re-reads the states
    assert not (await queues.set_accepting(ADMIN, "front", False)).accepting
    assert not (await store.queue_states())["front"].accepting
    view = await queues.resume(ADMIN, "front")
    assert not view.paused and not view.accepting
    actions = [e.action for e in catalog.audit_log(AuditQuery(name="front"))]
    assert actions == ["resume", "reject", "pause", "create"]


async def test_purge_cancels_the_unfinished_jobs_only(
        queues: QueueService, store: JobStore, spool: Spool) -> None:
    await queues.create(ADMIN, {"name": "front"})
    waiting = [await add_job(store, spool, "front") for _ in range(3)]
    held = await add_job(store, spool, "front", hold_until="indefinite")
    other = await add_job(store, spool, "back")
    assert await queues.purge(ADMIN, "front") == 4
    for uuid in (*waiting, held):
        job = await store.get_by_uuid(uuid)
        assert job is not None and job.state == JobState.CANCELED
    job = await store.get_by_uuid(other)
    assert job is not None and job.state == JobState.PENDING
    assert await queues.purge(ADMIN, "front") == 0


async def test_delete_cancels_jobs_keeps_history_and_respects_rules(
        queues: QueueService, store: JobStore, spool: Spool, catalog: Catalog) -> None:
    await queues.create(ADMIN, {"name": "front"})
    await queues.create(ADMIN, {"name": "back"})
    rules = RuleService(catalog)
    await rules.create(ADMIN, {"name": "a4", "type": "paper-sizes", "printers": ["back"],
                               "values": ["iso_a4_210x297mm"]})
    with pytest.raises(Conflict, match="a4"):
        await queues.delete(ADMIN, "back")
    job = await add_job(store, spool, "front")
    await queues.pause(ADMIN, "front")
    assert await queues.delete(ADMIN, "front") == 1
    assert [v.config.name for v in await queues.list(ADMIN)] == ["back"]
    record = await store.get_by_uuid(job)
    assert record is not None and record.state == JobState.CANCELED
    assert "deleted" in (record.state_message or "")
    [entry] = catalog.audit_log(AuditQuery(action="delete"))
    assert entry.before["name"] == "front" and entry.after is None
    await queues.create(ADMIN, {"name": "front"})       # a new queue of that name runs
    assert not (await queues.get(ADMIN, "front")).paused


async def test_one_queue_at_most_is_the_default(queues: QueueService, catalog: Catalog) -> None:
    from ippproxy.server.context import default_queue

    async def marked() -> list[str]:
        return [v.config.name for v in await queues.list(ADMIN) if v.config.default]

    for name in ("a", "b", "c"):
        await queues.create(ADMIN, {"name": name, "destination": PRINTER})
    assert await marked() == []
    assert default_queue((await asyncio.to_thread(catalog.snapshot)).queues) == "a"
    await queues.update(ADMIN, "b", {"default": True})
    assert await marked() == ["b"]
    await queues.create(ADMIN, {"name": "d", "destination": PRINTER, "default": True})
    assert await marked() == ["d"]
    assert default_queue((await asyncio.to_thread(catalog.snapshot)).queues) == "d"
    log = await asyncio.to_thread(catalog.audit_log, AuditQuery(kind="queue"))
    assert ("update", "b") in [(e.action, e.name) for e in log]   # b lost the mark, audited
    with pytest.raises(Invalid) as e:
        await queues.update(ADMIN, "a", {"default": "yes"})
    assert e.value.field == "default"


async def test_a_default_queue_of_the_file_keeps_the_mark(
        queues: QueueService, catalog: Catalog) -> None:
    await provision(catalog, from_dict({"queue": [{"name": "lobby", "default": True}]}))
    await queues.create(ADMIN, {"name": "x", "destination": PRINTER})
    with pytest.raises(Conflict, match="default in the configuration file"):
        await queues.update(ADMIN, "x", {"default": True})
    assert [v.config.name for v in await queues.list(ADMIN) if v.config.default] == ["lobby"]
