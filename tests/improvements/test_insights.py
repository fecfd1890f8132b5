"""Insights on improvement work: those that went live in the period, the flags they resolved,
the yearly cost at stake and each one's measured change (the same as its effect), as JSON and
CSV; an organization's staff count only their own."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx

from app.kit.time import utcnow
from tests.conftest import Tokens
from tests.factories import make_flag
from tests.improvements.test_measurement import flag_at, live, midnight


async def stats(client: httpx.AsyncClient, tokens: Tokens, **params: str) -> httpx.Response:
    response = await client.get(
        "/api/v1/stats/improvements", params=params, headers=tokens.header("lead")
    )
    assert response.status_code == 200, response.text
    return response


async def test_improvements_live_in_the_period_with_their_flags_cost_and_change(
    client, tokens, session_factory, dyad
):
    today = utcnow().date()
    recent_go_live = today - timedelta(days=30)
    for n in range(12):
        await flag_at(session_factory, midnight(recent_go_live - timedelta(days=1 + n)))
    linked = [(await make_flag(session_factory)).id for _ in range(2)]
    recent = await live(
        client, tokens, dyad, recent_go_live, flag_ids=[str(flag) for flag in linked]
    )
    await live(
        client,
        tokens,
        dyad,
        today - timedelta(days=200),
        title="An older change",
        targets=[{"system": "http://loinc.org", "code": "62292-8"}],
    )

    period = {
        "created_from": (today - timedelta(days=60)).isoformat(),
        "created_to": today.isoformat(),
    }
    found = (await stats(client, tokens, **period)).json()
    effect = (
        await client.get(f"/api/v1/improvements/{recent}/effect", headers=tokens.header("lead"))
    ).json()

    assert found["live"] == 1
    assert found["flags_resolved"] == 2
    [row] = found["improvements"]
    assert row["id"] == recent
    assert row["go_live"] == recent_go_live.isoformat()
    assert row["before_flags"] == effect["before"]["flags"] == 12
    assert row["annual_cost_at_stake"] == effect["annual_cost_at_stake"]
    assert found["annual_cost_at_stake"] == effect["annual_cost_at_stake"]
    assert row["rate_ratio"] == effect["rate_ratio"]
    assert row["enough_data"] == effect["enough_data"]

    everything = (await stats(client, tokens)).json()
    assert everything["live"] == 2

    table = (await stats(client, tokens, format="csv", **period)).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["improvement_id"] for r in rows] == [recent]
    assert rows[0]["flags_resolved"] == "2"
