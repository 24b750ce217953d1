"""PIN jobs (PWG 5100.11 ``job-password``; issue 17 §5-6, server/ops/holds.py): what the
printer advertises, CUPS's ``print-job-password.test`` run by ipptool over IPPS (the job held
``job-password-wait``, only a salted hash kept), and the bad input: over plain ipp, letters,
the wrong length, an unknown encryption, none on a ``pin_required`` queue."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute, Tag
from ippproxy.ipp import Operation as Op

from . import ipptool
from .client import Ipp, a, message, status, value
from .conftest import Started, make_config


def _ipps(ipp: Ipp) -> str:
    return f"ipps://{ipp.tls_base.removeprefix('https://')}/printers/{ipp.queue}"


async def _print(ipp: Ipp, pdf: bytes, *attrs: Attribute,
                 job: tuple[Attribute, ...] = ()) -> tuple[str, str, object]:
    m = await ipp.call(Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE,
                                       "application/pdf"), *attrs, job=job, data=pdf)
    return status(m), message(m), value(m, Tag.JOB_ATTRIBUTES, "job-id")


def _pin(pin: bytes, encryption: str = "none") -> tuple[Attribute, Attribute]:
    return (a("job-password", Tag.OCTET_STRING, pin),
            a("job-password-encryption", Tag.KEYWORD, encryption))


async def _job(ipp: Ipp, job_id: object) -> dict[str, object]:
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                       a("requested-attributes", Tag.KEYWORD, "all"))
    group = m.group(Tag.JOB_ATTRIBUTES)
    assert group is not None
    return {x.name: x.value for x in group.attributes}


async def test_the_printer_advertises_four_digit_pins(ipp: Ipp) -> None:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD, "all"))
    attrs = m.group(Tag.PRINTER_ATTRIBUTES)
    assert attrs is not None
    got = {x.name: x.plain for x in attrs.attributes}
    assert got["job-password-supported"] == [4]
    assert got["job-password-repertoire-supported"] == ["iana_us-ascii_digits"]
    assert got["job-password-encryption-supported"] == ["none", "sha2-256"]
    assert "printer-mandatory-job-attributes" not in got


async def test_ipptool_pin_job_over_ipps_is_held_and_only_a_hash_kept(
        ipp: Ipp, tmp_path: Path) -> None:
    work = tmp_path / "ipptool"
    doc = ipptool.make_documents(work)
    result = await ipptool.run(ipptool.prepare("print-job-password.test", work), _ipps(ipp),
                               work, doc)
    assert result.passed and not result.failed, result.output[-3000:]
    tls = replace(ipp, base=ipp.tls_base, user=ipptool.USER)
    m = await tls.call(Op.GET_JOBS, a("requested-attributes", Tag.KEYWORD, "job-id"),
                       a("which-jobs", Tag.KEYWORD, "all"))
    ids = [g.get("job-id").value for g in m.groups_of(Tag.JOB_ATTRIBUTES)]  # type: ignore[union-attr]
    job = await _job(tls, ids[-1])
    assert (job["job-state"], job["job-state-reasons"]) == (4, "job-password-wait")
    assert "job-password" not in job
    assert ipp.config is not None
    engine = create_engine(ipp.config.storage.database)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT attributes, analysis FROM jobs")).all()
    engine.dispose()
    stored = b"".join(bytes(r[0] or b"") for r in row) + str([r[1] for r in row]).encode()
    assert b"1234" not in stored and b"pbkdf2-sha256$" in stored
    assert hashlib.sha256(b"1234").hexdigest().encode() not in stored


@pytest.mark.parametrize(("pin", "encryption", "wanted"), [
    (b"12ab", "none", "digits"),
    (b"12345", "none", "4 digits"),
    (b"123", "none", "4 digits"),
    (b"1234", "md5", "job-password-encryption"),
    (b"abc", "sha2-256", "SHA-256"),
])
async def test_bad_pins_are_refused_naming_job_password(
        ipp: Ipp, pdf: bytes, pin: bytes, encryption: str, wanted: str) -> None:
    tls = replace(ipp, base=ipp.tls_base)
    st, msg, job_id = await _print(tls, pdf, *_pin(pin, encryption))
    assert (st, job_id) == ("client-error-bad-request", None)
    assert "job-password" in msg and wanted in msg, msg


async def test_a_pin_over_plain_ipp_is_refused(ipp: Ipp, pdf: bytes) -> None:
    st, msg, job_id = await _print(ipp, pdf, *_pin(b"1234"))
    assert (st, job_id) == ("client-error-not-authorized", None)
    assert "job-password" in msg and "ipps" in msg


async def test_sha2_256_pins_are_held(ipp: Ipp, pdf: bytes) -> None:
    tls = replace(ipp, base=ipp.tls_base)
    for pin in (hashlib.sha256(b"4711").digest(), hashlib.sha256(b"4711").hexdigest().encode()):
        st, msg, job_id = await _print(tls, pdf, *_pin(pin, "sha2-256"))
        assert st == "successful-ok", msg
        job = await _job(tls, job_id)
        assert (job["job-state"], job["job-state-reasons"]) == (4, "job-password-wait")


async def test_a_pin_required_queue_lists_it_and_refuses_jobs_without(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    ipp = await start_proxy(make_config(tmp_path, queues=(
        QueueConfig("pins", pin_required=True),)))
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD,
                                                    "printer-mandatory-job-attributes"))
    got = m.get(Tag.PRINTER_ATTRIBUTES, "printer-mandatory-job-attributes")
    assert got is not None and got.plain == ["job-password"]
    st, msg, _ = await _print(replace(ipp, base=ipp.tls_base), pdf)
    assert st == "client-error-bad-request" and "job-password is mandatory" in msg
    st, msg, _ = await _print(replace(ipp, base=ipp.tls_base), pdf, *_pin(b"0042"))
    assert st == "successful-ok", msg


def _stored(ipp: Ipp) -> bytes:
    assert ipp.config is not None
    engine = create_engine(ipp.config.storage.database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT attributes, analysis FROM jobs")).all()
    engine.dispose()
    return b"".join(bytes(r[0] or b"") for r in rows) + str([r[1] for r in rows]).encode()


async def test_a_pin_by_create_job_is_held_never_kept(ipp: Ipp, pdf: bytes) -> None:
    tls = replace(ipp, base=ipp.tls_base)
    st, msg, _ = await _print(tls, pdf, job=_pin(b"8642"))   # an operation attribute
    assert st == "client-error-bad-request" and "job-password" in msg
    m = await tls.call(Op.CREATE_JOB, *_pin(b"9753"))
    assert status(m) == "successful-ok", message(m)
    created = value(m, Tag.JOB_ATTRIBUTES, "job-id")
    m = await tls.call(Op.SEND_DOCUMENT, a("job-id", Tag.INTEGER, created),
                       a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
                       a("last-document", Tag.BOOLEAN, True), data=pdf)
    assert status(m) == "successful-ok", message(m)
    job = await _job(tls, created)
    assert (job["job-state"], job["job-state-reasons"]) == (4, "job-password-wait")
    stored = _stored(ipp)
    assert b"8642" not in stored and b"9753" not in stored
