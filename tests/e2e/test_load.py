"""Load (`make soak` only): many clients send Print-Jobs at once to the real server.

16 client threads send ``SOAK_SCALE`` x 100 one-page PDF Print-Jobs in all to ``ippproxy
serve`` (subprocess) with its built-in virtual printer as the destination. Every request is
answered successful-ok with a job-id of its own, every job completes, and the printer has
each exactly once. How many jobs per second: benchmarks/bench_intake.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.server import IppProxy
from support.soak import SCALE

from ippproxy.ipp import Attribute, Operation, Tag

from .docs import make_pdf
from .ipp_client import build, expect_ok, get_jobs, job_dicts, print_job, send
from .test_crash import COMPLETED, FAST_RETRY, wait_for

CLIENTS = 16
JOBS = 100 * SCALE


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[IppProxy]:
    # A burst of many jobs from few users: the per-user job cap (tests/server/test_caps.py)
    # is not what this measures.
    with IppProxy(tmp_path / "proxy", forwarding=FAST_RETRY,
                  server={"max_jobs_per_user": 1_000_000}) as p:
        yield p
        assert "Traceback" not in p.log(), p.log()[-3000:]


def printer_names(proxy: IppProxy) -> Counter[str]:
    """job-name of each job the built-in virtual printer completed."""
    uri = f"ipp://127.0.0.1:{proxy.virtual_printer_port}/ipp/print"
    msg = build(Operation.GET_JOBS, uri, op_attrs=[
        Attribute.single("which-jobs", Tag.KEYWORD, "completed"),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-name", "job-state"])])
    jobs = job_dicts(expect_ok(send(proxy.virtual_printer_port, msg, path="/ipp/print")))
    return Counter(j["job-name"] for j in jobs if j["job-state"] == COMPLETED)


@pytest.mark.soak
def test_every_job_of_a_burst_from_many_clients_is_taken_and_printed_once(
        proxy: IppProxy) -> None:
    uri, path = proxy.uri(), proxy.path()

    def one(n: int) -> int:
        pdf = make_pdf(f"load {n} {time.time_ns()}")
        return print_job(proxy.port, uri, pdf, name=f"load-{n}", path=path)

    with ThreadPoolExecutor(CLIENTS) as clients:  # a failed Print-Job raises here
        ids = list(clients.map(one, range(JOBS)))
    assert len(set(ids)) == JOBS, "a job-id was given twice"

    def all_completed() -> bool:
        done = get_jobs(proxy.port, uri, "completed", path=path)
        return len(done) == JOBS and all(j["job-state"] == COMPLETED for j in done)

    wait_for(f"all {JOBS} jobs completed", all_completed, 60 + JOBS / 5,
             lambda: f"{Counter(j['job-state'] for j in get_jobs(proxy.port, uri, 'all', path=path))}")
    assert printer_names(proxy) == Counter(f"load-{n}" for n in range(JOBS))
