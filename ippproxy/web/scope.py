"""Which requests are the web side's (the REST API and the admin app) and which are IPP.

``/api``, ``/admin`` and ``/cashier`` (the web cashier) belong to the web side, except a POST of IPP to ``/admin`` (CUPS
tools post their admin operations there; ``server/http.py`` answers it, and its own
authentication applies). The decision uses the path as the router sees it, compared without
regard to case and with doubled slashes folded, so that ``/API/v1`` or ``/Admin`` cannot step outside the web side's
authentication (CVE-2023-27351 class).
"""

from __future__ import annotations

import re

from aiohttp import web

IPP_TYPE = "application/ipp"
WEB_ROOTS = ("/api", "/admin", "/user", "/cashier")  # /user: the user web app (issue 17 §8)


def is_ipp_post(request: web.Request) -> bool:
    return request.method == "POST" and request.content_type == IPP_TYPE


def in_scope(request: web.Request) -> bool:
    path = re.sub("/{2,}", "/", request.path).lower()
    inside = any(path == r or path.startswith(r + "/") for r in WEB_ROOTS)
    if not inside:
        return False
    return not (is_ipp_post(request) and path.rstrip("/") == "/admin")
