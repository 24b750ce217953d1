"""cupsd's names and Cancel-Jobs at the IPP level (server/cupsnames.py, ops/jobs.py): what
the CUPS tools rely on, down to the status codes and what a protected queue asks for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ippproxy.config import AccountingConfig, QueueConfig
from ippproxy.ipp import Message, Tag, decode, encode
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, message, status, value
from .conftest import Started, make_config
from .test_server_ops import print_job, req_attrs

P, J = Tag.PRINTER_ATTRIBUTES, Tag.JOB_ATTRIBUTES
HELD = a("job-hold-until", Tag.KEYWORD, "indefinite")


def _root(ipp: Ipp, op: int, *attrs: object, uri: str = "/", **kw: object) -> Message:
    return ipp.request(op, a("printer-uri", Tag.URI, f"ipp://localhost{uri}"),  # type: ignore[arg-type]
                       *attrs, target=False, **kw)  # type: ignore[arg-type]


async def _states(ipp: Ipp, queue: str) -> dict[int, int]:
    """job-id -> job-state of every job of ``queue``."""
    m = await dataclasses.replace(ipp, queue=queue).call(
        Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "all"), req_attrs("job-id", "job-state"))
    return {int(g.get("job-id").value): int(g.get("job-state").value)  # type: ignore
            for g in m.groups_of(J)}


async def two_queues(start_proxy: Started, tmp_path: Path, **queue: object) -> Ipp:
    cfg = make_config(tmp_path, queues=(QueueConfig("office", **queue),  # type: ignore[arg-type]
                                        QueueConfig("lab")))
    return await start_proxy(cfg)


async def test_root_is_the_default_queue_for_printer_operations(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    ipp = await two_queues(start_proxy, tmp_path)
    m = await ipp.post(encode(_root(ipp, Op.GET_PRINTER_ATTRIBUTES,
                                    req_attrs("printer-name", "printer-uri-supported",
                                              "uri-security-supported"))), "/")
    assert value(m, P, "printer-name") == "office"
    # Posted to the root, as libcups does: one URI, as cupsd answers (libcups would post
    # to our two joined by a comma), with its matching security value.
    assert m.get(P, "printer-uri-supported").plain == [  # type: ignore[union-attr]
        f"ipp://{ipp.authority}/printers/office"]
    assert m.get(P, "uri-security-supported").plain == ["none"]  # type: ignore[union-attr]
    # Posted to the queue itself (IPP Everywhere clients): both.
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-uri-supported"))
    assert len(m.get(P, "printer-uri-supported").plain) == 2  # type: ignore[union-attr]
    msg = _root(ipp, Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"), HELD)
    m = await ipp.post(encode(msg) + pdf, "/printers/")
    assert status(m) == "successful-ok", message(m)
    assert value(m, J, "job-uri") == f"ipp://{ipp.authority}/jobs/office/1"
    # With a job-id, the root is still the default queue (cupsd's ipp backend follows its
    # job so when its device URI is ipp://us/).
    m = await ipp.post(encode(_root(ipp, Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, 1))),
                       "/")
    assert value(m, J, "job-printer-uri") == f"ipp://{ipp.authority}/printers/office"


async def test_get_jobs_at_the_root_lists_every_queue(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    ipp = await two_queues(start_proxy, tmp_path)
    lab = dataclasses.replace(ipp, queue="lab")
    await print_job(ipp, pdf, HELD)
    await print_job(lab, pdf, HELD)
    m = await ipp.post(encode(_root(ipp, Op.GET_JOBS, req_attrs("job-printer-uri"))), "/")
    assert sorted(g.get("job-printer-uri").value for g in m.groups_of(J)) == [  # type: ignore
        f"ipp://{ipp.authority}/printers/lab", f"ipp://{ipp.authority}/printers/office"]


async def test_jobs_id_uris(start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    ipp = await two_queues(start_proxy, tmp_path)
    lab = dataclasses.replace(ipp, queue="lab")
    for client in (ipp, ipp, lab):
        await print_job(client, pdf, HELD)

    def by_uri(op: int, job_id: int, user: str = "alice") -> Message:
        return ipp.request(op, a("job-uri", Tag.URI, f"ipp://localhost/jobs/{job_id}"),
                           req_attrs("job-printer-uri"), target=False, user=user)

    m = await ipp.post(encode(by_uri(Op.GET_JOB_ATTRIBUTES, 2)), "/jobs/")
    assert value(m, J, "job-printer-uri") == f"ipp://{ipp.authority}/printers/office"
    m = await ipp.post(encode(by_uri(Op.GET_JOB_ATTRIBUTES, 1)), "/jobs/")
    assert status(m) == "client-error-not-found"
    assert "job-id 1 is on several queues (lab, office)" in message(m)
    m = await ipp.post(encode(by_uri(Op.CANCEL_JOB, 9)), "/jobs/9")
    assert status(m) == "client-error-not-found" and message(m) == "no job 9 on any queue"
    m = await ipp.post(encode(by_uri(Op.CANCEL_JOB, 2)), "/jobs/")
    assert status(m) == "successful-ok"
    assert (await _states(ipp, "office"))[2] == 7         # canceled
    # Another user's job 1 on "lab": bob's own job 1 is on neither queue, still ambiguous.
    m = await ipp.post(encode(by_uri(Op.CANCEL_JOB, 1, user="bob")), "/jobs/")
    assert status(m) == "client-error-not-found"


async def test_cancel_jobs_is_for_admins_and_all_or_nothing(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    ipp = await two_queues(start_proxy, tmp_path)
    lab = dataclasses.replace(ipp, queue="lab")
    for client in (ipp, ipp, ipp, lab):
        await print_job(client, pdf, HELD)
    code, _, m = await ipp.exchange(Op.CANCEL_JOBS, user="root")
    assert code == 401 and m is not None and status(m) == "client-error-not-authenticated"
    admin = await ipp.admin()
    # job 9 is not there: nothing is canceled, the refused id comes back.
    m = await admin.call(Op.CANCEL_JOBS, a("job-ids", Tag.INTEGER, 1, 9))
    assert status(m) == "client-error-not-possible"
    assert m.get(Tag.UNSUPPORTED_ATTRIBUTES, "job-ids").plain == [9]  # type: ignore[union-attr]
    assert await _states(ipp, "office") == {1: 4, 2: 4, 3: 4}
    m = await admin.call(Op.CANCEL_JOBS, a("job-ids", Tag.INTEGER, 1, 3))
    assert status(m) == "successful-ok"
    assert await _states(ipp, "office") == {1: 7, 2: 4, 3: 7}
    m = await admin.call(Op.CANCEL_JOBS, a("job-ids", Tag.INTEGER, 1))   # finished now
    assert status(m) == "client-error-not-possible"
    m = await admin.call(Op.CANCEL_JOBS)                     # every job of the queue
    assert status(m) == "successful-ok"
    assert await _states(ipp, "office") == {1: 7, 2: 7, 3: 7}
    assert await _states(ipp, "lab") == {1: 4}
    # At the root (cancel -a): every queue; a job-id on several queues is refused there.
    root = dataclasses.replace(admin, queue="")
    m = await root.post(encode(_root(root, Op.CANCEL_JOBS, uri="/printers/")), "/admin/")
    assert status(m) == "successful-ok", message(m)
    assert await _states(ipp, "lab") == {1: 7}


async def test_a_protected_default_queue_reached_through_the_root_asks_for_credentials(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    cfg = make_config(tmp_path, queues=(QueueConfig("office", authentication="basic"),
                                        QueueConfig("lab")))
    cfg = dataclasses.replace(cfg, accounting=AccountingConfig(enabled=True))
    ipp = await start_proxy(cfg)
    msg = _root(ipp, Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"))
    async with ipp.session.post(ipp.base + "/", data=encode(msg) + pdf,
                                headers={"Content-Type": "application/ipp"}) as r:
        # HTTP 401 with the challenge, as for the queue's own URI: the client can retry.
        assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
        assert status(decode(await r.read())) == "client-error-not-authenticated"
    admin = await ipp.admin()
    assert await _states(admin, "office") == {}              # no job was taken
    await print_job(admin, pdf, HELD)
    await print_job(dataclasses.replace(ipp, queue="lab"), pdf, HELD)
    # Get-Jobs at the root shows nobody unproven the protected queue's jobs.
    m = await ipp.post(encode(_root(ipp, Op.GET_JOBS, req_attrs("job-printer-uri"))), "/")
    assert [g.get("job-printer-uri").value for g in m.groups_of(J)] == [  # type: ignore
        f"ipp://{ipp.authority}/printers/lab"]
    m = await admin.post(encode(_root(admin, Op.GET_JOBS, req_attrs("job-id"))), "/")
    assert len(m.groups_of(J)) == 2
