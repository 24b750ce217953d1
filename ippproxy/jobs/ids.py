"""Random identifiers for jobs and spool files, without a system call per identifier.

``uuid.uuid4()`` calls ``os.urandom(16)``, and ``os.urandom`` gives the GIL away around
its ``getrandom`` system call: on a busy server the event loop then waits for a worker
thread to hand the GIL back, twice per Print-Job (the spool name and the job UUID).
Here the same kernel randomness is read 4 KiB at a time and handed out in slices, so
identifiers stay unpredictable (they come from ``os.urandom``) and unique; a forked
child starts with a fresh buffer so that it never repeats its parent's identifiers.
"""

from __future__ import annotations

import os
import threading

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
    """``2 * nbytes`` lowercase hex digits of kernel randomness (a spool file name)."""
    return _ENTROPY.take(nbytes).hex()


def new_uuid() -> str:
    """A random (version 4, RFC 9562 §5.4) UUID in its 36-character string form."""
    b = bytearray(_ENTROPY.take(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
