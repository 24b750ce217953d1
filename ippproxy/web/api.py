"""The REST API's route table: each operation declares its method, path, the section and
access it needs, and its pydantic models; ``add_operations`` registers them with aiohttp and
``openapi.document`` describes the same table, so the two cannot drift.

A registered handler (``_endpoint``) checks the actor's right on the section (the service
checks again), validates the query string and the JSON body against the models (422 with
each failing field's path), calls the operation, and serialises its answer through the
response model (``204`` when it declares none). Lists take ``offset`` and ``limit`` (at most
``MAX_LIMIT``), ``sort`` and ``order``, and answer ``{"items": [...], "total", "offset",
"limit"}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.web.auth import mark_public
from ippproxy.web.identity import actor_of
from ippproxy.web.problem import problem, validation_errors
from ippproxy.web.state import WebServices, services_of

PREFIX = "/api/v1"
MAX_BODY = 64 * 1024
MAX_LIMIT = 500


@dataclass(frozen=True)
class Call:
    """What an operation gets: who asks, the validated inputs, the services."""

    request: web.Request
    actor: Actor | None
    services: WebServices
    path: Mapping[str, str]
    query: Any = None  # an instance of the operation's query model, or None
    body: Any = None   # an instance of its body model, or None

    def who(self) -> Actor:
        assert self.actor is not None, "a non-public operation always has an actor"
        return self.actor


Run = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # below PREFIX, aiohttp syntax: "/jobs/{uuid}"
    run: Run
    summary: str
    tag: str
    section: Section | None = None  # None: any authenticated actor
    access: Access = Access.READ
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    path_params: Mapping[str, str] = field(default_factory=dict)  # name -> description
    more_errors: tuple[int, ...] = ()  # besides the usual ones (e.g. 404, 503 of a service)
    throttled: bool = False  # checks a password under the login rate limit (429)

    @property
    def operation_id(self) -> str:
        return self.run.__name__

    @property
    def errors(self) -> tuple[int, ...]:
        codes = [400, 401, 422]  # a public login answers 401 for a wrong password
        if self.public or self.throttled:
            codes.append(429)  # the login rate limit
        if not self.public:
            codes.append(403)
            if self.path_params or self.method in ("POST", "PUT", "PATCH", "DELETE"):
                codes += [404, 409]
        return tuple(sorted(set(codes) | set(self.more_errors)))


def _query_dict(request: web.Request, model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in request.query:
            continue
        values = request.query.getall(name)
        is_list = get_origin(info.annotation) in (list, tuple) or any(
            get_origin(a) in (list, tuple) for a in get_args(info.annotation))
        out[name] = values if is_list else values[-1]
    unknown = sorted(set(request.query) - set(model.model_fields))
    if unknown:
        raise _Refused(problem(422, "unknown query parameter",
                               errors=[{"field": f"query.{n}", "message": "not a parameter"}
                                       for n in unknown[:20]]))
    return out


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise _Refused(problem(415, "send the body as application/json"))
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _Refused(problem(413, f"a body of at most {MAX_BODY} bytes"))
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise _Refused(problem(413, f"a body of at most {MAX_BODY} bytes"))
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(problem(400, "the body is not JSON")) from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _Refused(problem(422, "the body is not valid",
                               errors=validation_errors(e, "body"))) from None


def _endpoint(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        actor = actor_of(request)
        if not op.public:
            if actor is None:  # the middleware already answered 401; never reached
                return problem(401, "log in or send an API token")
            if op.section is not None and not actor.may(op.section, op.access):
                return problem(403, f"{op.access.name.lower()} access to {op.section} "
                                    "is needed")
        try:
            query = None
            if op.query is None and request.query:
                return problem(422, "this operation takes no query parameters",
                               errors=[{"field": f"query.{n}", "message": "not a parameter"}
                                       for n in sorted(set(request.query))[:20]])
            if op.query is not None:
                try:
                    query = op.query.model_validate(_query_dict(request, op.query))
                except ValidationError as e:
                    return problem(422, "the query is not valid",
                                   errors=validation_errors(e, "query"))
            body = await _body(request, op.body) if op.body is not None else None
        except _Refused as r:
            return r.response
        call = Call(request, actor, services_of(request), dict(request.match_info), query, body)
        result = await op.run(call)
        if op.method != "GET":
            # A change to the catalog is served by this node at once: the client that made
            # it may use it in its next request (a queue it just added).
            await call.services.catalog.refresh()
        if isinstance(result, web.StreamResponse):
            return result
        if op.response is None or result is None:
            return web.Response(status=204)
        model = op.response.model_validate(result)
        return web.Response(status=op.status, text=model.model_dump_json(),
                            content_type="application/json")
    handler.__name__ = op.operation_id
    return mark_public(handler) if op.public else handler


def add_operations(app: web.Application, operations: tuple[Operation, ...]) -> None:
    for op in operations:
        app.router.add_route(op.method, PREFIX + op.path, _endpoint(op))
