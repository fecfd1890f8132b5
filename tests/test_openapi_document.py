"""The OpenAPI document tells a client what it needs: every parameter is described, and every
operation that refuses a caller without credentials, or with too small a role, says so (401,
403) with the problem+json schema.

Which operations refuse whom is found by asking the running app, not by reading the code that
writes the document: a route protected some new way that ``app/openapi.py`` does not know
fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_JSON = "application/problem+json"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def concrete(path: str, operation: dict[str, Any]) -> str:
    """The path with each path parameter filled in with a value of its type."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter.get("schema", {})
        value = str(uuid.uuid4()) if schema.get("format") == "uuid" else "1"
        if schema.get("type") == "integer":
            value = "1"
        path = path.replace(f"{{{parameter['name']}}}", value)
    return path


def documents_problem(operation: dict[str, Any], status: int) -> bool:
    response = operation["responses"].get(str(status))
    if response is None:
        return False
    schema = response.get("content", {}).get(PROBLEM_JSON, {}).get("schema", {})
    return bool(schema.get("$ref") == PROBLEM_REF and response.get("description"))


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    loaded: dict[str, Any] = response.json()
    return loaded


async def test_every_parameter_of_every_operation_is_described(document):
    undescribed = [
        f"{method.upper()} {path}: {parameter['in']} {parameter['name']}"
        for method, path, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if not (parameter.get("description") or "").strip()
    ]

    assert undescribed == []


async def test_every_query_parameter_is_described_in_the_list_operations(document):
    # The list endpoints the issue named: flags, statistics, exports and the audit trail.
    for path in ("/api/v1/flags", "/api/v1/stats/breakdown", "/api/v1/audit-events"):
        query = [p for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"]
        assert query, path
        assert all(p.get("description") for p in query), path


async def test_each_operation_that_refuses_a_caller_without_credentials_documents_401(
    client, document
):
    refused: list[str] = []
    undocumented: list[str] = []
    for method, path, operation in operations(document):
        response = await client.request(method.upper(), concrete(path, operation))
        if response.status_code != 401:
            continue
        refused.append(f"{method.upper()} {path}")
        if not documents_problem(operation, 401):
            undocumented.append(f"{method.upper()} {path}")

    assert undocumented == []
    # The quality API and the clinician API are protected: the check above checked them.
    assert "GET /api/v1/flags" in refused
    assert "GET /api/v1/clinician/flags" in refused
    assert "GET /api/v1/audit-events" in refused


async def test_each_operation_that_refuses_the_lead_role_documents_403_naming_the_roles(
    client, tokens, document
):
    refused: list[str] = []
    undocumented: list[str] = []
    for method, path, operation in operations(document):
        response = await client.request(
            method.upper(), concrete(path, operation), headers=tokens.header("lead")
        )
        if response.status_code != 403:
            continue
        refused.append(f"{method.upper()} {path}")
        described = operation["responses"].get("403", {}).get("description", "")
        if not documents_problem(operation, 403) or "admin" not in described:
            undocumented.append(f"{method.upper()} {path}")

    assert undocumented == []
    assert "GET /api/v1/audit-events" in refused
    assert "GET /api/v1/audit-events/export" in refused
    assert "GET /api/v1/tokens" in refused


async def test_every_operation_with_a_security_scheme_documents_401(document):
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if operation.get("security") and not documents_problem(operation, 401)
    ]

    assert missing == []
