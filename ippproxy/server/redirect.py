"""Plain HTTP is for IPP only: every other request is redirected to the same URL over HTTPS.

IPP over plain HTTP keeps working for clients that cannot do TLS (RFC 8010 §4.1): a POST of
``application/ipp`` is answered where it arrived, whatever its path (cupsd shares ``/admin``
the same way: CUPS tools POST IPP there, browsers GET the web pages), and so is any POST to a
path that only IPP uses (``/printers/NAME``, ``/ipp/print``, ``/jobs/...``), where a wrong
Content-Type gets the IPP handler's 400 naming it. Anything else (web
pages, the REST API, /metrics, icons) gets ``308 Permanent Redirect`` to ``https://`` on the
same port, which keeps the method and body (RFC 9110 §15.4.9), so no password, cookie or
token is ever asked for over plain HTTP. The local Unix socket (``server.unix_socket``) is
not a network: the kernel carries its bytes between two processes of this machine and
names the peer (SO_PEERCRED), so the web side is served there as it arrives (the desktop
login of ``ippproxy-client``, services/desktop_login.py; cupsd serves its pages on its
domain socket too). The redirect names the request's ``Host`` only when it
is a plausible host[:port] (``uris.authority``), so it cannot be pointed elsewhere.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ippproxy.config import ServerConfig
from ippproxy.server.authn import peer_uid
from ippproxy.server.http import IPP_TYPE, ipp_handler
from ippproxy.server.uris import authority

# IPP paths that the web app shares: a POST there is IPP only with the IPP Content-Type.
SHARED_PATHS = frozenset({"/", "/admin", "/admin/"})


def is_ipp(request: web.Request) -> bool:
    if request.method != "POST":
        return False
    if request.content_type == IPP_TYPE:
        return True
    return request.match_info.route.handler is ipp_handler and request.path not in SHARED_PATHS


def https_location(request: web.Request, server: ServerConfig) -> str:
    """The request's URL over HTTPS on the same host and port."""
    host = authority("", request.headers.get("Host"), server.listen, server.port)
    path = request.rel_url.raw_path_qs if request.rel_url.raw_path.startswith("/") else "/"
    return f"https://{host}{path}"


def https_redirect(server: ServerConfig) -> Middleware:
    """The middleware: outermost, before authentication sees a plain HTTP request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.secure or is_ipp(request) or peer_uid(request) is not None:
            return await handler(request)
        raise web.HTTPPermanentRedirect(https_location(request, server))

    return middleware
