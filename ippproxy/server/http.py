"""The aiohttp side: routes, Expect: 100-continue, streaming request bodies.

Theory of operation. Every IPP route shares one handler. The body is read with
``request.content`` (chunked and Content-Length alike) and fed to the codec's incremental
``Decoder`` chunk by chunk until the attribute section is complete (never
``request.read()``); a header deadline bounds that phase. What follows end-of-attributes
is handed to the operation as an async iterator (``decoder.rest`` first), so a document
streams straight into the spool with flow control. The operation may answer without
reading the document (an early error); aiohttp then discards the rest of the body.

IPP errors are HTTP 200 with an IPP status (RFC 8010 §3.4.3 / RFC 8011); HTTP 4xx is only
for broken HTTP (wrong Content-Type, empty body, slow client). The custom
``expect_handler`` rejects a wrong Content-Type before the client sends its body and
otherwise answers ``100 Continue`` (RFC 9110 §10.1.1).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from ippproxy.ipp import DecodeError, Decoder, Limits, Status, encode, make_response
from ippproxy.server import authn, clientlog, dispatch
from ippproxy.server.context import ServerContext
from ippproxy.server.errors import ClientGone
from ippproxy.server.uris import Origin, Target, authority, parse_path

log = logging.getLogger(__name__)


class ServerState:
    """Holder for the context, filled when the app starts (the DB opens asynchronously)."""

    def __init__(self, ctx: ServerContext | None = None) -> None:
        self.ctx = ctx

    def get(self) -> ServerContext:
        if self.ctx is None:
            raise RuntimeError("server not started")
        return self.ctx


CTX: web.AppKey[ServerState] = web.AppKey("ippproxy.server", ServerState)
IPP_TYPE = "application/ipp"
CHUNK = 256 * 1024
# Longest silence while a document streams in (a stalled client frees its connection).
DOCUMENT_IDLE_TIMEOUT = 300.0
IPP_PATHS = ("/", "/admin", "/admin/", "/ipp/print", "/ipp/print/{job}",
             "/printers/{name}", "/jobs/{name}/{job}", "/printers/{name}/u/{secret}",
             # cupsd's resources, which the CUPS tools post to (server/cupsnames.py)
             "/jobs", "/jobs/", "/jobs/{job}", "/printers", "/printers/")


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    expect = request.headers.get("Expect", "")
    if expect.lower() != "100-continue":
        return web.Response(status=417, text=f"unsupported Expect: {expect[:64]}\n")
    if request.content_type != IPP_TYPE:
        return web.Response(status=400, text="Content-Type must be application/ipp\n")
    state = request.app[CTX].ctx
    if state is not None:
        checked = await authn.authenticate(state, request, None)
        if isinstance(checked, web.StreamResponse):
            return checked
    if request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    return None


async def _cut_off(request: web.Request) -> web.StreamResponse:
    """A client too slow to send its attribute section: answer 408 and close at once
    (aiohttp would otherwise linger reading the rest of the body, RFC 9110 §15.5.9)."""
    resp = web.Response(status=408, text="IPP request header not received in time\n")
    resp.force_close()
    await resp.prepare(request)
    await resp.write_eof()
    if request.transport is not None:
        request.transport.close()
    return resp


def _bad_body(request: web.Request, e: Exception) -> web.Response:
    """A request body that broke off or does not decode: 400, and the connection closed (the
    rest of the body cannot be read past). One log line, no traceback: a client's mistake."""
    clientlog.mistake(log, "%s %s: request body broke off or undecodable (%s); nothing stored",
                      request.remote, request.path, type(e).__name__)
    resp = web.Response(status=400, text="incomplete or undecodable request body\n")
    resp.force_close()
    return resp


def _ipp_reply(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=IPP_TYPE)


def _error_answer(decoder: Decoder, status: int, message: str) -> web.Response:
    """An IPP error answer outside dispatch (the request was not decoded, or failed): it echoes
    the version and request-id of the 8-byte header whenever that arrived, as the decoder read
    them (RFC 8010 §3.1.1, RFC 8011 §4.1.1)."""
    version, _code, request_id = decoder.header or ((1, 1), 0, 0)
    return _ipp_reply(encode(make_response(version, request_id, status, message)))


async def _document(first: bytes, request: web.Request) -> AsyncIterator[bytes]:
    if first:
        yield first
    while True:
        if request.content.at_eof():
            return          # a small document came with the header: no timer needed
        try:
            async with asyncio.timeout(DOCUMENT_IDLE_TIMEOUT):
                chunk = await request.content.read(CHUNK)
        except (ConnectionError, HttpProcessingError, RequestPayloadError, TimeoutError) as e:
            raise ClientGone(f"{type(e).__name__}: {e}") from None
        if not chunk:
            return
        yield chunk


async def ipp_handler(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX].get()
    server = ctx.config.server
    if request.content_type != IPP_TYPE:
        return web.Response(status=400, text="Content-Type must be application/ipp\n")
    decoder = Decoder(Limits(max_section=server.max_attributes_bytes))
    msg = None
    try:
        try:
            # What has already arrived is decoded without a timer (usually all of it).
            buffered = request.content.read_nowait()
            if buffered:
                msg = decoder.feed(buffered)
            if msg is None:
                async with asyncio.timeout(server.header_timeout or None):
                    async for chunk in request.content.iter_any():
                        msg = decoder.feed(chunk)
                        if msg is not None:
                            break
        except TimeoutError:
            return await _cut_off(request)
        except DecodeError as e:
            return _error_answer(decoder, e.status, f"{e.reason} (at byte {e.offset})")
        except (RequestPayloadError, HttpProcessingError) as e:
            # a body that does not decode as its Content-Encoding says (RFC 9110 §8.4)
            return _bad_body(request, e)
        if msg is None:
            if not decoder.received:
                return web.Response(status=400, text="empty request body\n")
            return _error_answer(decoder, Status.CLIENT_ERROR_BAD_REQUEST, "truncated IPP message")
        path_target: Target | None = parse_path(request.path, ctx.default_queue)
        origin = Origin(authority(server.hostname, request.headers.get("Host"),
                                  server.listen, server.port), secure=request.secure,
                        peer=request.remote or "")
        user = await authn.authenticate(ctx, request, msg)
        if isinstance(user, web.StreamResponse):
            return user
        reply = await dispatch.handle(ctx, msg, origin, path_target,
                                      _document(decoder.rest, request), user=user)
        return authn.answer(encode(reply), reply.code)
    except ClientGone as e:
        return _bad_body(request, e)
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("internal error on %s", request.path)
        return _error_answer(decoder, Status.SERVER_ERROR_INTERNAL_ERROR,
                          "internal error; the server log has details")


def add_routes(app: web.Application) -> None:
    clientlog.install()
    for path in IPP_PATHS:
        app.router.add_post(path, ipp_handler, expect_handler=expect_handler)
