"""Identifiers: well-formed, unique, in time order, and not shared with a forked child."""

from __future__ import annotations

import os
import re
import time
import uuid

from ippproxy.jobs.ids import new_uuid, random_hex, spool_name
from ippproxy.jobs.spool import NAME_RE


def test_uuid_is_a_version_7_uuid_carrying_the_time() -> None:
    for _ in range(1000):
        before = time.time_ns() // 1_000_000
        text = new_uuid()
        after = time.time_ns() // 1_000_000
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 7 and u.variant == uuid.RFC_4122
        assert before <= int(text.replace("-", "")[:12], 16) <= after  # RFC 9562 §5.7


def test_keys_made_one_after_another_sort_in_that_order() -> None:
    # Sorted keys go to the right-hand edge of the store's B-trees (jobs/ids.py).
    uuids, names = [], []
    for _ in range(200):
        uuids.append(new_uuid())
        names.append(spool_name())
        time.sleep(0.0003)  # more than the finest clock step that both keep
    assert uuids == sorted(uuids) and names == sorted(names)


def test_identifiers_are_unique_across_buffer_refills() -> None:
    names = {spool_name() for _ in range(5000)}           # many 4 KiB refills
    uuids = {new_uuid() for _ in range(5000)}             # many in the same millisecond
    assert len(names) == 5000 and len(uuids) == 5000
    assert all(NAME_RE.match(n) for n in names)
    assert len({random_hex() for _ in range(1000)}) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{8}", random_hex(4)) for _ in range(10))


def test_the_random_part_is_random() -> None:
    # Same microsecond, different names: the tails (72 bits) carry kernel randomness.
    tails = {spool_name()[14:] for _ in range(1000)}
    assert len(tails) == 1000 and all(t != "0" * 18 for t in tails)


def test_a_forked_child_does_not_repeat_the_parent() -> None:
    random_hex()                      # the buffer is filled and partly used
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                      # child: report its next identifier and leave
        os.write(write, random_hex().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != random_hex()
