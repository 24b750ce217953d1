"""What a user's own clients are told, live (issue 17), no HTTP: the account questions
(popups) of their held jobs and the changes of their jobs.

Theory of operation. A user's client (``ippproxy-client``, the user web app) subscribes
(``subscribe``): this node then knows the user has a client connected (``connected``).
On subscribing, the user's outstanding questions are sent at once (every job of theirs
held for its payer, ``pipeline/payer.py``), so a client that connects after the job was
submitted still shows its popup. Two sources follow:

* this node's job notifier (``job_changed``, called for every job the server changes):
  when nobody is connected that is one dictionary look-up and nothing else (intake does
  not slow down for it); otherwise the job is read and, if it is held for its payer and
  its owner is connected, the question goes out at once;
* while anyone is connected, the admin side's job feed (``events.EventHub``, fed from the
  shared store, so every node's jobs): each change of a connected user's job becomes a
  ``job-state`` event, and a job held for its payer that was not asked yet (another
  node's) becomes a question.

Events: ``policy`` and ``balance-correction`` (policy_events.py), ``balance`` (the accounts
the user may charge, with their balances: on connecting, and after their jobs' changes,
once per user and batch of the job feed), ``low-credit`` (the personal balance is below
``accounting.low_credit_threshold``: once, until it rises again, and on connecting),
``account-needed`` (the job waits for an account: ``account-info-needed``,
``-authorization-failed``, ``-closed``, ``-limit-reached``; document name, pages, colour
impressions, price, printer, the reason and its message, the accounts the user may
choose, whether "print as another user" is offered, and for ``account-info-needed``
the deadline, ``accounting.popup_timeout``) and
``confirm-needed`` (a confirm-job rule's last chance: the job's name, pages, colour
impressions, price and printer; print or cancel), ``identity-needed`` (a job sent without
credentials to an ``authentication = "popup"`` queue in this user's name, or from the
address this client is connected from (nearby.py: the seed's "unauthenticated printer"
asks the computer that sent the job): who printed it, user name and password; the job's
name, pages, printer and time, with its deadline), ``job-state`` (released, printing,
printed, canceled; a question that went unanswered
arrives as canceled with ``account-info-needed``). With ``accounting.client_alert`` on, a
job of this node that waits for an account choice while its owner has no client connected
raises ``client-unavailable`` on the admin side's live activity (once per job; a job
waiting for its identity raises it only when no client at its address is connected
either). A question is asked once per job and reason. Each subscription has a bounded queue; a slow client loses its oldest events (it
can re-read its jobs). Events are serialised once per user.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from ippproxy.accounting.available import UsableAccount
from ippproxy.accounting.identity import canonical_name
from ippproxy.config import Config
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import JobState
from ippproxy.pipeline.identity import IDENTITY_NEEDED, waits_for_identity
from ippproxy.pipeline.payer import PRINT_AS_OTHER, PayerReason, is_payer_held
from ippproxy.pipeline.settings import minor_int
from ippproxy.policies.accounts import CONFIRMATION_NEEDED
from ippproxy.services import policy_events
from ippproxy.services.actor import Actor, Via
from ippproxy.services.events import Event, EventHub, EventKind
from ippproxy.services.nearby import ByAddress, identity_question
from ippproxy.services.userside import UserSide

log = logging.getLogger(__name__)
ACCOUNT_NEEDED = "account-needed"
CONFIRM_NEEDED = "confirm-needed"
IDENTITY_QUESTION = "identity-needed"
JOB_STATE = "job-state"
BALANCE = "balance"
LOW_CREDIT = "low-credit"
BALANCE_SET = "balance-set"  # an admin set the balance (issue 18; SavaPage §4.4.4.6)
ASKED_KEEP = 20000     # keys of 10,000 questions (two each), so each is asked once
_JOB_EVENTS = frozenset({EventKind.JOB_HELD, EventKind.JOB_PENDING, EventKind.JOB_PRINTING,
                         EventKind.JOB_STOPPED, EventKind.JOB_PRINTED, EventKind.JOB_CANCELED,
                         EventKind.JOB_ABORTED, EventKind.JOB_RECEIVED})


class UserStream:
    """One client's bounded queue of ready-made server-sent-event records. ``gone``: whether
    the client's connection is closed, asked each time it matters (``connected``): a client
    that went away is not counted as connected until the stream's next write fails."""

    def __init__(self, size: int, gone: Callable[[], bool] = lambda: False) -> None:
        self._queue: collections.deque[bytes] = collections.deque(maxlen=size)
        self._ready = asyncio.Event()
        self._gone = gone
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed and not self._gone()

    def offer(self, wire: bytes) -> None:
        self._queue.append(wire)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_batch(self) -> bytes:
        await self._ready.wait()
        self._ready.clear()
        data = b"".join(self._queue)
        self._queue.clear()
        return data


