"""Requests a hostile page or a careless client sends: each gets a clear refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_flag


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/api/v1/catalog"])
async def test_pages_that_name_no_framer_may_not_be_framed(client, tokens, path):
    response = await client.get(path, headers=tokens.header("lead"))

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},  # sandboxed frames and file: pages
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling host is another origin
        {"Origin": "http://valueloop.test", "Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_a_staff_write_from_another_origin_is_refused(
    client, tokens, session_factory, headers
):
    flag = await make_flag(session_factory)

    response = await client.post(
        f"/api/v1/flags/{flag.id}/comments",
        json={"body": "Looks right"},
        headers={**tokens.header("lead"), **headers},
    )

    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:valueloop:problem:cross-site-request"
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    assert [event["kind"] for event in detail.json()["timeline"]] == ["created"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a program with an API token
        {"Origin": "http://valueloop.test", "Sec-Fetch-Site": "same-origin"},  # addressed host
        {"Origin": "http://127.0.0.1:8000"},  # the configured public base URL
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the user
    ],
)
async def test_a_staff_write_from_our_own_origin_or_a_program_is_served(
    client, tokens, session_factory, headers
):
    flag = await make_flag(session_factory)

    response = await client.post(
        f"/api/v1/flags/{flag.id}/comments",
        json={"body": "Looks right"},
        headers={**tokens.header("lead"), **headers},
    )

    assert response.status_code == 201, response.text


async def test_reads_from_another_origin_are_not_refused_here(client, tokens):
    response = await client.get(
        "/api/v1/catalog", headers={**tokens.header("lead"), "Origin": "https://elsewhere.example"}
    )

    assert response.status_code == 200  # no CORS headers: the browser keeps the body from them


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("created_from", "2024-01-01T00:00:00"),
        ("created_from", "2024-01-01T00:00:00Z"),
        ("created_to", "0"),
        ("created_to", "1704067200"),
        ("created_to", "2024-1-1"),
    ],
)
async def test_a_day_filter_takes_a_day_and_nothing_that_looks_like_one(
    client, tokens, param, value
):
    response = await client.get(
        "/api/v1/flags", params={param: value}, headers=tokens.header("lead")
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == param
    assert "YYYY-MM-DD" in response.json()["detail"]


async def test_a_day_filter_takes_a_plain_day(client, tokens):
    response = await client.get(
        "/api/v1/flags",
        params={"created_from": "2024-01-01", "created_to": "2024-01-31"},
        headers=tokens.header("lead"),
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/flags/bulk/owner", "POST"),
        ("GET", "/api/v1/flags/bulk/owner", "POST"),
        ("PUT", "/api/v1/flags/bulk/transitions", "POST"),
        ("DELETE", "/api/v1/flags/bulk/transitions", "POST"),
    ],
)
async def test_an_unknown_method_on_a_bulk_route_is_405(client, tokens, method, path, allowed):
    response = await client.request(method, path, json={}, headers=tokens.header("admin"))

    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("before_id", [str(2**63), "99999999999999999999999"])
async def test_an_audit_page_cursor_past_the_largest_id_is_refused(client, tokens, before_id):
    response = await client.get(
        "/api/v1/audit-events", params={"before_id": before_id}, headers=tokens.header("admin")
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "before_id"


async def test_an_audit_page_cursor_at_the_largest_id_is_served(client, tokens):
    response = await client.get(
        "/api/v1/audit-events", params={"before_id": str(2**63 - 1)}, headers=tokens.header("admin")
    )

    assert response.status_code == 200, response.text


def _a_value(parameter: dict[str, Any], document: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    if "$ref" in schema:  # "#/components/schemas/Name"
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    choices = schema.get("enum") or next(
        (option["enum"] for option in schema.get("anyOf", []) if "enum" in option), None
    )
    assert choices, f"no value to give the required parameter {parameter['name']}"
    return str(choices[0])


async def _date_filtered_reads(client) -> list[tuple[str, str, str, dict[str, str]]]:
    """Every GET that takes a day range: its two parameters and a value for each required one
    (read from the document, so a new one is covered when it is added)."""
    document = (await client.get("/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        names = [p["name"] for p in parameters]
        for low, high in (("created_from", "created_to"), ("date_from", "date_to"), ("from", "to")):
            if low in names and high in names:
                required = {
                    p["name"]: _a_value(p, document)
                    for p in parameters
                    if p.get("required") and p["in"] == "query" and p["name"] not in (low, high)
                }
                found.append((path, low, high, required))
    return found


@pytest.mark.parametrize(
    ("first", "last"),
    [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01"), ("9999-12-01", "9999-12-31")],
)
async def test_the_first_and_last_days_there_are_filter_every_read_without_error(
    client, tokens, session_factory, first, last
):
    await make_flag(session_factory)
    reads = await _date_filtered_reads(client)
    assert len(reads) >= 10, reads  # flags, statistics, exports, the audit trail

    for path, low, high, required in reads:
        response = await client.get(
            path, params={**required, low: first, high: last}, headers=tokens.header("admin")
        )
        assert response.status_code == 200, (path, response.text)
