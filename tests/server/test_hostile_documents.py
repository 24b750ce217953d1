"""A hostile PostScript job sent to the server: what reaches the client names no server path,
and what it tried in /tmp had no effect on disk (issue 15 §5)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from ippproxy.config import AccountingConfig
from ippproxy.ipp import Attribute, Operation, Tag

from .conftest import Started, make_config

PS = Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/postscript")


def _messages(m: object) -> list[str]:
    out = []
    for group in m.groups:  # type: ignore[attr-defined]
        for name in ("status-message", "job-state-message"):
            a = group.get(name)
            if a is not None:
                out.append(str(a.value))
    return out


async def test_a_refused_postscript_job_shows_no_server_path(start_proxy: Started,
                                                             tmp_path: Path) -> None:
    # Accounting on: the document is analysed (counted) before the job is accepted.
    cfg = make_config(tmp_path)
    ipp = await start_proxy(replace(cfg, accounting=AccountingConfig(enabled=True,
                                                                      initial_balance="10")))
    target = Path("/tmp") / f"ippproxy-test-written-{secrets.token_hex(4)}"
    write = b"%!PS\n(" + str(target).encode() + b") (w) file closefile\nshowpage\n"
    run = b"%!PS\n(" + str(tmp_path).encode() + b"/spool/nothing.ps) run\nshowpage\n"
    for doc in (write, run):
        m = await ipp.call(Operation.PRINT_JOB, PS, data=doc)
        texts = _messages(m)
        job = m.get(Tag.JOB_ATTRIBUTES, "job-id")
        if job is not None:         # accepted: the refusal is in the job's message
            m = await ipp.call(Operation.GET_JOB_ATTRIBUTES,
                               Attribute.single("job-id", Tag.INTEGER, job.value))
            texts += _messages(m)
        assert any("invalidfileaccess" in t or "undefinedfilename" in t for t in texts), texts
        for text in texts:
            assert str(tmp_path) not in text and "/tmp" not in text, text
    assert not target.exists()
