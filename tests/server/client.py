"""A small IPP client for the server tests: the project's codec over aiohttp's client."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

import aiohttp
from support.admin import master_authorization

from ippproxy.config import Config
from ippproxy.ipp import Attribute, Group, Message, Status, Tag, decode, encode

_ids = itertools.count(1)


def a(name: str, tag: int, *values: object) -> Attribute:
    return Attribute.multi(name, tag, list(values))  # type: ignore[arg-type]


@dataclass
class Ipp:
    session: aiohttp.ClientSession
    base: str            # http://127.0.0.1:PORT
    authority: str       # 127.0.0.1:PORT
    queue: str = "default"
    user: str = "alice"
    # Sent with every request (an Authorization header, tests/support/admin.py).
    headers: dict[str, str] = field(default_factory=dict)
    # The same server over TLS (https://127.0.0.1:PORT), when the fixture started it.
    tls_base: str = ""
    config: Config | None = None   # the server's, to make credentials in its database

    def with_auth(self, authorization: str) -> Ipp:
        """The same client over TLS, sending these credentials."""
        assert self.tls_base, "the fixture started no TLS site"
        return replace(self, base=self.tls_base, headers={"Authorization": authorization})

    async def admin(self) -> Ipp:
        """The master admin over TLS (its password set in the server's database)."""
        assert self.config is not None
        return self.with_auth(await master_authorization(self.config))

    @property
    def printer_uri(self) -> str:
        return f"ipp://{self.authority}/printers/{self.queue}"

    def request(self, op: int, *attrs: Attribute, job: Sequence[Attribute] = (),
                target: bool = True, user: str | None = None,
                version: tuple[int, int] = (2, 0), groups: Sequence[Group] = ()) -> Message:
        ops = [a("attributes-charset", Tag.CHARSET, "utf-8"),
               a("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")]
        if target:
            ops.append(a("printer-uri", Tag.URI, self.printer_uri))
        ops.append(a("requesting-user-name", Tag.NAME, user or self.user))
        ops.extend(attrs)
        gs = [Group(Tag.OPERATION_ATTRIBUTES, tuple(ops))]
        if job:
            gs.append(Group(Tag.JOB_ATTRIBUTES, tuple(job)))
        gs.extend(groups)
        return Message(version, op, next(_ids), tuple(gs))

    async def post(self, body: bytes | AsyncIterator[bytes], path: str | None = None,
                   headers: dict[str, str] | None = None) -> Message:
        h = {"Content-Type": "application/ipp", **self.headers}
        h.update(headers or {})
        async with self.session.post(self.base + (path or f"/printers/{self.queue}"),
                                     data=body, headers=h, ssl=False) as r:
            assert r.status == 200, await r.text()
            assert r.content_type == "application/ipp"
            return decode(await r.read())

    async def exchange(self, op: int, *attrs: Attribute, user: str | None = None,
                       headers: dict[str, str] | None = None
                       ) -> tuple[int, dict[str, str], Message | None]:
        """HTTP status, headers and the IPP answer (if one came) of one request, whatever
        the HTTP status (401 for an admin operation by nobody proven)."""
        body = encode(self.request(op, *attrs, user=user))
        h = {"Content-Type": "application/ipp", **self.headers, **(headers or {})}
        async with self.session.post(self.base + f"/printers/{self.queue}", data=body,
                                     headers=h, ssl=False) as r:
            data = await r.read()
            reply = decode(data) if r.content_type == "application/ipp" and data else None
            return r.status, dict(r.headers), reply

    async def call(self, op: int, *attrs: Attribute, job: Sequence[Attribute] = (),
                   data: bytes = b"", user: str | None = None, path: str | None = None,
                   groups: Sequence[Group] = ()) -> Message:
        msg = self.request(op, *attrs, job=job, user=user, groups=groups)
        return await self.post(encode(msg) + data, path)


def status(m: Message) -> str:
    return Status.keyword_of(m.code)


def message(m: Message) -> str:
    a = m.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    return str(a.value) if a is not None else ""


def value(m: Message, group: int, name: str) -> object:
    a = m.get(group, name)
    return None if a is None else a.value
