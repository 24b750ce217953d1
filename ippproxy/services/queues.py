"""Queues (printers): list, create from a destination URI, update, delete, pause, resume,
accept or refuse jobs, purge.

A queue's configuration lives in the catalog (every node sees a change within the watcher's
interval); its operating state (paused, accepting) in the job store's ``queue_states``,
shared by every node and kept across restarts, the same state Pause-Printer and
Disable-Printer set over IPP. A state change is written to the store first, then audited
in a catalog change, whose version bump makes every node re-read the states.

Deleting a queue does what CUPS does for ``lpadmin -x``: its jobs that have not finished are
canceled (CUPS ``cupsdDeletePrinter`` cancels the printer's jobs), the finished ones stay in
the history; the queue refuses new jobs with ``client-error-not-found`` as soon as a node
sees the new catalog. A queue a ``[[rule]]`` names cannot be deleted (the rule would name
nothing): change the rule first. Provisioned queues (declared by the configuration file)
refuse update and delete, not their operating state.

One queue at most is the default (``default = true``: CUPS-Get-Default, ``ipp://host/``);
marking one takes the mark from the queue that had it, in the same change (refused when
that queue is provisioned: the file says which queue is the default).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ippproxy.catalog import Catalog, Kind, Tx
from ippproxy.catalog.store import spec
from ippproxy.config import Config, QueueConfig, queue_from_dict
from ippproxy.jobs.state import InvalidTransition, JobEvent
from ippproxy.jobs.store import JobStore

from .actor import Access, Actor, Section
from .changes import audit, check, not_provisioned, require, run
from .errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class QueueView:
    config: QueueConfig
    provisioned: bool
    paused: bool = False
    accepting: bool = True
    state_message: str = ""


class QueueService:
    def __init__(self, catalog: Catalog, store: JobStore, config: Config,
                 notify: Callable[[str], None] = lambda job_uuid: None) -> None:
        # ``config``: the node's file (what "basic" authentication needs); ``notify``: told
        # each job this service cancels (the forwarder and settlement of this process).
        self.catalog, self.store, self.config, self.notify = catalog, store, config, notify

    # -- reading --------------------------------------------------------------------------
    async def list(self, actor: Actor) -> list[QueueView]:
        require(actor, Section.PRINTERS, Access.READ)
        snap = await run(self.catalog.snapshot)
        states = await self.store.queue_states()
        out = []
        for q in snap.queues:
            s = states.get(q.name)
            out.append(QueueView(q, snap.is_provisioned(Kind.QUEUE, q.name),
                                 s.paused if s else False, s.accepting if s else True,
                                 s.message if s else ""))
        return out

    async def get(self, actor: Actor, name: str) -> QueueView:
        for view in await self.list(actor):
            if view.config.name == name:
                return view
        raise NotFound("queue", name)

    # -- configuration --------------------------------------------------------------------
    def _checked(self, tx: Tx, raw: dict[str, Any]) -> QueueConfig:
        q = check("queue", queue_from_dict, raw)
        if q.cost_model and tx.cost_model(q.cost_model) is None:
            raise Invalid("cost_model", f"no cost model named {q.cost_model!r}")
        if q.findme_printers and not self.config.accounting.enabled:
            raise Invalid("findme_printers", "Find-Me holds and prices jobs: this server "
                          "runs with accounting.enabled = false")
        for i, name in enumerate(q.findme_printers):   # Find-Me: other ordinary queues
            found = tx.queue(name)
            if name == q.name or found is None or found[0].findme_printers:
                raise Invalid(f"findme_printers[{i}]", f"{name!r} is not another queue "
                              "(nor a Find-Me queue)")
        if self._loops(q.destination):
            raise Invalid("destination", "points at this server itself: its jobs would "
                          "come back here for ever")
        if q.authentication in ("basic", "token", "popup") and \
                not self.config.accounting.enabled:
            raise Invalid("authentication", f"\"{q.authentication}\" checks the user "
                          "store: this server runs with accounting.enabled = false")
        return q

    def _one_default(self, tx: Tx, actor: Actor, q: QueueConfig) -> None:
        """When ``q`` is marked default, unmark the queue that was."""
        if not q.default:
            return
        for name in tx.queue_names():
            found = tx.queue(name)
            if name == q.name or found is None or not found[0].default:
                continue
            other, provisioned = found
            if provisioned:
                raise Conflict(f"queue {name!r} is the default in the configuration file")
            tx.put_queue(dataclasses.replace(other, default=False))
            audit(tx, actor, "update", Kind.QUEUE, name, spec(other),
                  spec(dataclasses.replace(other, default=False)))

    def _loops(self, destination: str) -> bool:
        """The destination is this server's own IPP port (on a loopback or its own name)."""
        parts = urlsplit(destination)
        srv = self.config.server
        try:
            port = parts.port or (631 if parts.scheme in ("ipp", "ipps") else None)
        except ValueError:
            return False
        ours = {"localhost", "127.0.0.1", "::1", srv.listen, srv.hostname} - {"", "0.0.0.0"}
        return port == srv.port and (parts.hostname or "").lower() in ours

    async def create(self, actor: Actor, fields: dict[str, Any]) -> QueueConfig:
        """A new queue; ``fields`` are the keys of a ``[[queue]]`` table."""
        require(actor, Section.PRINTERS, Access.WRITE)

        def work() -> QueueConfig:
            with self.catalog.change() as tx:
                q = self._checked(tx, fields)
                if tx.queue(q.name) is not None:
                    raise Conflict(f"a queue named {q.name!r} exists")
                self._one_default(tx, actor, q)
                tx.put_queue(q)
                audit(tx, actor, "create", Kind.QUEUE, q.name, after=spec(q))
                return q
        return await run(work)

    async def update(self, actor: Actor, name: str, changes: dict[str, Any]) -> QueueConfig:
        """Change some keys of a queue (not its name)."""
        require(actor, Section.PRINTERS, Access.WRITE)
        if "name" in changes and changes["name"] != name:
            raise Invalid("name", "a queue cannot be renamed (its URI and job ids hang "
                          "on it): create a new one")

        def work() -> QueueConfig:
            with self.catalog.change() as tx:
                found = tx.queue(name)
                if found is None:
                    raise NotFound("queue", name)
                before, provisioned = found
                not_provisioned(Kind.QUEUE, name, provisioned)
                q = self._checked(tx, {**spec(before), **changes})
                self._one_default(tx, actor, q)
                tx.put_queue(q)
                audit(tx, actor, "update", Kind.QUEUE, name, spec(before), spec(q))
                return q
        return await run(work)

    async def delete(self, actor: Actor, name: str) -> int:
        """Remove the queue and cancel its unfinished jobs; returns how many."""
        require(actor, Section.PRINTERS, Access.WRITE)

        def work() -> None:
            with self.catalog.change() as tx:
                found = tx.queue(name)
                if found is None:
                    raise NotFound("queue", name)
                before, provisioned = found
                not_provisioned(Kind.QUEUE, name, provisioned)
                users = [r.name for r in tx.rules() if name in r.printers]
                if users:
                    raise Conflict(f"queue {name!r} is named by rule(s) {', '.join(users)}: "
                                   "change them first")
                tx.delete_queue(name)
                audit(tx, actor, "delete", Kind.QUEUE, name, before=spec(before))
        await run(work)
        canceled = await self._cancel_jobs(name, f"queue {name} deleted by {actor.name}")
        # A queue created later under this name starts running and accepting.
        await self.store.set_queue_state(name, paused=False, accepting=True)
        return canceled

    # -- operating state ------------------------------------------------------------------
    async def _state(self, actor: Actor, name: str, action: str, *, paused: bool | None = None,
                     accepting: bool | None = None, message: str = "") -> QueueView:
        require(actor, Section.PRINTERS, Access.WRITE)
        view = await self.get(actor, name)
        state = await self.store.set_queue_state(name, paused=paused, accepting=accepting,
                                                 message=message)
        after = dataclasses.replace(view, paused=state.paused, accepting=state.accepting,
                                    state_message=state.message)

        def work() -> None:
            with self.catalog.change() as tx:
                audit(tx, actor, action, Kind.QUEUE, name,
                      {"paused": view.paused, "accepting": view.accepting},
                      {"paused": after.paused, "accepting": after.accepting})
        await run(work)
        return after

    async def pause(self, actor: Actor, name: str, message: str = "") -> QueueView:
        """No job of the queue goes to the printer until resumed (RFC 8011 §4.3.7)."""
        return await self._state(actor, name, "pause", paused=True,
                                 message=message or f"paused by {actor.name}")

    async def resume(self, actor: Actor, name: str) -> QueueView:
        return await self._state(actor, name, "resume", paused=False)

    async def set_accepting(self, actor: Actor, name: str, accepting: bool,
                            message: str = "") -> QueueView:
        """Accept or refuse new jobs (RFC 3998 §3.1, Enable-/Disable-Printer)."""
        return await self._state(actor, name, "accept" if accepting else "reject",
                                 accepting=accepting, message=message)

    async def purge(self, actor: Actor, name: str) -> int:
        """Cancel every unfinished job of the queue (Purge-Jobs); returns how many."""
        require(actor, Section.PRINTERS, Access.WRITE)
        await self.get(actor, name)
        count = await self._cancel_jobs(name, f"purged by {actor.name}")

        def work() -> None:
            with self.catalog.change() as tx:
                audit(tx, actor, "purge", Kind.QUEUE, name, after={"canceled": count})
        await run(work)
        return count

    async def _cancel_jobs(self, name: str, message: str) -> int:
        count = 0
        for job in await self.store.list_jobs(name, "not-completed"):
            with contextlib.suppress(InvalidTransition):   # it finished meanwhile
                await self.store.transition(job.uuid, JobEvent.CANCEL,
                                            reasons=("job-canceled-by-operator",),
                                            message=message)
                self.notify(job.uuid)
                count += 1
        return count


class IppStateAudit:
    """Pause-/Resume-/Enable-/Disable-Printer over IPP (the server proved an admin:
    server/authn.py): the change is audited as that admin, ``via`` "ipp", and the catalog's
    version bump makes every node re-read the queue states."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def queue_state_changed(self, user: str, queue: str, before: tuple[bool, bool],
                                  after: tuple[bool, bool]) -> None:
        actions = []
        if before[0] != after[0]:
            actions.append("pause" if after[0] else "resume")
        if before[1] != after[1]:
            actions.append("accept" if after[1] else "reject")

        def work() -> None:
            with self.catalog.change() as tx:
                for action in actions:
                    tx.audit(actor=user, via="ipp", action=action, kind=Kind.QUEUE,
                             name=queue,
                             before={"paused": before[0], "accepting": before[1]},
                             after={"paused": after[0], "accepting": after[1]})
        await run(work)
