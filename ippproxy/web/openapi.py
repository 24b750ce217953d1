"""The OpenAPI 3.1 document of ``/api/v1``, generated from the route table (``api.Operation``)
and its pydantic models, served at ``/api/v1/openapi.json`` (public: it holds no data).

Query models become ``in: query`` parameters (arrays as repeated ``name=value``, the form
style of OpenAPI 3.1 §4.8.12.4), bodies ``application/json`` request bodies, and every
declared error an ``application/problem+json`` answer (RFC 9457).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ippproxy.web import models as m
from ippproxy.web.api import PREFIX, Operation
from ippproxy.web.auth import COOKIE, mark_public
from ippproxy.web.problem import TITLES

REF = "#/components/schemas/{model}"


def _schemas(ops: tuple[Operation, ...]) -> dict[str, Any]:
    models: list[type[BaseModel]] = [m.Problem]
    for op in ops:
        models += [x for x in (op.body, op.response) if x is not None]
    pairs = [(model, "validation" if issubclass(model, m.Request) else "serialization")
             for model in dict.fromkeys(models)]
    _, top = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    return dict(top.get("$defs", {}))


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "description": text,
               "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
              for name, text in op.path_params.items()]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {"name": name, "in": "query",
                                     "required": name in required, "schema": prop}
            if prop.get("type") == "array":
                param.update(style="form", explode=True)
            params.append(param)
    return params


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": [op.tag], "parameters": _parameters(op)}
    if op.section is not None:
        out["description"] = f"Needs {op.access.name.lower()} access to {op.section}."
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": REF.format(model=op.response.__name__)}}}}
    else:
        responses["204"] = {"description": "Done"}
    codes = list(op.errors) + ([413, 415] if op.body is not None else [])
    for code in codes:
        responses[str(code)] = {"description": TITLES.get(code, "Error"),
                                "content": {"application/problem+json": {
                                    "schema": {"$ref": REF.format(model="Problem")}}}}
    out["responses"] = responses
    out["security"] = [{}] if op.public else [{"bearer": []}, {"session": []}]
    return out


def document(ops: tuple[Operation, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(PREFIX + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ippproxy admin API", "version": "1",
                 "description": "Errors are RFC 9457 problem details. Money is integer "
                                "minor units. Lists take offset and limit (at most 500)."},
        "paths": paths,
        "components": {
            "schemas": _schemas(ops),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token (POST /api/v1/tokens)"},
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                            "description": "a login session; changes need X-CSRF-Token"}}},
    }


def add_openapi(app: web.Application, ops: tuple[Operation, ...]) -> None:
    text = json.dumps(document(ops))

    @mark_public
    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/json")

    app.router.add_get(PREFIX + "/openapi.json", openapi_json)
