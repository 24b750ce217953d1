"""CUPS's ipptool suites against an ippproxy queue that forwards to ippeveprinter.

The required suites must pass with no failure (and every defined test must run);
ipp-everywhere must fail no test that ippeveprinter itself passes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ippproxy.config import QueueConfig
from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag

from . import ipptool
from .client import Ipp, a, status, value
from .conftest import Started, make_config

# Order matters: later suites look at the jobs earlier ones made (as in CUPS's own runs).
REQUIRED = (
    "get-printer-attributes.test", "ipp-1.1.test", "ipp-2.0.test", "ipp-2.1.test",
    "validate-job.test", "print-job.test", "create-job.test", "get-jobs.test",
    "get-job-attributes.test", "print-job-hold.test", "cancel-current-job.test",
    "get-completed-jobs.test", "print-job-gzip.test", "print-job-deflate.test",
    "print-job-password.test", "print-job-media-col.test",
    "get-job-template-attributes.test", "print-job-and-wait.test",
)
EVE_FORMATS = ("application/pdf", "image/jpeg", "image/pwg-raster", "image/urf")


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ipptool.make_documents(tmp_path_factory.mktemp("ipptool-docs")).parent


def _workdir(tmp_path: Path, documents: Path) -> Path:
    work = tmp_path / "ipptool"
    work.mkdir()
    for f in documents.iterdir():
        (work / f.name).symlink_to(f)
    return work


async def _proxy(start_proxy: Started, ippeveprinter: object, tmp_path: Path
                 ) -> tuple[Ipp, str]:
    eve = ippeveprinter(formats=EVE_FORMATS)  # type: ignore[operator]
    cfg = make_config(tmp_path, queues=(QueueConfig("eve", destination=eve.uri),))
    ipp = await start_proxy(cfg)
    ipp.user = ipptool.USER
    return ipp, str(eve.uri)


async def _job(ipp: Ipp, pdf: bytes, *attrs: object) -> tuple[int, str]:
    m = await ipp.call(Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE,
                                       "application/pdf"), *attrs, data=pdf)  # type: ignore[arg-type]
    assert status(m) == "successful-ok"
    job_id, job_uri = value(m, Tag.JOB_ATTRIBUTES, "job-id"), value(m, Tag.JOB_ATTRIBUTES,
                                                                     "job-uri")
    assert isinstance(job_id, int) and isinstance(job_uri, str)
    return job_id, job_uri


async def _wait_only_held(ipp: Ipp, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        m = await ipp.call(Op.GET_JOBS, a("requested-attributes", Tag.KEYWORD, "job-state"))
        if all(g.get("job-state").value == 4 for g in m.groups_of(Tag.JOB_ATTRIBUTES)):  # type: ignore[union-attr]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("jobs of earlier suites did not finish")


async def test_required_suites_pass(start_proxy: Started, ippeveprinter: object,
                                    tmp_path: Path, documents: Path) -> None:
    ipp, _ = await _proxy(start_proxy, ippeveprinter, tmp_path)
    work = _workdir(tmp_path, documents)
    doc = work / "testfile.pdf"
    pdf = doc.read_bytes()
    results = []
    for suite in REQUIRED:
        uri = ipp.printer_uri
        held = None
        if suite == "get-job-attributes.test":
            _, uri = await _job(ipp, pdf)                      # the suite targets a job-uri
        if suite == "cancel-current-job.test":
            # The "current job" the suite cancels must not finish under it: let the jobs
            # of earlier suites complete, then hold one.
            await _wait_only_held(ipp)
            held, _ = await _job(ipp, pdf, a("job-hold-until", Tag.KEYWORD, "indefinite"))
        results.append(await ipptool.run(ipptool.prepare(suite, work), uri, work, doc))
        if held is not None:                                  # leave no held job behind
            await ipp.call(Op.CANCEL_JOB, a("job-id", Tag.INTEGER, held))
    failed = [r for r in results if not r.ok]
    assert not failed, "\n".join(r.summary() + "\n" + r.output[-3000:] for r in failed)


async def test_ipp_everywhere_no_worse_than_ippeveprinter(
        start_proxy: Started, ippeveprinter: object, tmp_path: Path, documents: Path) -> None:
    ipp, eve_uri = await _proxy(start_proxy, ippeveprinter, tmp_path)
    work = _workdir(tmp_path, documents)
    suite = ipptool.prepare("ipp-everywhere.test", work)
    doc = work / "testfile.pdf"
    ours = await ipptool.run(suite, ipp.printer_uri, work, doc)
    # ippeveprinter answers server-error-busy while it prints, so ipptool -R retries: slow.
    reference = await ipptool.run(suite, eve_uri, work, doc)
    assert len(ours.passed) >= 6, ours.output[-3000:]       # the PWG raster prints ran
    worse = [t for t in ours.failed if t in reference.passed]
    assert not worse, f"{worse}\n{ours.output[-4000:]}"
    assert ours.not_run <= reference.not_run, ours.output[-3000:]
