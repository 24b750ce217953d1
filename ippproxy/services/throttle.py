"""Login rate limiting per user name and per client address, kept in the database so that
every node sharing it sees the same failures.

Theory of operation: each failed login writes two rows, ``user:<canonical name>`` and
``addr:<address>``. Before a password is checked, the failures of both keys within
``horizon`` are counted; the first ``free`` cost nothing, after that each further failure
doubles the wait after the last one (``base`` seconds, then twice that, ... up to
``ceiling``). A refused attempt is not checked and not counted, so waiting out the delay
is always enough. A successful login clears its user's key, never the address's: an
attacker cannot reset an address's count with an account of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, insert, select

from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import aware, utcnow
from ippproxy.services.authmodels import FAILURES


@dataclass(frozen=True)
class ThrottleSettings:
    free: int = 5             # failures allowed within the horizon before any wait
    base: float = 60.0        # the first wait, in seconds
    ceiling: float = 3600.0   # the longest wait
    horizon: float = 3600.0   # failures older than this are forgotten




class LoginThrottle:
    def __init__(self, engine: Engine, settings: ThrottleSettings = ThrottleSettings()) -> None:
        self.engine = engine
        self.settings = settings

    def _wait(self, count: int, last: dt.datetime | None, now: dt.datetime) -> float:
        s = self.settings
        if count < s.free or last is None:
            return 0.0
        delay = min(s.base * 2.0 ** (count - s.free), s.ceiling)
        return max(0.0, delay - (now - aware(last)).total_seconds())

    def retry_after(self, user: str, address: str) -> float:
        """Seconds to wait before this user may try from this address (0: go ahead)."""
        now = utcnow()
        since = now - dt.timedelta(seconds=self.settings.horizon)
        waits = [0.0]
        with self.engine.connect() as conn:
            for key in (f"user:{user}", f"addr:{address}"):
                count, last = conn.execute(
                    select(func.count(), func.max(FAILURES.c.at))
                    .where(FAILURES.c.key == key, FAILURES.c.at > since)).one()
                waits.append(self._wait(int(count), last, now))
        return float(max(waits))

    def failed(self, user: str, address: str) -> None:
        now = utcnow()
        old = now - dt.timedelta(seconds=self.settings.horizon)
        keys = (f"user:{user}", f"addr:{address}")

        def work(conn: Connection) -> None:
            conn.execute(delete(FAILURES).where(FAILURES.c.key.in_(keys),
                                                FAILURES.c.at < old))
            conn.execute(insert(FAILURES), [{"key": k, "at": now} for k in keys])
        in_transaction(self.engine, work)

    def succeeded(self, user: str) -> None:
        in_transaction(self.engine, lambda c: c.execute(
            delete(FAILURES).where(FAILURES.c.key == f"user:{user}")))
