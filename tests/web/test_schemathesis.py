"""schemathesis against the OpenAPI document of ``/api/v1`` and the real server: every
operation, authenticated with a write token on every section; no answer is a 5xx, and every
answer matches the document (status code, content type, schema).

The test is parametrised by operation from the document the code generates (so a new
operation is covered without editing this file); the document the server serves is checked
to be that same document, and each case is sent to the running server.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support.server import IppProxy, tracebacks
from support.webapi import trust

from ippproxy.web.openapi import document
from ippproxy.web.routes import OPERATIONS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
DOCUMENT = document(OPERATIONS)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
LABELS = sorted(f"{method.upper()} {path}" for path, ops in DOCUMENT["paths"].items()
                for method in ops)
EXAMPLES = 15  # per operation and database: the run stays well under a minute


def test_the_server_serves_the_generated_document(base: str) -> None:
    served = requests.get(verify=trust(base), url=base + "/api/v1/openapi.json", timeout=30)
    assert served.status_code == 200 and served.json() == DOCUMENT
    assert DOCUMENT["openapi"].startswith("3.1")


@pytest.mark.parametrize("label", LABELS)
def test_operation_answers_as_documented(label: str, base: str, write_token: str,
                                         proxy: IppProxy) -> None:
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None, label
    headers = {"Authorization": f"Bearer {write_token}"}
    seen: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=30, verify=trust(base))
        seen.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    assert seen, "no case was sent"
    assert tracebacks(proxy.log()) == []
