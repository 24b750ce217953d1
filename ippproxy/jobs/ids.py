"""Identifiers for jobs and spool files: unique, unguessable, and in time order.

Time order. Job UUIDs and spool file names are primary keys or unique keys of the
job store (``jobs.uuid``, ``documents`` and ``spool_copies``). Random keys (version 4
UUIDs) land on a random leaf page of each of those B-trees, so a COMMIT of a few new
jobs rewrote a few pages of every such index: far more bytes written per job, and
more fsync and CPU time per commit, than with keys that grow with time (README,
Benchmarks: ``bench_store.py --history``). So job UUIDs are version 7 (RFC 9562 §5.7: 48 bits of Unix milliseconds, then 12 bits
of sub-millisecond time as §6.2 method 3 allows, then 62 random bits), and a spool name
is 56 bits of Unix microseconds followed by 72 random bits. New keys then go to the
right-hand edge of each index, where the previous commit already left its page, and
PostgreSQL's B-trees gain the same way. Uniqueness does not rest on the clock: two
identifiers made in the same microsecond still differ in 62 or 72 random bits, and a
clock that steps back only costs locality. The time in a job UUID is no secret: the job's
``time-at-creation`` says it too.

Randomness. ``uuid.uuid4()`` calls ``os.urandom(16)``, and ``os.urandom`` gives the GIL
away around its ``getrandom`` system call: on a busy server the event loop then waits
for a worker thread to hand the GIL back, twice per Print-Job (the spool name and the
job UUID). Here the same kernel randomness is read 4 KiB at a time and handed out in
slices, so the random parts stay unpredictable (they come from ``os.urandom``); a forked
child starts with a fresh buffer so that it never repeats its parent's identifiers.
"""

from __future__ import annotations

import os
import threading
import time

_CHUNK = 4096


class _Entropy:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._pos + n > len(self._buf):
                self._buf = os.urandom(max(_CHUNK, n))
                self._pos = 0
            out = self._buf[self._pos:self._pos + n]
            self._pos += n
            return out

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0


_ENTROPY = _Entropy()
os.register_at_fork(after_in_child=_ENTROPY.reset)


def random_hex(nbytes: int = 16) -> str:
    """``2 * nbytes`` lowercase hex digits of kernel randomness."""
    return _ENTROPY.take(nbytes).hex()


def spool_name() -> str:
    """A spool file name: 32 lowercase hex digits, 14 of Unix microseconds (so names
    sort by creation) and 18 of kernel randomness."""
    return (time.time_ns() // 1000 % (1 << 56)).to_bytes(7, "big").hex() + random_hex(9)


def new_uuid() -> str:
    """A version 7 UUID (RFC 9562 §5.7) in its 36-character string form."""
    ms, ns = divmod(time.time_ns(), 1_000_000)
    sub = ns * 4096 // 1_000_000  # RFC 9562 §6.2 method 3: 12 bits of the millisecond
    b = bytearray((ms % (1 << 48)).to_bytes(6, "big") + (0x7000 | sub).to_bytes(2, "big")
                  + _ENTROPY.take(8))
    b[8] = (b[8] & 0x3F) | 0x80  # the variant bits: 10 (RFC 9562 §4.1)
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
