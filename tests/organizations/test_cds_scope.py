"""CDS cards and daily counts belong to the organization of the CDS client that called: each
organization's staff see their own in Insights' "Caught at ordering", system-level staff all."""

from __future__ import annotations

from typing import Any

from tests.insights.test_cds_stats import BACK_PAIN, MARCH_2, card, daily, said
from tests.organizations.conftest import TwoOrganizations

MARCH = {"created_from": "2026-03-01", "created_to": "2026-03-31"}


async def test_each_organization_sees_its_own_cds_counts_and_overrides(
    client, session_factory, two_organizations: TwoOrganizations
):
    orgs = two_organizations
    hospital_card = card(BACK_PAIN, MARCH_2)
    practice_card = card(BACK_PAIN, MARCH_2)
    practice_card.organization_id = orgs.practice_id
    practice_count = daily(MARCH_2.date(), BACK_PAIN, "72148", evaluated=5, shown=4, overridden=1)
    practice_count.organization_id = orgs.practice_id
    async with session_factory() as session:
        session.add_all(
            [
                daily(MARCH_2.date(), BACK_PAIN, "72148", evaluated=3, shown=2, overridden=1),
                practice_count,
                hospital_card,
                practice_card,
            ]
        )
        await session.flush()
        session.add_all(
            [
                said(hospital_card, "overridden", ("protocol", "Follows a local protocol")),
                said(practice_card, "overridden", ("shared-decision", "Shared decision")),
            ]
        )
        await session.commit()

    def rule_of(body: dict[str, Any]) -> dict[str, Any]:
        [rule] = [row for row in body["rules"] if row["rule_id"] == BACK_PAIN]
        return dict(rule)

    hospital = (
        await client.get("/api/v1/stats/cds", params=MARCH, headers=orgs.header("a_analyst"))
    ).json()
    practice = (
        await client.get("/api/v1/stats/cds", params=MARCH, headers=orgs.header("b_analyst"))
    ).json()
    system = (
        await client.get("/api/v1/stats/cds", params=MARCH, headers=orgs.header("system_analyst"))
    ).json()
    daily_practice = (
        await client.get("/api/v1/stats/cds/daily", params=MARCH, headers=orgs.header("b_analyst"))
    ).json()

    assert (rule_of(hospital)["evaluated"], rule_of(hospital)["shown"]) == (3, 2)
    assert (rule_of(practice)["evaluated"], rule_of(practice)["shown"]) == (5, 4)
    assert (rule_of(system)["evaluated"], rule_of(system)["shown"]) == (8, 6)
    assert "protocol" in str(rule_of(hospital))
    assert "shared-decision" not in str(rule_of(hospital))
    assert "shared-decision" in str(rule_of(practice))
    assert "protocol" not in str(rule_of(practice))
    assert sum(day["evaluated"] for day in daily_practice["days"]) == 5
