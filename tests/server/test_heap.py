"""The server's start-up heap is frozen out of the cyclic garbage collector (server/heap.py):
full collections then visit only what requests made, not every module, table and route."""

from __future__ import annotations

import gc
import re
import subprocess
from pathlib import Path

from ippproxy.server import heap
from server.metrics_text import sample
from tests.support.server import IppProxy


def test_freeze_then_thaw_in_this_process() -> None:
    assert gc.get_freeze_count() == 0
    try:
        frozen = heap.freeze()
        # (a frozen object freed since leaves the permanent generation; none joins it)
        assert frozen > 1000 and 0 < gc.get_freeze_count() <= frozen
    finally:
        heap.thaw()
    assert gc.get_freeze_count() == 0


def test_a_real_server_freezes_what_its_start_up_made(tmp_path: Path) -> None:
    with IppProxy(tmp_path, log_level="debug") as proxy:
        found = re.search(r"(\d+) objects of the start-up frozen", proxy.log())
    assert found is not None, proxy.log()[-2000:]
    # the modules, tables, routes and registries: far more than a request makes
    assert int(found.group(1)) > 50_000


def test_each_collection_is_timed_by_generation() -> None:
    pauses = heap.Pauses()
    before = {g: sum(c) for g, c, _ in pauses.snapshot()}
    assert before == {0: 0, 1: 0, 2: 0}
    pauses.start()
    try:
        gc.collect(0)
        gc.collect(2)
        gc.collect(2)
    finally:
        pauses.stop()
    gc.collect()      # stopped: not counted
    after = {g: (sum(c), s) for g, c, s in pauses.snapshot()}
    assert after[0][0] >= 1 and after[2][0] == 2 and after[2][1] > 0
    assert all(len(c) == len(heap.PAUSE_BUCKETS) + 1 for _, c, _ in pauses.snapshot())
    assert pauses._callback not in gc.callbacks


def test_a_real_server_counts_its_collections(tmp_path: Path) -> None:
    token = "scrape-token-of-the-heap-test"
    with IppProxy(tmp_path, server={"metrics_token": token}) as proxy:
        text = subprocess.run(
            ["curl", "-sf", "--cacert", str(proxy.cert), "--max-time", "10",
             "-H", f"Authorization: Bearer {token}", f"https://localhost:{proxy.port}/metrics"],
            capture_output=True, text=True, timeout=30, check=True).stdout
    # the freeze's own collection at least, after the count started
    assert sample(text, "ippproxy_gc_pause_seconds_count", generation="2") >= 1
    for generation in "012":
        assert sample(text, "ippproxy_gc_pause_seconds_bucket", generation=generation,
                      le="+Inf") == sample(text, "ippproxy_gc_pause_seconds_count",
                                           generation=generation)
