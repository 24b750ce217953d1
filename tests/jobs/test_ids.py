"""Random identifiers: well-formed, unique, and not shared with a forked child."""

from __future__ import annotations

import os
import re
import uuid

from ippproxy.jobs.ids import new_uuid, random_hex
from ippproxy.jobs.spool import NAME_RE


def test_uuid_is_a_version_4_uuid() -> None:
    for _ in range(1000):
        text = new_uuid()
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122


def test_identifiers_are_unique_across_buffer_refills() -> None:
    names = {random_hex() for _ in range(5000)}           # 80 KB: many 4 KiB refills
    assert len(names) == 5000
    assert all(NAME_RE.match(n) for n in names)
    assert all(re.fullmatch(r"[0-9a-f]{8}", random_hex(4)) for _ in range(10))


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
