"""Recovery after a restart, and a real kill -9 in the middle of intake."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore

S, E = JobState, JobEvent
MakeDoc = Callable[..., Awaitable[NewDocument]]
ROOT = Path(__file__).resolve().parents[2]


async def test_recover(engine: Engine, spool: Spool, make_doc: MakeDoc) -> None:
    async with JobStore(engine) as store:

        async def job(data: bytes = b"%PDF ok", **kw: Any) -> str:
            return (
                await store.create_job("q", owner="u", documents=[await make_doc(data)], **kw)
            ).uuid

        pending, held = await job(), await job(hold_until="indefinite")
        incoming = (await store.create_job("q", owner="u", closed=False)).uuid
        forwarding = await job()
        await store.transition(forwarding, E.START)
        await store.update_forwarding(forwarding, forward_started=True, remote_job_id=7)
        stopped = await job()
        await store.transition(stopped, E.START)
        await store.transition(stopped, E.DESTINATION_STOPPED)
        done = await job()
        await store.transition(done, E.START)
        await store.transition(done, E.COMPLETE)
        missing, corrupt, truncated = await job(b"AAAA"), await job(b"BBBB"), await job(b"CCCC")
        bad_json, bad_state, bad_name = await job(), await job(), await job()

        recs = {u: await store.get_by_uuid(u) for u in (missing, corrupt, truncated)}
        os.unlink(spool.path(recs[missing].documents[0].spool_name))  # type: ignore[union-attr]
        spool.path(recs[corrupt].documents[0].spool_name).write_bytes(b"XXXX")  # type: ignore[union-attr]
        spool.path(recs[truncated].documents[0].spool_name).write_bytes(b"CC")  # type: ignore[union-attr]
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE jobs SET state_reasons = 'not json{' WHERE uuid = :u"), {"u": bad_json}
            )
            conn.execute(text("UPDATE jobs SET state = 42 WHERE uuid = :u"), {"u": bad_state})
            conn.execute(
                text("UPDATE documents SET spool_name = '../../etc/passwd' WHERE job_uuid = :u"),
                {"u": bad_name},
            )
        orphan = await make_doc(b"never acknowledged")
        (spool.root / ".0123456789abcdef0123456789abcdef.tmp").write_bytes(b"half")

        changed = await store.recover(spool)

        assert {r.uuid for r in changed} == {
            forwarding,
            stopped,
            missing,
            corrupt,
            truncated,
            bad_name,
        }
        get = store.get_by_uuid
        for u in (forwarding, stopped):
            r = await get(u)
            assert r is not None and r.state is S.PENDING and r.node is None
        fwd = await get(forwarding)
        assert fwd is not None and fwd.forward_started and fwd.remote_job_id == 7
        assert fwd.state_message and "restart" in fwd.state_message
        for u, words in (
            (missing, "missing"),
            (corrupt, "sha256"),
            (truncated, "bytes"),
            (bad_name, "not a spool file name"),
        ):
            r = await get(u)
            assert r is not None and r.state is S.ABORTED, u
            assert "document-access-error" in r.state_reasons
            assert r.state_message and words in r.state_message
        for u in (bad_json, bad_state):
            r = await get(u)
            assert r is not None and r.state is S.ABORTED
            assert r.state_message and "unreadable" in r.state_message
        assert (await get(pending)).state is S.PENDING  # type: ignore[union-attr]
        assert (await get(held)).state is S.PENDING_HELD  # type: ignore[union-attr]
        assert (await get(incoming)).closed is False  # type: ignore[union-attr]
        assert (await get(done)).state is S.COMPLETED  # type: ignore[union-attr]
        names = set(os.listdir(spool.root))
        assert orphan.spool_name not in names
        assert not any(n.endswith(".tmp") for n in names)
        # Every other job's document is still there, and a second run changes nothing.
        # 11 documents: one deleted above, one renamed in its row (now an orphan file)
        assert len(names) == 9
        assert await store.recover(spool) == []


KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from ippproxy.db import make_engine
    from ippproxy.jobs.records import NewDocument
    from ippproxy.jobs.spool import Spool
    from ippproxy.jobs.store import JobStore

    async def main(url, root):
        spool = Spool(root, 1 << 20)
        async with JobStore(make_engine(url)) as store:
            async def client(n):
                i = 0
                while True:
                    i += 1
                    data = os.urandom(2000) + b"client %d job %d" % (n, i)
                    async with spool.writer() as w:
                        await w.write(data)
                    doc = NewDocument(w.name, w.size, w.sha256, "application/pdf")
                    job = await store.create_job("q", owner="u", documents=[doc])
                    # Acknowledged: this is the moment the server answers successful-ok.
                    sys.stdout.write(job.uuid + " " + w.sha256 + "\\n")
                    sys.stdout.flush()
            await asyncio.gather(*(client(n) for n in range(8)))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_kill_9_loses_no_acknowledged_job(tmp_path: Path, db_url: str) -> None:
    upgrade(make_engine(db_url))
    script = tmp_path / "intake.py"
    script.write_text(KILL_SCRIPT)
    spool_root = tmp_path / "spool"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        db_url,
        str(spool_root),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    acked: dict[str, str] = {}

    def take(line: bytes) -> None:
        parts = line.decode().split()
        if len(parts) == 2 and len(parts[1]) == 64:  # lines are atomic pipe writes anyway
            acked[parts[0]] = parts[1]

    try:
        while len(acked) < 200 and (line := await proc.stdout.readline()):
            take(line)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-way: other jobs are in flight
        rest = await proc.stdout.read()
        await proc.wait()
    for line in rest.splitlines():  # acknowledged before the kill landed
        take(line)
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 200

    spool = Spool(spool_root, 1 << 20)
    async with JobStore(make_engine(db_url)) as store:
        assert await store.recover(spool) == []
        for uuid, sha in acked.items():
            job = await store.get_by_uuid(uuid)
            assert job is not None, uuid
            assert job.state is S.PENDING and len(job.documents) == 1
            doc = job.documents[0]
            assert doc.sha256 == sha
            assert spool.digest(doc.spool_name) == (doc.size, sha)
        ids = [j.job_id for j in await store.list_jobs("q")]
        assert len(ids) == len(set(ids))
        before = max(ids)
        assert (await store.create_job("q", owner="u")).job_id > before
