"""A small synchronous IPP client for the end-to-end tests, built on the codec (ippproxy.ipp).

Well-formed requests are encoded with ``ippproxy.ipp.encode`` and sent over a raw socket
(``wire.http_exchange``); responses are decoded with ``ippproxy.ipp.decode``. Every response
is checked for the RFC 8011 §4.1.4 basics (HTTP 200 application/ipp, request-id echoed,
attributes-charset then attributes-natural-language first).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from ippproxy.ipp import Attribute, Group, Message, Operation, Status, Tag, decode, encode

from .wire import HttpResponse, http_exchange, post_request

_ids = itertools.count(1)


def status_name(code: int) -> str:
    try:
        return f"{Status(code).keyword} (0x{code:04x})"
    except ValueError:
        return f"0x{code:04x}"


def build(op: int, uri: str | None, *, user: str | None = "alice",
          op_attrs: Iterable[Attribute] = (), job_attrs: Iterable[Attribute] = (),
          version: tuple[int, int] = (2, 0), request_id: int | None = None) -> Message:
    attrs = [Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
             Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")]
    if uri is not None:
        attrs.append(Attribute.single("printer-uri", Tag.URI, uri))
    if user is not None:
        attrs.append(Attribute.single("requesting-user-name", Tag.NAME, user))
    attrs.extend(op_attrs)
    groups = [Group(Tag.OPERATION_ATTRIBUTES, tuple(attrs))]
    job = tuple(job_attrs)
    if job:
        groups.append(Group(Tag.JOB_ATTRIBUTES, job))
    rid = next(_ids) if request_id is None else request_id
    return Message(version=version, code=int(op), request_id=rid, groups=tuple(groups))


def parse_reply(resp: HttpResponse, request_id: int | None = None) -> Message:
    assert resp.status == 200, f"HTTP {resp.status}: {resp.body[:300]!r}"
    assert resp.content_type == "application/ipp", resp.headers
    msg = decode(resp.body)
    if request_id is not None:
        assert msg.request_id == request_id, (msg.request_id, request_id)
    op = msg.operation
    assert op is not None and len(op.attributes) >= 2, msg
    assert op.attributes[0].name == "attributes-charset", op.attributes[0]
    assert op.attributes[1].name == "attributes-natural-language", op.attributes[1]
    return msg


def send(port: int, msg: Message, document: bytes | Iterable[bytes] = b"",
         path: str = "/ipp/print", chunked: bool = False) -> Message:
    head = encode(msg)
    if isinstance(document, bytes):
        raw: bytes | list[bytes] = post_request(head + document, path, port, chunked=chunked)
    else:
        raw = list(document)
    return parse_reply(http_exchange(port, raw), msg.request_id)


def status_message(msg: Message) -> str:
    a = msg.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    return str(a.value) if a is not None else ""


def expect_ok(msg: Message) -> Message:
    assert msg.code < 0x100, f"{status_name(msg.code)}: {status_message(msg)!r}"
    return msg


def print_job(port: int, uri: str, document: bytes, *, user: str = "alice",
              name: str = "e2e", fmt: str = "application/pdf", path: str = "/ipp/print",
              job_attrs: Sequence[Attribute] = ()) -> int:
    """Print-Job; returns the job-id (asserting successful-ok)."""
    msg = build(Operation.PRINT_JOB, uri, user=user, op_attrs=[
        Attribute.single("job-name", Tag.NAME, name),
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, fmt)], job_attrs=job_attrs)
    reply = expect_ok(send(port, msg, document, path))
    job_id = reply.get(Tag.JOB_ATTRIBUTES, "job-id")
    assert job_id is not None and isinstance(job_id.value, int), reply
    return job_id.value


def job_dicts(msg: Message) -> list[dict[str, Any]]:
    """Each job group as {name: first value} (Get-Jobs, Get-Job-Attributes)."""
    out = []
    for g in msg.groups_of(Tag.JOB_ATTRIBUTES):
        out.append({a.name: (a.plain if len(a.values) > 1 else a.value) for a in g.attributes})
    return out


def get_jobs(port: int, uri: str, which: str = "all", user: str = "alice",
             attrs: Sequence[str] = ("job-id", "job-state", "job-name"),
             path: str = "/ipp/print") -> list[dict[str, Any]]:
    msg = build(Operation.GET_JOBS, uri, user=user, op_attrs=[
        Attribute.single("which-jobs", Tag.KEYWORD, which),
        Attribute.multi("requested-attributes", Tag.KEYWORD, list(attrs))])
    return job_dicts(expect_ok(send(port, msg, path=path)))


def get_printer_attributes(port: int, uri: str, path: str = "/ipp/print",
                           requested: Sequence[str] = ("printer-state",)) -> Message:
    msg = build(Operation.GET_PRINTER_ATTRIBUTES, uri, op_attrs=[
        Attribute.multi("requested-attributes", Tag.KEYWORD, list(requested))])
    return send(port, msg, path=path)
