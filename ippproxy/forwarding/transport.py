"""One IPP exchange over HTTP with aiohttp's client: request (+ streamed document) -> response.

The request body is an async generator: the encoded IPP message, then the
document file read in 256 KiB blocks in a thread, so a document is never whole
in memory. aiohttp sends an async-iterable body chunked; with ``chunked=False``
we compute and set Content-Length ourselves (printers that cannot take chunked
bodies). ``Expect: 100-continue`` is never sent: a printer that never answers
100 would stall the upload (apple/cups #716, #5801).

Connection-level failures become :class:`DestinationUnavailable`;
``maybe_delivered`` is set when the failure came after the request body was
handed to the socket (for example the printer closed the connection instead
of answering), because the printer may then have the job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

from ippproxy.ipp import DecodeError, Decoder, Limits, Message, encode

from .errors import DestinationRejected, DestinationUnavailable
from .source import Document, as_document

MAX_RESPONSE = 1 << 20  # attribute section of a response (Get-Jobs of many jobs fits)


def http_url(uri: str) -> str:
    """``ipp://h[:p]/path`` -> ``http://h:p/path`` (631 default); ``ipps`` -> ``https``."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise ValueError(f"not an IPP URI: {uri!r}")
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        return uri
    if scheme not in ("ipp", "ipps"):
        raise ValueError(f"unsupported URI scheme {scheme!r}")
    hostport, slash, path = rest.partition("/")
    if not hostport.endswith("]") and ":" not in hostport.rsplit("]", 1)[-1]:
        hostport += ":631"
    return f"{'https' if scheme == 'ipps' else 'http'}://{hostport}{slash}{path}"


class Exchange:
    """Posts IPP requests to one URL on a shared ``ClientSession``."""

    def __init__(self, url: str, session: aiohttp.ClientSession, *, connect_timeout: float,
                 read_timeout: float, chunked: bool = True) -> None:
        self.url = url
        self.session = session
        self.chunked = chunked
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout,
                                             sock_read=read_timeout)

    async def send(self, request: Message, document: Document | None = None) -> Message:
        header = encode(request)
        sent = False

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            yield header
            if document is not None:
                async for block in document.chunks():
                    yield block
            sent = True

        headers = {"Content-Type": "application/ipp", "Accept": "application/ipp"}
        data: bytes | AsyncIterator[bytes]
        if document is None:
            data, sent = header, True
        else:
            data = body()
            if not self.chunked:
                size = await document.size()
                headers["Content-Length"] = str(len(header) + size)
        try:
            async with self.session.post(self.url, data=data, headers=headers,
                                         timeout=self.timeout, expect100=False,
                                         allow_redirects=False) as resp:
                if resp.status != 200:
                    text = f"HTTP {resp.status} {resp.reason or ''}".strip()
                    if resp.status >= 500 or resp.status in (408, 429):
                        raise DestinationUnavailable(text, maybe_delivered=sent)
                    raise DestinationRejected(text)
                return await self._read(resp)
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            raise DestinationUnavailable(f"cannot connect: {exc.strerror or exc}") from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            what = type(exc).__name__
            raise DestinationUnavailable(f"connection failed ({what})",
                                         maybe_delivered=sent) from None

    async def _read(self, resp: aiohttp.ClientResponse) -> Message:
        decoder = Decoder(Limits(max_section=MAX_RESPONSE, strict_utf8=False))
        try:
            async for chunk in resp.content.iter_any():
                if (msg := decoder.feed(chunk)) is not None:
                    return msg
            return decoder.close()
        except DecodeError as exc:
            raise DestinationUnavailable(f"bad IPP response: {exc.reason}",
                                         maybe_delivered=True) from None


def single_document(documents: Sequence[Path | Document]) -> Document:
    if len(documents) != 1:
        raise DestinationRejected("Print-Job carries exactly one document")
    return as_document(documents[0])
