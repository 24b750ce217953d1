"""A PostScript job cannot read, list or write /tmp or the spool; workers are not root.

Each hostile document prints one page when its attack is refused and two when it
worked, so the page count the pool answers is the oracle (besides the disk).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.pool import AnalysisPool
from ippproxy.filters.sandbox import (
    REQUEST_DIR,
    after_request,
    hide_paths,
    request_dir,
    worker_user,
)

# `attack` runs inside `stopped`; a refusal (an error) leaves one page, success two.
_DOC = b"""%%!PS
{ %s } stopped { } { showpage } ifelse
showpage
"""


def _ps(tmp: Path, name: str, attack: str) -> Path:
    path = tmp / name
    path.write_bytes(_DOC % attack.encode())
    return path


@pytest.fixture
def secret_in_tmp() -> Iterator[Path]:
    path = Path("/tmp") / f"ippproxy-test-secret-{secrets.token_hex(4)}"
    path.write_bytes(b"TOP SECRET\n")
    path.chmod(0o600)
    yield path
    path.unlink()


def test_the_suite_runs_as_root() -> None:
    assert os.geteuid() == 0, "these tests check the privilege drop: run them as root"


async def test_reading_a_private_file_in_tmp_is_refused(pool: AnalysisPool, tmp_path: Path,
                                                        secret_in_tmp: Path) -> None:
    doc = _ps(tmp_path, "read.ps", f"({secret_in_tmp}) (r) file 100 string readstring pop pop")
    assert (await pool.analyse(doc, "application/postscript")).pages == 1


async def test_listing_tmp_finds_nothing(pool: AnalysisPool, tmp_path: Path,
                                         secret_in_tmp: Path) -> None:
    # filenameforall under -dSAFER skips what it may not see: count what it found
    # (it does see its own input, in its private directory under the scratch root).
    doc = _ps(tmp_path, "list.ps", "0 (/tmp/ippproxy-test-*) { pop 1 add } 256 string "
                                   "filenameforall 0 eq { stop } if")
    assert (await pool.analyse(doc, "application/postscript")).pages == 1


async def test_writing_tmp_has_no_effect(pool: AnalysisPool, tmp_path: Path) -> None:
    target = Path("/tmp") / f"ippproxy-test-written-{secrets.token_hex(4)}"
    doc = _ps(tmp_path, "write.ps", f"({target}) (w) file dup (x) writestring closefile")
    try:
        assert (await pool.analyse(doc, "application/postscript")).pages == 1
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


async def test_reading_the_spool_is_refused(pool: AnalysisPool, tmp_path: Path) -> None:
    other = tmp_path / "other-job.pdf"          # another job beside this one in the spool
    other.write_bytes(b"%PDF-1.4 someone else's document\n")
    other.chmod(0o600)
    doc = _ps(tmp_path, "spool.ps", f"({other}) (r) file 100 string readstring pop pop")
    assert (await pool.analyse(doc, "application/postscript")).pages == 1
    doc = _ps(tmp_path, "spool-list.ps", f"0 ({tmp_path}/*) {{ pop 1 add }} 256 string "
                                         "filenameforall 0 eq { stop } if")
    assert (await pool.analyse(doc, "application/postscript")).pages == 1


async def test_a_conversion_is_confined_too(pool: AnalysisPool, tmp_path: Path,
                                           secret_in_tmp: Path) -> None:
    doc = _ps(tmp_path, "conv.ps", f"({secret_in_tmp}) (r) file 100 string readstring pop pop")
    out = tmp_path / "out.pdf"
    await pool.convert("ps-to-pdf", doc, out)
    assert (await pool.analyse(out, "application/pdf")).pages == 1
    assert out.stat().st_uid == os.geteuid()


async def test_refusals_show_no_server_path(pool: AnalysisPool, tmp_path: Path) -> None:
    doc = tmp_path / "deep" / "spool" / "missing.ps"
    with pytest.raises(AnalysisError) as refused:
        await pool.analyse(doc, "application/postscript")
    assert "/" not in refused.value.reason.replace("/invalid", "")
    bad = _ps(tmp_path, "error.ps", f"({tmp_path}/nothing-here.ps) run")
    bad.write_bytes(bad.read_bytes().replace(b"{ ", b"", 1).replace(b" } stopped { } "
                                                                    b"{ showpage } ifelse", b""))
    with pytest.raises(AnalysisError) as failed:
        await pool.analyse(bad, "application/postscript")
    assert str(tmp_path) not in failed.value.reason
    assert "/tmp" not in failed.value.reason


def test_hide_paths_keeps_ghostscript_error_names() -> None:
    assert hide_paths("Error: /invalidfileaccess in --file--") == \
        "Error: /invalidfileaccess in --file--"
    assert hide_paths("No such file: '/var/spool/ippproxy/ab/cd.pdf'") == \
        "No such file: 'cd.pdf'"


async def test_workers_run_as_nobody_in_private_directories(pool: AnalysisPool,
                                                            tmp_path: Path) -> None:
    assert pool.user is not None and pool.user.name == "nobody"
    pids = await asyncio.gather(*(pool.ping() for _ in pool._all))
    assert sorted(pids) == sorted(w.proc.pid for w in pool._all)
    for worker in pool._all:
        status = Path(f"/proc/{worker.proc.pid}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        groups = next(line for line in status.splitlines() if line.startswith("Groups:"))
        assert uids == [str(pool.user.uid)] * 4
        assert groups.split()[1:] == []
    assert pool._scratch is not None
    root = pool._scratch.root
    assert root.stat().st_mode & 0o777 == 0o700 and root.stat().st_uid == pool.user.uid
    homes = sorted(w.home for w in pool._all)
    assert sorted(root.iterdir()) == homes     # one directory per worker, nothing else
    for home in homes:
        assert home.stat().st_mode & 0o777 == 0o700 and home.stat().st_uid == pool.user.uid
    doc = _ps(tmp_path, "plain.ps", "stop")
    await pool.analyse(doc, "application/postscript")
    assert sorted(root.iterdir()) == homes    # the request's directory is gone
    # From memory: gs reads a file the worker writes in the request directory it keeps in
    # its home, which the request leaves empty.
    assert (await pool.analyse_bytes(_DOC % b"stop", "application/postscript")).pages == 1
    assert sorted(root.iterdir()) == homes
    for home in homes:
        assert [p.name for p in home.iterdir()] in ([], [REQUEST_DIR])
        for kept in home.iterdir():
            assert kept.stat().st_mode & 0o777 == 0o700 and not any(kept.iterdir())


def test_a_request_finds_its_directory_empty(tmp_path: Path) -> None:
    first = request_dir(tmp_path)
    assert Path(first).parent == tmp_path and Path(first).stat().st_mode & 0o777 == 0o700
    (Path(first) / "render.ppm").write_bytes(b"an earlier document's page")
    (Path(first) / "gs-tmp").mkdir()
    (Path(first) / "gs-tmp" / "font").write_bytes(b"x")
    after_request(first)
    assert not Path(first).exists()         # what it wrote is gone
    second = request_dir(tmp_path)
    assert second == first and not any(Path(second).iterdir())
    after_request(second)
    assert Path(second).is_dir()            # kept: nothing was written
    # A request that ended without after_request (a worker killed half-way is replaced
    # with its home, but should one not be): the next still starts empty.
    (Path(second) / "left").write_bytes(b"x")
    third = request_dir(tmp_path)
    assert third == second and not any(Path(third).iterdir())


async def test_a_replaced_workers_directory_is_removed(pool: AnalysisPool, tmp_path: Path) -> None:
    loop = _ps(tmp_path, "loop.ps", "{ } loop")
    before = {w.home for w in pool._all}
    with pytest.raises(AnalysisError):
        await pool.analyse(loop, "application/postscript", timeout=1)
    after = {w.home for w in pool._all}
    assert len(before - after) == 1 and not any(h.exists() for h in before - after)
    assert all(h.is_dir() for h in after)


async def test_a_broken_pdf_from_a_file_names_no_path(pool: AnalysisPool, tmp_path: Path) -> None:
    broken = tmp_path / "spool" / "job-1.pdf"
    broken.parent.mkdir()
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                       b"trailer << /Root 9 0 R >>\n%%EOF\n")
    with pytest.raises(AnalysisError) as refused:
        await pool.analyse(broken, "application/pdf")
    assert str(tmp_path) not in refused.value.reason and "/tmp" not in refused.value.reason


def test_workers_never_run_as_root_or_an_unknown_user() -> None:
    with pytest.raises(ValueError, match="is root"):
        worker_user("root")
    with pytest.raises(ValueError, match="does not exist"):
        worker_user("no-such-user-ippproxy")
    nobody = worker_user(None)
    assert nobody is not None and nobody.name == "nobody" and nobody.uid != 0

