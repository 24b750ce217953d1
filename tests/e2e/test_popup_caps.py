"""``server.max_jobs_per_user`` on a queue with ``authentication = "popup"``: a job sent
without credentials only claims a name, so it counts against the network address it came
from, never against the name it claims. Before, anyone could fill a user's cap (and so stop
them printing anywhere) by sending jobs in their name until the popup timeout. The real
``ippproxy serve``; "computers" are loopback addresses bound as the source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.server import IppProxy

from ippproxy.ipp import Attribute, Message, Status, Tag

from .test_accounting_e2e import EXTRA, Env, pdf

CAP = 2
STRANGER, OTHER, ALICE = "127.0.0.2", "127.0.0.3", "127.0.0.1"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    proxy = IppProxy(tmp_path_factory.mktemp("popupcaps"), queues=[
        {"name": "open"},
        {"name": "walkup", "cost_model": "colour", "authentication": "popup"}],
        server={"max_jobs_per_user": CAP})
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        e = Env(proxy)
        e.cmd("add-internal-user", "alice", "--password-file", "-", "--group", "staff",
              "--balance", "10.00", stdin="alice-pw\n")
        yield e
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _send(env: Env, queue: str, tag: str, source: str) -> Message:
    # Held: each job stays not completed, and so counts under the cap.
    return env.print_job(queue, pdf([False], tag), user="alice", source=source, job_attrs=[
        Attribute.single("job-hold-until", Tag.KEYWORD, "indefinite")])


def test_claims_count_by_address_not_against_the_claimed_name(env: Env) -> None:
    # A stranger's computer claims to be alice up to the cap, and is refused after it.
    for n in range(CAP):
        reply = _send(env, "walkup", f"claim-{n}", STRANGER)
        assert reply.code == Status.SUCCESSFUL_OK, reply
    over = _send(env, "walkup", "claim-over", STRANGER)
    assert over.code == Status.SERVER_ERROR_TOO_MANY_JOBS, over
    # Another computer's claims have a cap of their own.
    assert _send(env, "walkup", "elsewhere", OTHER).code == Status.SUCCESSFUL_OK
    # Alice still prints: the claims are not hers until she proves them, and her own
    # jobs count against her own cap as always.
    for n in range(CAP):
        reply = _send(env, "open", f"alice-{n}", ALICE)
        assert reply.code == Status.SUCCESSFUL_OK, reply
    mine = _send(env, "open", "alice-over", ALICE)
    assert mine.code == Status.SERVER_ERROR_TOO_MANY_JOBS, mine
