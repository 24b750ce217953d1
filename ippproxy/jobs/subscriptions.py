"""IPP event subscriptions and their events in the job store (RFC 3995, RFC 3996 ippget).

Theory of operation
-------------------
A subscription (``ipp_subscriptions``) names a queue (or one job of it), the events it
wants and a lease; its id is the notify-subscription-id and ``sequence`` the last
notify-sequence-number it gave out. Its events (``ipp_events``) are numbered 1, 2, 3...
per subscription. Every node (process) on the database reads and writes the same rows, so
a client may subscribe through one node, ask for its notifications through another, and
the job it watches may be printed by a third: all of them give the same numbers.

Posting an event runs in one write transaction per batch (the job store's writer; on
SQLite ``BEGIN IMMEDIATE`` holds the database, on PostgreSQL the ``UPDATE`` of the
subscription's row locks it): the subscription's ``sequence`` goes up by one and the event
is inserted with that number. Each event carries its ``origin`` (what caused it: a job's
change, a printer operation), unique per subscription, and the insert ignores a conflict
(``INSERT OR IGNORE``, ``ON CONFLICT DO NOTHING``): two nodes turning the same job change
into an event store it once, and the one whose insert was ignored takes its increment
back in the same transaction (it still holds the row), so the numbers have no gaps.
Subscriptions are locked in id order, so two nodes posting never deadlock.

``job-state-changed`` subsumes job-created and job-completed, ``printer-state-changed``
subsumes printer-stopped (RFC 3995 §5.3.3.4). A lease ends at ``expires_at`` (lease 0:
never); an event lives ``EVENT_LIFE`` seconds (ippget-event-life, RFC 3996 §5.2), and a
subscription keeps its newest ``MAX_EVENTS``. Reads leave out what ran out, and
:meth:`SubscriptionStore.expire` deletes it.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ippproxy.jobs.models import ipp_events_t, ipp_subscriptions_t

T = TypeVar("T")
Reader = Callable[[Callable[[Connection], T]], Awaitable[T]]
Clock = Callable[[], dt.datetime]

EVENT_LIFE = 300        # seconds, ippget-event-life (RFC 3996 §5.2)
MAX_EVENTS = 100        # the newest events a subscription keeps
IMPLIED = {"job-created": "job-state-changed", "job-completed": "job-state-changed",
           "printer-stopped": "printer-state-changed"}

_S, _E = ipp_subscriptions_t.c, ipp_events_t.c


@dataclass(frozen=True)
class Subscription:
    id: int
    queue: str
    owner: str
    events: tuple[str, ...]
    lease: int
    job_id: int | None
    user_data: bytes | None
    time_interval: int
    created: dt.datetime
    renewed: dt.datetime
    sequence: int

    @property
    def expires(self) -> dt.datetime | None:
        return None if self.lease == 0 else self.renewed + dt.timedelta(seconds=self.lease)

    def wants(self, event: str, job_id: int | None) -> bool:
        if self.job_id is not None and self.job_id != job_id:
            return False
        return event in self.events or IMPLIED.get(event) in self.events


@dataclass(frozen=True)
class Event:
    sequence: int
    event: str
    queue: str
    time: dt.datetime
    text: str
    job_id: int | None = None
    job_state: int | None = None
    job_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Happening:
    """Something to post to every live subscription of ``queue`` that wants ``event``:
    a job's change (``at``: when the job changed; only subscriptions created by then
    get it) or a printer operation. ``origin``: what caused it (the dedup key)."""

    event: str
    queue: str
    text: str
    origin: str
    at: dt.datetime
    job_id: int | None = None
    job_state: int | None = None
    job_reasons: tuple[str, ...] = ()


def _sub(r: Any) -> Subscription:
    return Subscription(r.id, r.queue, r.owner, tuple(r.events.split()), r.lease, r.job_id,
                        r.user_data, r.time_interval, r.created, r.renewed, r.sequence)


def _live(now: dt.datetime) -> ColumnElement[bool]:
    return or_(_S.expires_at.is_(None), _S.expires_at >= now)


def _expiry(lease: int, now: dt.datetime) -> dt.datetime | None:
    return None if lease == 0 else now + dt.timedelta(seconds=lease)


def _subs(conn: Connection, now: dt.datetime, *where: ColumnElement[bool]
          ) -> list[Subscription]:
    stmt = select(ipp_subscriptions_t).where(_live(now), *where).order_by(_S.id)
    return [_sub(r) for r in conn.execute(stmt)]


def _append(conn: Connection, sid: int, h: Happening, now: dt.datetime) -> bool:
    """One event for subscription ``sid``, numbered next; False if its origin was posted."""
    seen = select(_E.sequence).where(_E.subscription_id == sid, _E.origin == h.origin)
    if conn.execute(seen).first() is not None:
        return False
    seq = conn.execute(update(ipp_subscriptions_t).where(_S.id == sid)
                       .values(sequence=_S.sequence + 1).returning(_S.sequence)).scalar_one()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    row = {"subscription_id": sid, "sequence": seq, "event": h.event, "queue": h.queue,
           "time": now, "text": h.text, "job_id": h.job_id, "job_state": h.job_state,
           "job_reasons": " ".join(h.job_reasons), "origin": h.origin}
    stmt = (dialect.insert(ipp_events_t).values(row).on_conflict_do_nothing()
            .returning(_E.sequence))
    if conn.execute(stmt).first() is not None:     # no row back: the insert was ignored
        return True
    # Another node posted it between our look and our lock (PostgreSQL, READ COMMITTED):
    # we hold the row, so the number we took is still the last one: give it back.
    conn.execute(update(ipp_subscriptions_t).where(_S.id == sid)
                 .values(sequence=_S.sequence - 1))
    return False


def post(conn: Connection, happenings: Sequence[Happening], now: dt.datetime) -> int:
    """Post each happening to the live subscriptions that want it; how many events."""
    queues = sorted({h.queue for h in happenings})
    posted = 0
    for s in _subs(conn, now, _S.queue.in_(queues)):     # in id order (the lock order)
        for h in happenings:
            if h.queue == s.queue and h.at >= s.created and s.wants(h.event, h.job_id):
                posted += _append(conn, s.id, h, now)
    return posted


def expire(conn: Connection, now: dt.datetime) -> int:
    """Delete subscriptions whose lease ran out and events past their life."""
    gone = conn.execute(delete(ipp_subscriptions_t).where(_S.expires_at < now)).rowcount
    live = select(_S.id)
    conn.execute(delete(ipp_events_t).where(or_(
        _E.time < now - dt.timedelta(seconds=EVENT_LIFE), _E.subscription_id.not_in(live))))
    newest = (select(_S.sequence).where(_S.id == _E.subscription_id).scalar_subquery())
    conn.execute(delete(ipp_events_t).where(_E.sequence <= newest - MAX_EVENTS))
    return int(gone)


class SubscriptionStore:
    """The subscriptions and events in the job store (``JobStore.subscriptions``)."""

    def __init__(self, write: Callable[..., Awaitable[Any]], read: Reader[Any],
                 clock: Clock) -> None:
        self._write, self._read, self.clock = write, read, clock

    async def create(self, queue: str, owner: str, events: Sequence[str], lease: int,
                     job_id: int | None = None, user_data: bytes | None = None,
                     time_interval: int = 0) -> Subscription:
        now = self.clock()
        row = {"queue": queue, "owner": owner, "events": " ".join(events), "lease": lease,
               "job_id": job_id, "user_data": user_data, "time_interval": time_interval,
               "created": now, "renewed": now, "expires_at": _expiry(lease, now),
               "sequence": 0}

        def run(conn: Connection) -> int:
            expire(conn, now)
            return int(conn.execute(insert(ipp_subscriptions_t).values(row)
                                    .returning(_S.id)).scalar_one())
        sid = await self._write(run)
        return Subscription(sid, queue, owner, tuple(events), lease, job_id, user_data,
                            time_interval, now, now, 0)

    async def get(self, sid: int) -> Subscription | None:
        now = self.clock()
        found: list[Subscription] = await self._read(lambda c: _subs(c, now, _S.id == sid))
        return found[0] if found else None

    async def list(self, queue: str) -> list[Subscription]:
        now = self.clock()
        return list(await self._read(lambda c: _subs(c, now, _S.queue == queue)))

    async def owned_by(self, owner: str) -> int:
        """How many live subscriptions ``owner`` holds, on every queue."""
        stmt = select(func.count()).where(_live(self.clock()), _S.owner == owner)
        return int(await self._read(lambda c: c.execute(stmt).scalar_one()))

    async def live_since(self) -> dt.datetime | None:
        """When the oldest live subscription was made; None when there is none."""
        stmt = select(func.min(_S.created)).where(_live(self.clock()))
        at = await self._read(lambda c: c.execute(stmt).scalar_one_or_none())
        if at is None:
            return None
        assert isinstance(at, dt.datetime)    # SQLite hands an aggregate back naive
        return at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    async def any_live(self) -> bool:
        return await self.live_since() is not None

    async def renew(self, sid: int, lease: int) -> Subscription | None:
        now = self.clock()
        stmt = (update(ipp_subscriptions_t).where(_S.id == sid, _live(now))
                .values(lease=lease, renewed=now, expires_at=_expiry(lease, now)))
        if not await self._write(lambda c: c.execute(stmt).rowcount):
            return None
        return await self.get(sid)

    async def cancel(self, sid: int) -> None:
        def run(conn: Connection) -> None:
            conn.execute(delete(ipp_events_t).where(_E.subscription_id == sid))
            conn.execute(delete(ipp_subscriptions_t).where(_S.id == sid))
        await self._write(run)

    async def post(self, happenings: Sequence[Happening]) -> int:
        """Post printer events or job changes (see :class:`Happening`); returns how many
        events were stored (none for a happening another node posted already)."""
        if not happenings:
            return 0
        now = self.clock()
        return int(await self._write(lambda c: post(c, happenings, now), synced=False))

    async def events(self, sid: int, first: int = 1) -> builtins.list[Event]:
        """Subscription ``sid``'s events numbered ``first`` on, still alive, oldest first."""
        now = self.clock()
        newest = select(_S.sequence).where(_S.id == sid).scalar_subquery()
        stmt = (select(ipp_events_t)
                .where(_E.subscription_id == sid, _E.sequence >= first,
                       _E.sequence > newest - MAX_EVENTS,
                       _E.time >= now - dt.timedelta(seconds=EVENT_LIFE))
                .order_by(_E.sequence))

        def run(conn: Connection) -> list[Event]:
            return [Event(r.sequence, r.event, r.queue, r.time, r.text, r.job_id, r.job_state,
                          tuple(r.job_reasons.split())) for r in conn.execute(stmt)]
        return list(await self._read(run))

    async def expire(self) -> int:
        """Drop subscriptions whose lease ran out and events past EVENT_LIFE; returns how
        many subscriptions went."""
        now = self.clock()
        return int(await self._write(lambda c: expire(c, now), synced=False))
