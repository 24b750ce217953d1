"""IPP operations over real sockets against build_app(config), the codec as client."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

from ippproxy.ipp import Attribute, Group, Tag, encode
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, message, status, value

P, J, U = Tag.PRINTER_ATTRIBUTES, Tag.JOB_ATTRIBUTES, Tag.UNSUPPORTED_ATTRIBUTES
PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")


def req_attrs(*names: str) -> Attribute:
    return a("requested-attributes", Tag.KEYWORD, *names)


async def print_job(ipp: Ipp, data: bytes, *attrs: Attribute, job: tuple[Attribute, ...] = (),
                    user: str | None = None) -> int:
    m = await ipp.call(Op.PRINT_JOB, a("job-name", Tag.NAME, "t"), PDF_FMT, *attrs,
                       job=job, data=data, user=user)
    assert status(m) == "successful-ok", message(m)
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    return job_id


async def test_printer_attributes_derived_from_destination(ipp: Ipp) -> None:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES)
    assert status(m) == "successful-ok"
    g = m.group(P)
    assert g is not None
    names = set(g.names())
    for required in ("printer-uri-supported", "uri-security-supported", "printer-name",
                     "printer-state", "printer-state-reasons", "operations-supported",
                     "ipp-versions-supported", "document-format-supported", "printer-uuid",
                     "queued-job-count", "printer-up-time", "media-supported", "sides-supported",
                     "compression-supported", "printer-is-accepting-jobs"):
        assert required in names, required
    assert "media-col-database" not in names               # only when asked by name
    assert value(m, P, "printer-uri-supported") == ipp.printer_uri
    # The built-in virtual printer is duplex: its sides come through.
    sides = g.get("sides-supported")
    assert sides is not None and "two-sided-long-edge" in sides.plain
    ops = g.get("operations-supported")
    assert ops is not None and Op.PRINT_JOB in ops.plain and Op.PRINT_URI not in ops.plain
    assert str(value(m, P, "printer-uuid")).startswith("urn:uuid:")


async def test_requested_attribute_groups(ipp: Ipp) -> None:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("job-template", "media-col-database"))
    names = set(m.group(P).names())  # type: ignore[union-attr]
    assert {"copies-default", "copies-supported", "media-col-database"} <= names
    assert "printer-name" not in names
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-description"))
    names = set(m.group(P).names())  # type: ignore[union-attr]
    assert "printer-name" in names and "copies-default" not in names
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-uri-supported"))
    assert m.group(P).names() == ["printer-uri-supported"]  # type: ignore[union-attr]


async def test_print_job_is_stored_and_listed(ipp: Ipp, pdf: bytes) -> None:
    job_id = await print_job(ipp, pdf, job=(a("copies", Tag.INTEGER, 2),))
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id))
    assert status(m) == "successful-ok"
    assert value(m, J, "job-originating-user-name") == "alice"
    assert value(m, J, "copies") == 2
    assert value(m, J, "job-uri") == f"ipp://{ipp.authority}/jobs/default/{job_id}"
    m = await ipp.call(Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "all"))
    jobs = m.groups_of(J)
    assert jobs and all(g.names() == ["job-id", "job-uri"] for g in jobs)
    m = await ipp.call(Op.GET_JOBS, a("which-jobs", Tag.KEYWORD, "all"),
                       a("my-jobs", Tag.BOOLEAN, True), user="nobody")
    assert m.groups_of(J) == []


async def test_job_uri_as_target(ipp: Ipp, pdf: bytes) -> None:
    job_id = await print_job(ipp, pdf)
    path = f"/jobs/default/{job_id}"
    msg = ipp.request(Op.GET_JOB_ATTRIBUTES, a("job-uri", Tag.URI,
                                               f"ipp://{ipp.authority}{path}"), target=False)
    m = await ipp.post(encode(msg), path)
    assert status(m) == "successful-ok" and value(m, J, "job-id") == job_id


async def test_chunked_body_with_expect_continue(ipp: Ipp, pdf: bytes) -> None:
    msg = ipp.request(Op.PRINT_JOB, PDF_FMT)

    async def body() -> AsyncIterator[bytes]:
        data = encode(msg) + pdf * 200
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]

    m = await ipp.post(body(), headers={"Expect": "100-continue"})
    assert status(m) == "successful-ok"
    job_id = value(m, J, "job-id")
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                       req_attrs("job-k-octets"))
    assert value(m, J, "job-k-octets") == (len(pdf) * 200 + 1023) // 1024


async def test_compression(ipp: Ipp, pdf: bytes) -> None:
    for kind, data in (("gzip", gzip.compress(pdf)), ("deflate", zlib.compress(pdf))):
        await print_job(ipp, data, a("compression", Tag.KEYWORD, kind))
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, a("compression", Tag.KEYWORD, "gzip"),
                       data=b"not gzip at all")
    assert status(m) == "client-error-compression-error" and message(m)
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, a("compression", Tag.KEYWORD, "compress"),
                       data=pdf)
    assert status(m) == "client-error-compression-not-supported"
    assert value(m, U, "compression") == "compress"


async def test_bad_requests_get_specific_status(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE, "text/x-nope"),
                       data=pdf)
    assert status(m) == "client-error-document-format-not-supported"
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, a("ipp-attribute-fidelity", Tag.BOOLEAN, True),
                       job=(a("sides", Tag.KEYWORD, "three-sided"),), data=pdf)
    assert status(m) == "client-error-attributes-or-values-not-supported"
    unsupported = m.group(U)
    assert unsupported is not None and unsupported.get("sides") is not None
    assert unsupported.get("sides").tag == Tag.KEYWORD  # type: ignore[union-attr]
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, job=(a("sides", Tag.KEYWORD, "three-sided"),),
                       data=pdf)
    assert status(m) == "successful-ok-ignored-or-substituted-attributes"
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, 9999))
    assert status(m) == "client-error-not-found"
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES)
    assert status(m) == "client-error-bad-request" and "job-id" in message(m)
    ipp.queue = "nope"
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, path="/printers/default")
    assert status(m) == "client-error-not-found"
    ipp.queue = "default"
    m = await ipp.call(0x3FFF)
    assert status(m) == "server-error-operation-not-supported"


async def test_cups_start_and_end_sheets(ipp: Ipp, pdf: bytes) -> None:
    """A raw CUPS queue sends job-sheets as START,END (CUPS's extension of RFC 8011
    §5.2.3): "none,none" is the single "none"; an end sheet, which no IPP printer can be
    asked for, is unsupported like any other value (ignored, or refused with fidelity)."""
    none_none = a("job-sheets", Tag.NAME, "none", "none")
    job_id = await print_job(ipp, pdf, job=(none_none,))
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                       req_attrs("job-sheets"))
    sheets = m.get(J, "job-sheets")
    assert sheets is not None and sheets.plain == ["none"], m
    for values in (["none", "standard"], ["none", "none", "none"]):
        sent = a("job-sheets", Tag.NAME, *values)
        m = await ipp.call(Op.PRINT_JOB, PDF_FMT, job=(sent,), data=pdf)
        assert status(m) == "successful-ok-ignored-or-substituted-attributes", message(m)
        assert m.get(U, "job-sheets") == sent
        m = await ipp.call(Op.VALIDATE_JOB, PDF_FMT,
                           a("ipp-attribute-fidelity", Tag.BOOLEAN, True), job=(sent,))
        assert status(m) == "client-error-attributes-or-values-not-supported", message(m)


async def test_document_too_large(start_proxy: object, pdf: bytes) -> None:
    ipp = await start_proxy(max_document_bytes=1000)  # type: ignore[operator]
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf * 100)
    assert status(m) == "client-error-request-entity-too-large"
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-state"))
    assert status(m) == "successful-ok"


async def test_authorisation(ipp: Ipp, pdf: bytes) -> None:
    job_id = await print_job(ipp, pdf, a("job-hold-until", Tag.KEYWORD, "indefinite"))
    # Nobody proven: HTTP 401 with the challenge and client-error-not-authenticated (as
    # cupsd), whatever name is claimed, "root" included.
    for op, user in ((Op.CANCEL_JOB, "mallory"), (Op.PAUSE_PRINTER, "mallory"),
                     (Op.PAUSE_PRINTER, "root")):
        code, headers, m = await ipp.exchange(op, a("job-id", Tag.INTEGER, job_id), user=user)
        assert code == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert m is not None and status(m) == "client-error-not-authenticated"
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-state"))
    assert value(m, P, "printer-state") == 3
    admin = await ipp.admin()          # the master admin, HTTP Basic over TLS
    m = await admin.call(Op.PAUSE_PRINTER, user="mallory")  # the claimed name is irrelevant
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-state",
                                                            "printer-state-reasons"))
    assert value(m, P, "printer-state") == 5
    assert "paused" in m.get(P, "printer-state-reasons").plain  # type: ignore[union-attr]
    m = await admin.call(Op.RESUME_PRINTER)
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.CANCEL_JOB, a("job-id", Tag.INTEGER, job_id))
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.CANCEL_JOB, a("job-id", Tag.INTEGER, job_id))
    assert status(m) == "client-error-not-possible"


async def test_hold_and_release(ipp: Ipp, pdf: bytes) -> None:
    job_id = await print_job(ipp, pdf, a("job-hold-until", Tag.KEYWORD, "indefinite"))
    jid = a("job-id", Tag.INTEGER, job_id)
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, jid, req_attrs("job-state", "job-state-reasons"))
    assert value(m, J, "job-state") == 4
    assert value(m, J, "job-state-reasons") == "job-hold-until-specified"
    m = await ipp.call(Op.RELEASE_JOB, jid)
    assert status(m) == "successful-ok"
    m = await ipp.call(Op.RELEASE_JOB, jid)
    assert status(m) == "client-error-not-possible"


async def test_create_job_and_send_document(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.CREATE_JOB, job=(a("copies", Tag.INTEGER, 1),))
    assert status(m) == "successful-ok"
    jid = a("job-id", Tag.INTEGER, value(m, J, "job-id"))
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, data=pdf)
    assert status(m) == "client-error-bad-request"          # last-document is required
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, a("last-document", Tag.BOOLEAN, False),
                       data=pdf)
    assert status(m) == "successful-ok"
    assert status(await ipp.call(Op.CLOSE_JOB, jid)) == "successful-ok"
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, jid, req_attrs("number-of-documents"))
    assert value(m, J, "number-of-documents") == 1
    m = await ipp.call(Op.SEND_DOCUMENT, jid, PDF_FMT, a("last-document", Tag.BOOLEAN, True),
                       data=pdf)
    assert status(m) in ("client-error-not-possible", "server-error-job-canceled")


async def test_cups_operations_on_root(ipp: Ipp) -> None:
    msg = ipp.request(Op.CUPS_GET_PRINTERS, req_attrs("printer-name", "printer-uri-supported"),
                      target=False)
    m = await ipp.post(encode(msg), "/")
    assert status(m) == "successful-ok"
    assert [g.get("printer-name").value for g in m.groups_of(P)] == ["default"]  # type: ignore[union-attr]
    msg = ipp.request(Op.CUPS_GET_DEFAULT, target=False)
    m = await ipp.post(encode(msg), "/")
    assert value(m, P, "printer-name") == "default"


async def test_subscriptions_ippget(ipp: Ipp, pdf: bytes) -> None:
    sub = Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
        a("notify-pull-method", Tag.KEYWORD, "ippget"),
        a("notify-events", Tag.KEYWORD, "job-created", "job-state-changed")))
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=(sub,))
    assert status(m) == "successful-ok"
    sid = value(m, Tag.SUBSCRIPTION_ATTRIBUTES, "notify-subscription-id")
    assert isinstance(sid, int)
    await print_job(ipp, pdf)
    m = await ipp.call(Op.GET_NOTIFICATIONS, a("notify-subscription-ids", Tag.INTEGER, sid))
    assert status(m) == "successful-ok"
    events = m.groups_of(Tag.EVENT_NOTIFICATION_ATTRIBUTES)
    assert events and events[0].get("notify-subscribed-event").value == "job-created"  # type: ignore[union-attr]
    m = await ipp.call(Op.CANCEL_SUBSCRIPTION, a("notify-subscription-id", Tag.INTEGER, sid))
    assert status(m) == "successful-ok"
