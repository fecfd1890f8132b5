"""The quality team reclassifies reason and suspected driver: a new timeline event with the
values before and after, never an overwrite of history, and statistics see the new values."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Tokens
from tests.factories import make_flag

PROBLEM_JSON = "application/problem+json"


async def reclassify(
    client: httpx.AsyncClient,
    tokens: Tokens,
    flag_id: uuid.UUID,
    body: dict[str, Any],
    *,
    if_match: str | None = '"v1"',
    role: str = "analyst",
) -> httpx.Response:
    headers = tokens.header(role)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.post(f"/api/v1/flags/{flag_id}/classification", json=body, headers=headers)


async def test_reclassifying_records_from_and_to_and_keeps_the_reporters_choice(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory, reason="not_indicated", driver="patient_request")

    response = await reclassify(
        client,
        tokens,
        flag.id,
        {"reason": "low_benefit", "driver": "order_set_default", "comment": "Order-set default."},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["reason"], body["driver"]) == ("low_benefit", "order_set_default")
    assert response.headers["etag"] == '"v2"'
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds == ["created", "reclassification"]
    event = body["timeline"][-1]
    assert event["details"] == {
        "reason": {"from": "not_indicated", "to": "low_benefit"},
        "driver": {"from": "patient_request", "to": "order_set_default"},
    }
    assert event["body"] == "Order-set default."
    assert event["visible_to_reporter"] is False

    again = await reclassify(client, tokens, flag.id, {"reason": "not_indicated"}, if_match='"v2"')
    timeline = again.json()["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "reclassification", "reclassification"]
    assert timeline[-1]["details"] == {"reason": {"from": "low_benefit", "to": "not_indicated"}}


async def test_statistics_group_by_the_reclassified_driver(client, tokens, session_factory):
    flag = await make_flag(session_factory, driver="patient_request")
    await reclassify(client, tokens, flag.id, {"driver": "payer_rule"})

    response = await client.get(
        "/api/v1/stats/breakdown", params={"by": "driver"}, headers=tokens.header("analyst")
    )

    assert [row["key"] for row in response.json()["rows"]] == ["payer_rule"]


async def test_the_driver_can_be_cleared(client, tokens, session_factory):
    flag = await make_flag(session_factory, driver="protocol")

    response = await reclassify(client, tokens, flag.id, {"clear_driver": True})

    assert response.json()["driver"] is None
    assert response.json()["timeline"][-1]["details"] == {
        "driver": {"from": "protocol", "to": None}
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": "nonsense"}, {"driver": "protocol", "clear_driver": True}, {"colour": "red"}],
)
async def test_a_bad_reclassification_is_a_422_problem_and_changes_nothing(
    client, tokens, session_factory, body
):
    flag = await make_flag(session_factory)

    response = await reclassify(client, tokens, flag.id, body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))
    assert detail.json()["version"] == 1


async def test_reclassifying_needs_if_match_and_the_current_version(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)

    missing = await reclassify(client, tokens, flag.id, {"reason": "other"}, if_match=None)
    stale = await reclassify(client, tokens, flag.id, {"reason": "other"}, if_match='"v7"')

    assert (missing.status_code, stale.status_code) == (428, 412)
