"""A full spool (a 2 MiB tmpfs, filled) answers server-error-temporary-error with "spool
full", logs one alert line for the admin, keeps no job, and prints again once there is room
(issue 15)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ippproxy.config import Config, QueueConfig, StorageConfig
from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag

from .client import a, message, status, value
from .conftest import Started, make_config

PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")


@pytest.fixture
def small_spool(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "spool-fs"
    mount.mkdir()
    assert os.geteuid() == 0, "mounting a tmpfs needs root"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def _big_pdf(pages: int) -> bytes:
    # a PDF well over storage.copy_max_bytes, so that it goes to a spool file
    pad = b"%" + b"x" * 1000 + b"\n"
    return (b"%PDF-1.4\n" + pad * pages + b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


async def test_a_full_spool_is_a_temporary_error(
        start_proxy: Started, tmp_path: Path, small_spool: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    base = make_config(tmp_path, (QueueConfig("default"),))
    cfg = Config(server=base.server, forwarding=base.forwarding,
                 virtual_printer=base.virtual_printer, queues=base.queues,
                 storage=StorageConfig(database=base.storage.database,
                                       spool=str(small_spool / "spool")))
    ipp = await start_proxy(config=cfg)
    filler = small_spool / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    caplog.set_level(logging.INFO)
    doc = _big_pdf(300)
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc)
    assert status(m) == "server-error-temporary-error"
    assert "spool full" in message(m)
    assert str(small_spool) not in message(m)
    m = await ipp.call(Op.CREATE_JOB)
    job_id = value(m, Tag.JOB_ATTRIBUTES, "job-id")
    m = await ipp.call(Op.SEND_DOCUMENT, a("job-id", Tag.INTEGER, job_id), PDF_FMT,
                       a("last-document", Tag.BOOLEAN, True), data=doc)
    assert status(m) == "server-error-temporary-error" and "spool full" in message(m)
    m = await ipp.call(Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "not-completed"))
    assert m.groups_of(Tag.JOB_ATTRIBUTES) == []   # nothing half-acknowledged
    left = [p for p in (small_spool / "spool").rglob("*") if p.is_file()]
    assert left == [], left                          # no partial spool file stays
    alerts = [r for r in caplog.records if "spool full" in r.getMessage()]
    assert alerts and all(r.levelno == logging.ERROR for r in alerts)
    for rec in caplog.records:
        assert rec.exc_info is None, rec.getMessage()

    filler.unlink()
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc)
    assert status(m) == "successful-ok"

    # read-only: the same answer
    await asyncio.to_thread(_remount, small_spool, "ro")
    try:
        m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=doc)
        assert status(m) == "server-error-temporary-error"
        assert "spool full or not writable" in message(m)
    finally:
        await asyncio.to_thread(_remount, small_spool, "rw")
    for rec in caplog.records:
        assert rec.exc_info is None, rec.getMessage()
