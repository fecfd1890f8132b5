"""An improvement's effect measured from the registry: the flags on its targets in the
before and after windows (the go-live day counts as after), the rate ratio against a hand
computation, the weekly run chart, the rule hits of the CDS service's daily counts, and
"not enough data yet"."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.cds.models import CdsDailyCount
from app.flags.models import Flag
from app.kit.time import utcnow, week_start
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.factories import make_flag
from tests.improvements.conftest import move, propose

LOINC = "http://loinc.org"
VITAMIN_D: dict[str, Any] = {
    "resource_type": "ServiceRequest",
    "fhir_id": "sr-vitd",
    "code": {"system": LOINC, "code": "62292-8", "display": "Vitamin D"},
    "status": "active",
}


async def flag_at(session_factory, moment: datetime, **overrides) -> uuid.UUID:
    """A flag created at ``moment`` (the stored creation time and week)."""
    flag = await make_flag(session_factory, **overrides)
    async with session_factory() as session:
        await session.execute(
            sa.update(Flag)
            .where(col(Flag.id) == flag.id)
            .values(created_at=moment, created_week=week_start(moment))
        )
        await session.commit()
    return flag.id


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


async def live(client, tokens, dyad, go_live: date, **body) -> str:
    created = (await propose(client, tokens, owners=dyad, **body)).json()
    await move(client, tokens, created["id"], to="approved")
    response = await move(
        client, tokens, created["id"], to="live", go_live=go_live.isoformat(), reply="Changed."
    )
    assert response.status_code == 200, response.text
    return str(created["id"])


async def effect_of(client, tokens, improvement_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/improvements/{improvement_id}/effect", headers=tokens.header("lead")
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_the_windows_split_at_go_live_and_the_ratio_matches_a_hand_computation(
    client, tokens, session_factory, dyad
):
    today = utcnow().date()
    go_live = today - timedelta(days=40)
    before_first = go_live - timedelta(days=84)
    # 20 flags before: the first day of the window, 18 in it, and the last second before go-live.
    await flag_at(session_factory, midnight(before_first))
    for n in range(18):
        await flag_at(session_factory, midnight(before_first + timedelta(days=2 + 4 * n)))
    await flag_at(session_factory, midnight(go_live) - timedelta(seconds=1))
    # 12 after: the first second of go-live day counts as after.
    await flag_at(session_factory, midnight(go_live))
    for n in range(11):
        await flag_at(session_factory, midnight(go_live + timedelta(days=1 + 3 * n)))
    # Not counted: the day before the before window, another code, another organization.
    await flag_at(session_factory, midnight(before_first) - timedelta(seconds=1))
    await flag_at(session_factory, midnight(go_live + timedelta(days=2)), order=VITAMIN_D)
    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Practice")
        await session.commit()
    other = await make_flag(session_factory, organization_id=practice.id)
    assert other.organization_id != DEFAULT_ORGANIZATION_ID

    improvement_id = await live(client, tokens, dyad, go_live)
    found = await effect_of(client, tokens, improvement_id)

    assert found["go_live"] == go_live.isoformat()
    assert found["before"] == {
        "from": before_first.isoformat(),
        "to": (go_live - timedelta(days=1)).isoformat(),
        "days": 84,
        "flags": 20,
    }
    assert found["after"] == {
        "from": go_live.isoformat(),
        "to": today.isoformat(),
        "days": 41,
        "flags": 12,
    }
    # By hand: (12 / 41) / (20 / 84) = 1.22927; ln-scale half-width 1.96 * sqrt(1/12 + 1/20).
    ratio = (12 / 41) / (20 / 84)
    half_width = 1.959963984540054 * math.sqrt(1 / 12 + 1 / 20)
    assert found["enough_data"] is True
    assert found["rate_ratio"] == pytest.approx(1.22927, abs=1e-5)
    assert found["rate_ratio"] == pytest.approx(ratio)
    assert found["ci95"] == pytest.approx(
        [ratio * math.exp(-half_width), ratio * math.exp(half_width)]
    )
    assert (found["min_events"], found["min_after_days"]) == (10, 28)
    # 20 flags at $207.64 in 84 days, over a year: 4,152.80 x 365 / 84.
    assert found["annual_cost_at_stake"] == "18044.90"


async def test_the_run_chart_has_every_week_and_the_median_of_the_weeks_before(
    client, tokens, session_factory, dyad
):
    today = utcnow().date()
    go_live = week_start(midnight(today - timedelta(days=30)))  # a Monday: 12 whole weeks before
    monday = go_live - timedelta(days=84)
    weekly_before = [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 5, 8]  # median 2
    for week, count in enumerate(weekly_before):
        for _ in range(count):
            await flag_at(session_factory, midnight(monday + timedelta(weeks=week, days=2)))
    await flag_at(session_factory, midnight(go_live + timedelta(days=1)))
    improvement_id = await live(client, tokens, dyad, go_live)
    found = await effect_of(client, tokens, improvement_id)

    weeks = [date.fromisoformat(point["week"]) for point in found["weekly"]]
    assert weeks[0] == monday
    assert weeks[-1] == week_start(midnight(today))
    assert all(
        later - earlier == timedelta(weeks=1) for earlier, later in itertools.pairwise(weeks)
    )
    counts = [point["flags"] for point in found["weekly"]]
    assert counts[:12] == weekly_before
    assert counts[12] == 1  # go-live week
    assert set(counts[13:]) <= {0}
    assert found["median_before"] == 2.0


async def test_too_few_flags_say_not_enough_data_yet_with_the_counts(
    client, tokens, session_factory, dyad
):
    go_live = utcnow().date() - timedelta(days=60)
    for n in range(9):  # one below the minimum
        await flag_at(session_factory, midnight(go_live - timedelta(days=1 + n)))
    for n in range(15):
        await flag_at(session_factory, midnight(go_live + timedelta(days=n)))
    found = await effect_of(client, tokens, await live(client, tokens, dyad, go_live))
    assert found["enough_data"] is False
    assert found["rate_ratio"] is None
    assert found["ci95"] is None
    assert (found["before"]["flags"], found["after"]["flags"]) == (9, 15)


async def test_a_rule_counts_the_flags_its_code_set_holds_ranges_included(
    client, tokens, session_factory, dyad
):
    go_live = utcnow().date() - timedelta(days=30)
    await flag_at(session_factory, midnight(go_live - timedelta(days=3)))  # CPT 72148
    await flag_at(session_factory, midnight(go_live - timedelta(days=3)), order=VITAMIN_D)
    improvement_id = await live(
        client, tokens, dyad, go_live, targets=[], rules=["low-back-pain-imaging"]
    )
    found = await effect_of(client, tokens, improvement_id)
    assert found["before"]["flags"] == 1  # the lumbar MRI, in the rule's CPT range


async def test_rule_hits_per_thousand_evaluated_orders_come_from_the_daily_counts(
    client, tokens, session_factory, dyad
):
    go_live = utcnow().date() - timedelta(days=35)
    cpt = "http://www.ama-assn.org/go/cpt"
    async with session_factory() as session:
        for day, evaluated, shown in (
            (go_live - timedelta(days=10), 1000, 50),
            (go_live + timedelta(days=3), 800, 20),
        ):
            session.add(
                CdsDailyCount(
                    organization_id=DEFAULT_ORGANIZATION_ID,
                    day=day,
                    service_id="valueloop-order-sign",
                    rule_id="low-back-pain-imaging",
                    order_code_system=cpt,
                    order_code="72148",
                    evaluated=evaluated,
                    shown=shown,
                )
            )
        await session.commit()
    improvement_id = await live(
        client, tokens, dyad, go_live, targets=[], rules=["low-back-pain-imaging"]
    )
    hits = (await effect_of(client, tokens, improvement_id))["rule_hits"]
    assert hits["before"] == {"evaluated": 1000, "hits": 50, "per_1000": 50.0}
    assert hits["after"] == {"evaluated": 800, "hits": 20, "per_1000": 25.0}
    assert hits["rate_ratio"] == pytest.approx((20 / 800) / (50 / 1000))
    assert hits["enough_data"] is True


async def test_without_cds_counts_there_are_no_rule_hits(client, tokens, dyad):
    go_live = utcnow().date() - timedelta(days=5)
    found = await effect_of(client, tokens, await live(client, tokens, dyad, go_live))
    assert found["rule_hits"] is None
    assert found["enough_data"] is False  # under 28 days after go-live


async def test_an_improvement_not_live_has_no_effect_yet(client, tokens):
    created = (await propose(client, tokens)).json()
    response = await client.get(
        f"/api/v1/improvements/{created['id']}/effect", headers=tokens.header("lead")
    )
    assert response.status_code == 409
    assert "not gone live" in response.json()["detail"]
