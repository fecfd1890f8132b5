"""NUL characters and lone surrogates are refused everywhere with a 422 naming the field, on
SQLite and PostgreSQL alike (PostgreSQL cannot store them: these were 500s)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import ApiToken
from tests.factories import make_flag

QUERIES = [
    ("/api/v1/flags", {"department": "\x00"}, "department"),
    ("/api/v1/audit-events", {"entity_id": "\x00"}, "entity_id"),
    ("/api/v1/stats/loop", {"order_code": "x\x00"}, "order_code"),
    ("/api/v1/stats/weekly", {"reporter": "\x00"}, "reporter"),
    ("/api/v1/stats/breakdown", {"by": "reason", "reporter": "\x00"}, "reporter"),
    ("/api/v1/stats/outcomes", {"department": "a\x00b"}, "department"),
    ("/api/v1/exports/flags", {"q": "\x00"}, "q"),
]


@pytest.mark.parametrize(("path", "params", "field"), QUERIES)
async def test_a_nul_in_a_query_parameter_is_refused_naming_it(client, tokens, path, params, field):
    response = await client.get(path, params=params, headers=tokens.header("admin"))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [
        {"field": field, "in": "query", "message": problem["errors"][0]["message"]}
    ]
    assert "NUL" in problem["detail"]


@pytest.mark.parametrize("name", ["Robot\x00", "Robot \ud800"])
async def test_a_token_named_with_nul_or_a_lone_surrogate_is_refused_and_not_written(
    client, tokens, session, name
):
    before = await session.scalar(sa.select(sa.func.count()).select_from(ApiToken))

    response = await client.post(
        "/api/v1/tokens",
        content=_json_with_escapes({"role": "analyst", "name": name}),
        headers={**tokens.header("admin"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["name"]
    after = await session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    assert after == before


async def test_a_nul_in_a_reply_is_refused_and_the_flag_is_unchanged(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    path = f"/api/v1/flags/{flag.id}"
    before = (await client.get(path, headers=tokens.header("lead"))).json()

    response = await client.post(
        f"{path}/replies",
        content=b'{"body": "Thanks \\u0000 for this"}',
        headers={**tokens.header("lead"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body"
    after = (await client.get(path, headers=tokens.header("lead"))).json()
    assert after["timeline"] == before["timeline"]


async def test_a_nul_in_the_path_is_refused(client, tokens):
    response = await client.get("/api/v1/flags/%00", headers=tokens.header("lead"))

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["in"] == "path"


async def test_the_connection_serves_the_next_request_after_a_refusal(client, tokens):
    refused = await client.get("/api/v1/flags", params={"q": "\x00"}, headers=tokens.header("lead"))
    served = await client.get("/api/v1/flags", headers=tokens.header("lead"))

    assert (refused.status_code, served.status_code) == (422, 200)


def _json_with_escapes(document: dict[str, str]) -> bytes:
    """JSON as a client would send it: NUL and surrogates as \\u escapes (json.dumps does so)."""
    import json

    return json.dumps(document).encode()
