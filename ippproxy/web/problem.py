"""RFC 9457 problem details for every error of the web side, and the middleware that makes
sure nothing under ``/api`` or ``/admin`` answers with a traceback.

``problem()`` builds an ``application/problem+json`` answer (type, title, status, detail;
``errors: [{field, message}]`` for validation, the failing field's path in ``field``).
``errors_middleware`` maps the services' errors (``services.errors``), aiohttp's HTTP
exceptions and pydantic's validation errors to problems, and logs anything else before
answering a bare 500 problem (no exception text reaches the client).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ippproxy.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Throttled,
    Unavailable,
)
from ippproxy.web.scope import in_scope

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://ippproxy.invalid/problems/"  # RFC 9457 §3.1.1: a URI naming the kind
TITLES = {400: "Bad request", 401: "Authentication required", 403: "Forbidden",
          404: "Not found", 405: "Method not allowed", 409: "Conflict",
          413: "Request too large", 415: "Unsupported media type",
          422: "Invalid request", 429: "Too many requests", 500: "Internal error",
          503: "Not ready"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, detail: str, *, errors: Sequence[Mapping[str, str]] = (),
            headers: Mapping[str, str] | None = None, kind: str | None = None) -> web.Response:
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {"type": TYPE_BASE + (kind or title.lower().replace(" ", "-")),
                            "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_TYPE,
                        headers=headers)


def validation_errors(e: ValidationError, where: str) -> list[dict[str, str]]:
    out = []
    for err in e.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err.get("loc", ()))
        out.append({"field": f"{where}.{path}" if path else where, "message": err["msg"]})
    return out


def from_service_error(e: ServiceError) -> web.Response:
    if isinstance(e, Invalid):
        return problem(422, e.detail, errors=[{"field": e.field, "message": e.reason}])
    if isinstance(e, NotFound):
        return problem(404, e.detail)
    if isinstance(e, Conflict):
        return problem(409, e.detail)
    if isinstance(e, Forbidden):
        return problem(403, e.detail)
    if isinstance(e, Unavailable):
        return problem(503, e.detail, kind="unavailable")
    if isinstance(e, Throttled):   # RFC 6585 §4
        return problem(429, e.detail, kind="throttled",
                       headers={"Retry-After": str(math.ceil(e.retry_after))})
    return problem(400, e.detail)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not in_scope(request):
        return await handler(request)
    try:
        return await handler(request)
    except ServiceError as e:
        return from_service_error(e)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        headers = {k: v for k, v in e.headers.items() if k in ("Allow", "Retry-After")}
        reason = e.text if e.text and not e.text.startswith(f"{e.status}:") else e.reason
        return problem(e.status, reason or TITLES.get(e.status, "Error"), headers=headers)
    except ValidationError as e:
        return problem(422, "the request is not valid", errors=validation_errors(e, "body"))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.rel_url.path[:200])
        return problem(500, "the server failed to answer this request; it has been logged")