def _wire(kind: str, data: dict[str, Any]) -> bytes:
    # HTML Living Standard §9.2.6: one record, "event" and one "data" line.
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n".encode()


def waits(job: JobRecord) -> bool:
    """The job waits for its owner's answer: an account, or the last-chance confirmation."""
    return job.state == JobState.PENDING_HELD and (
        is_payer_held(job.state_reasons) or CONFIRMATION_NEEDED in job.state_reasons
        or IDENTITY_NEEDED in job.state_reasons)


def _owner(job: JobRecord) -> str | None:
    try:
        return canonical_name(job.owner)
    except ValueError:
        return None


class UserNotices:
    def __init__(self, side: UserSide, popup_timeout: Callable[[], float],
                 hub: EventHub | None = None, *,
                 low_credit: Callable[[], int | None] = lambda: None,
                 alert: Callable[[], bool] = lambda: False,
                 queue_size: int = 256) -> None:
        self.side = side
        self.popup_timeout = popup_timeout
        self.hub = hub
        self.low_credit = low_credit    # the warning threshold in minor units, or None
        self.alert = alert              # the "client unavailable" alert is on
        self._warned: set[str] = set()  # users told of low credit, until it rises again
        self.queue_size = queue_size
        self._streams: dict[str, set[UserStream]] = {}
        self._at: ByAddress[UserStream] = ByAddress()   # by the client's peer address
        self._tasks: set[asyncio.Task[None]] = set()
        self._asked: collections.OrderedDict[tuple[str, str], None] = \
            collections.OrderedDict()
        self._someone = asyncio.Event()

    # -- who is connected -------------------------------------------------------------
    def connected(self, user: str) -> bool:
        return any(s.alive for s in self._streams.get(user, ()))

    @property
    def connected_users(self) -> int:
        return len(self._streams)

    @contextlib.asynccontextmanager
    async def subscribe(self, actor: Actor, address: str = "",
                        gone: Callable[[], bool] = lambda: False
                        ) -> AsyncIterator[UserStream]:
        """The actor's stream from network ``address`` (the socket's peer; "": none), their
        outstanding questions queued first, then those of jobs waiting at that address for
        who printed them. ``gone``: whether the client's connection is closed."""
        stream = UserStream(self.queue_size, gone)
        self._streams.setdefault(actor.name, set()).add(stream)
        self._at.add(address, stream)
        self._someone.set()
        try:
            stream.offer(await self._balance(actor.name, connecting=True))
            for job in await self.side.jobs(actor, limit=200):
                if waits(job):
                    self._ask_once(job)
                    stream.offer(await self._question(actor, job))
            for job in await self._waiting_at(address):
                if _owner(job) != actor.name:
                    stream.offer(self._identity(job))
            yield stream
        finally:
            self._at.discard(address, stream)
            mine = self._streams.get(actor.name, set())
            mine.discard(stream)
            if not mine:
                self._streams.pop(actor.name, None)
            if not self._streams:
                self._someone.clear()

    async def _waiting_at(self, address: str) -> list[JobRecord]:
        """The jobs sent from ``address`` that wait for who printed them."""
        if not address:
            return []
        found, _ = await self.side.store.search_jobs(JobQuery(
            peer_address=address, states=(JobState.PENDING_HELD,), limit=200))
        return [j for j in found if waits_for_identity(j) and j.peer_address == address]

    def close(self) -> None:
        for streams in self._streams.values():
            for s in streams:
                s.close()

    # -- the server's job notifier ------------------------------------------------------
    def job_changed(self, job_uuid: str) -> None:
        if not job_uuid or not (self._streams or self.alert()):
            return
        task = asyncio.get_running_loop().create_task(self._changed(job_uuid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _changed(self, job_uuid: str) -> None:
        try:
            job = await self.side.store.get_by_uuid(job_uuid)
            if job is not None and waits(job):
                await self._tell(job, question=True)
        except Exception:   # a failed read: the client re-reads its jobs when it reconnects
            log.exception("user notices: job %s", job_uuid)

    async def balance_set(self, user: str, message: str) -> bool:
        """Tell the user's connected clients that an admin set their balance, with the new
        balances; whether anyone was connected to be told."""
        if not self.connected(user):
            return False
        wire = _wire(BALANCE_SET, {"message": message}) + await self._balance(user)
        for stream in tuple(self._streams.get(user, ())):
            stream.offer(wire)
        return True

    async def _tell(self, job: JobRecord, *, question: bool) -> str | None:
        """Send the job's question (once per reason) or its new state to its owner; a
        question nobody's client can answer raises the admin's alert (when it is on). Who
        printed a job is asked at the job's address too (nearby.py). After a new state: the
        owner, whose ``balance`` the caller sends (``run``: once per user and batch of
        changes)."""
        owner = _owner(job)
        near = tuple(s for s in self._at.at(job.peer_address) if s.alive) \
            if question and waits_for_identity(job) else ()
        if (owner is None or not self.connected(owner)) and not near:
            if owner is not None and question and self.alert() and (
                    PayerReason.INFO_NEEDED in job.state_reasons
                    or IDENTITY_NEEDED in job.state_reasons):
                self._alarm(owner, job)
            return None
        if question and waits_for_identity(job):
            if not self._ask_once(job):
                return None
            wire = self._identity(job)
        elif owner is None:
            return None
        elif question:
            if not self._ask_once(job):
                return None
            wire = await self._question(Actor(owner, Via.SYSTEM), job)
        else:
            wire = _wire(JOB_STATE, _job(job)) + self._policy(job)
        mine = self._streams.get(owner, set()) if owner is not None else set()
        for stream in mine.union(near):
            stream.offer(wire)
        return None if question else owner

    def _alarm(self, owner: str, job: JobRecord) -> None:
        if self.hub is None or (job.uuid, "alert") in self._asked:
            return
        self._asked[(job.uuid, "alert")] = None
        what = "confirm who printed" if IDENTITY_NEEDED in job.state_reasons else \
            "choose the account of"
        message = f"{owner} has no client connected to {what} job {job.job_id}"
        log.info("client unavailable: %s (queue %s)", message, job.queue)
        self.hub.publish(EventKind.CLIENT_UNAVAILABLE, queue=job.queue, job_id=job.job_id,
                         user=owner, message=message)

    def _ask_once(self, job: JobRecord) -> bool:
        key = (job.uuid, ",".join(job.state_reasons))
        if key in self._asked:
            return False
        self._asked[key] = None
        self._asked[_held(job.queue, job.job_id)] = None
        while len(self._asked) > ASKED_KEEP:
            self._asked.popitem(last=False)
        return True

    # -- every node's job changes, while someone is connected --------------------------
    async def run(self) -> None:
        """Follow the job feed while any user is connected (a background task)."""
        if self.hub is None:
            return
        while True:
            await self._someone.wait()
            async with self.hub.subscribe(Actor.system("user-notices")) as sub:
                while self._streams and not sub.closed:
                    try:
                        batch, _dropped = await asyncio.wait_for(sub.next_batch(), 5.0)
                    except TimeoutError:
                        continue
                    # A user's accounts are read once per batch, however many of their
                    # jobs changed in it (each read is several queries; issue 17 load).
                    owed: dict[str, None] = {}
                    for event in batch:
                        if (owner := await self._followed(event)) is not None:
                            owed[owner] = None
                    for owner in owed:
                        await self._balance_after_changes(owner)
            if sub.closed:   # the server is stopping
                return

    async def _followed(self, event: Event) -> str | None:
        """Tell the event's job to its owner; the owner whose balance is due, if any."""
        if event.kind == EventKind.JOB_DENIED and event.user:   # a rule refused a job
            self.tell(event.user, _wire(policy_events.POLICY, policy_events.denied(
                event.queue, event.message)))
            return None
        if event.kind not in _JOB_EVENTS or event.user is None or event.queue is None \
                or event.job_id is None:
            return None
        try:
            owner: str | None = canonical_name(event.user)
        except ValueError:
            owner = None
        # Another node's job held for who printed it may have come from an address where a
        # client of this node is connected (nearby.py).
        if (owner is None or not self.connected(owner)) and (
                event.kind != EventKind.JOB_HELD or not self._at):
            return None
        if event.kind == EventKind.JOB_HELD and _held(event.queue, event.job_id) in self._asked:
            return None   # asked already (this node's job_changed): no need to read it
        try:
            job = await self.side.store.get(event.queue, event.job_id)
            return None if job is None else await self._tell(job, question=waits(job))
        except Exception:
            log.exception("user notices: job %s/%s", event.queue, event.job_id)
            return None

    async def _balance_after_changes(self, owner: str) -> None:
        try:
            wire = await self._balance(owner)
        except Exception:   # a failed read: the next change or reconnection sends it
            log.exception("user notices: balance of %s", owner)
            return
        for stream in tuple(self._streams.get(owner, ())):
            stream.offer(wire)

    def _policy(self, job: JobRecord) -> bytes:
        """The job's ``policy`` event (policy_events.py), once per job and message."""
        data = policy_events.policy_of(job)
        if data is None or (job.uuid, data["message"]) in self._asked:
            return b""
        self._asked[(job.uuid, data["message"])] = None
        if len(self._asked) > ASKED_KEEP:
            self._asked.popitem(last=False)
        return _wire(policy_events.POLICY, data)

    def tell(self, user: str, wire: bytes) -> None:
        """Offer ``wire`` to every client of ``user`` (a raw name) that is connected."""
        try:
            streams = tuple(self._streams.get(canonical_name(user), ()))
        except ValueError:
            return
        for stream in streams:
            stream.offer(wire)

    def told(self, user: str, job: JobRecord, message: str) -> None:
        """A message about ``job`` for ``user`` (a ``policy`` event: printed as another user)."""
        self.tell(user, _wire(policy_events.POLICY, policy_events.about(job, message)))

    async def balance_corrected(self, account: dict[str, Any], amount: int,
                                reason: str) -> None:
        """An admin changed a personal balance: its owner is told, with the new balance."""
        owner = account.get("owner")
        if isinstance(owner, str) and account.get("kind") == "personal" and self.connected(owner):
            self.tell(owner, _wire(policy_events.CORRECTION, policy_events.correction(
                account, amount, reason)) + await self._balance(owner))

    async def _balance(self, user: str, *, connecting: bool = False) -> bytes:
        """The user's accounts (``balance``), and ``low-credit`` when the personal balance
        is below the threshold: once, until it rises above it again (every time the client
        connects)."""
        accounts = await asyncio.to_thread(self.side.accounts, Actor(user, Via.SYSTEM))
        wire = _wire(BALANCE, {"accounts": [_choice(a) for a in accounts]})
        threshold = self.low_credit()
        personal = next((a for a in accounts if a.code is None), None)
        if threshold is None or personal is None or personal.balance >= threshold:
            self._warned.discard(user)
            return wire
        if user in self._warned and not connecting:
            return wire
        self._warned.add(user)
        return wire + _wire(LOW_CREDIT, {"balance": personal.balance, "threshold": threshold,
                                         "currency": personal.currency})

    async def _question(self, actor: Actor, job: JobRecord) -> bytes:
        if CONFIRMATION_NEEDED in job.state_reasons:
            return _wire(CONFIRM_NEEDED, _job(job))
        if IDENTITY_NEEDED in job.state_reasons:
            return self._identity(job)
        accounts = await asyncio.to_thread(self.side.accounts, actor)
        data = {**_job(job), "choices": [_choice(a) for a in accounts], "deadline": None,
                "print_as_other": bool((job.analysis or {}).get(PRINT_AS_OTHER))}
        if PayerReason.INFO_NEEDED in job.state_reasons:
            data["deadline"] = (job.created_at + dt.timedelta(
                seconds=self.popup_timeout())).isoformat()
        return _wire(ACCOUNT_NEEDED, data)


    def _identity(self, job: JobRecord) -> bytes:
        """Who printed the job: what its owner sees of it (nearby.py), and the deadline."""
        return _wire(IDENTITY_QUESTION, identity_question(
            job, job.created_at + dt.timedelta(seconds=self.popup_timeout())))


def _held(queue: str, job_id: int) -> tuple[str, str]:
    """The ``_asked`` key of a job whose question went out: the feed's ``job-held`` event
    for it (which names no UUID) then needs no read (the feed announces a state once)."""
    return f"{queue}/{job_id}", "held"


def _job(job: JobRecord) -> dict[str, Any]:
    analysis = job.analysis or {}
    attrs = analysis.get("attributes") or {}
    return {"uuid": job.uuid, "job_id": job.job_id, "printer": job.queue, "name": job.name,
            "state": job.state.keyword, "reasons": list(job.state_reasons),
            "message": job.state_message, "pages": attrs.get("job-pages"),
            "impressions": attrs.get("job-impressions"),
            "colour_impressions": attrs.get("job-impressions-col"),
            "cost": attrs.get("ippproxy-cost-estimate"), "estimate": analysis.get("estimate"),
            "account": analysis.get("account")}


def _choice(a: UsableAccount) -> dict[str, Any]:
    return {"code": a.code, "name": a.name, "balance": a.balance, "currency": a.currency,
            "pin": a.pin}


def low_credit(config: Config) -> int | None:
    """``accounting.low_credit_threshold`` in minor units; None when unset."""
    a = config.accounting
    return minor_int(a.low_credit_threshold, a.minor_unit_digits) \
        if a.low_credit_threshold else None
