"""Charge many jobs concurrently from one process (multi-node test and benchmark).

    python tests/support/loadgen.py URL USER PRINTER COUNT THREADS [GO_FILE]

Prints one JSON line: ``{"accepted": n, "refused": n, "seconds": s}``. With
``GO_FILE`` it waits until that file exists, so that several processes start
charging at the same moment. Every job is one mono impression at the default
cost model of 10 minor units (the caller sets balances accordingly).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

from ippproxy.accounting.charges import Outcome
from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.errors import CreditRefused
from ippproxy.accounting.service import AccountingService

PRICE = 10
PRICING = Pricing(default=CostModel(default=MediaPrice(mono=Fraction(PRICE))))


def run(url: str, user: str, printer: str, count: int, threads: int,
        go_file: str | None = None, settle: bool = False) -> dict[str, float]:
    from ippproxy.db import make_engine
    engine = make_engine(url, pool_size=threads, max_overflow=0) \
        if not url.startswith("sqlite") else make_engine(url)
    svc = AccountingService(engine, PRICING)
    counts = JobCounts.simple(1)

    def one(_: int) -> bool:
        job = uuid.uuid4()
        try:
            svc.reserve(job, username=user, printer=printer, counts=counts)
        except CreditRefused:
            return False
        if settle:
            svc.settle(job, Outcome.COMPLETED, 1)
        return True

    if go_file:
        deadline = time.monotonic() + 60
        while not os.path.exists(go_file) and time.monotonic() < deadline:
            time.sleep(0.005)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(count)))
    seconds = time.perf_counter() - start
    engine.dispose()
    accepted = sum(results)
    return {"accepted": accepted, "refused": count - accepted, "seconds": seconds}


def main(argv: list[str]) -> int:
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    url, user, printer, count, threads = argv[:5]
    print(json.dumps(run(url, user, printer, int(count), int(threads),
                         argv[5] if len(argv) == 6 else None)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
