"""Whose numbers a report shows: an organization's staff see their own, and the system's only
as suppressed aggregates (no rows, no ids); another organization's report is empty for them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.reports.conftest import MARCH, add_reply, flag_in
from tests.reports.test_transparency_api import FEWER, HIDDEN, REPORT, get, pdf_text, shown

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EMPTY = {
    "flags": FEWER,
    "answered": FEWER,
    "answered_share": None,
    "caught_before": FEWER,
    "estimated_cost": None,
    "caught_before_estimated_cost": None,
    "actions": [
        {"key": key, "label": label, "flags": FEWER}
        for key, label in [
            ("closed_with_action", "Closed with an action taken"),
            ("action_under_way", "Action under way"),
            ("not_low_value", "Judged not low-value"),
            ("duplicate", "Duplicate of another flag"),
            ("in_review", "Still in review"),
        ]
    ],
    "by_service": [],
    "by_reason": [],
}


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


async def test_shared_totals_give_an_organization_every_organization_as_aggregates_only(
    client, known
):
    response = await client.get(
        "/api/v1/stats/shared", params=MARCH, headers=known.header("practice_analyst")
    )

    shared = response.json()
    assert response.status_code == 200
    assert shared["flags"] == shown(38)  # main's 29 and the practice's 9
    # The practice knows its own 9 PSA flags: the system's 12 would give away main's 3, so PSA
    # is a small cell for this reader (differencing), and Vitamin D is hidden beside it.
    assert {row["label"]: row["flags"] for row in shared["by_service"]} == {
        "MRI lumbar spine": shown(14),
        "PSA": FEWER,
        "Vitamin D": HIDDEN,
    }
    assert [row["caught_before"] for row in shared["by_service"]] == [shown(12), FEWER, FEWER]
    keys = {key for key, _ in walk(shared)}
    assert not keys & {"id", "flag_id", "items", "examples", "patient", "reporter"}
    assert not _UUID.search(response.text)
    assert not any(str(flag.id) in response.text for flag in known.main)


async def test_an_organizations_report_is_its_own_with_the_system_beside_it(client, known):
    report = (await get(client, known, "practice_analyst")).json()

    assert report["organization"] == {"code": "practice", "name": "Riverside Family Practice"}
    assert report["totals"]["flags"] == FEWER  # its 9 flags
    assert [row["flags"] for row in report["totals"]["by_service"]] == [FEWER]
    assert report["median_hours_to_first_reply"] == {"hours": None, "suppressed": False}
    assert report["across_the_system"]["flags"] == shown(38)


async def test_another_organizations_report_shows_nothing_of_it(client, known, session_factory):
    await add_reply(session_factory, known.closed[0], "We changed the order set.", shareable=True)

    theirs = (await get(client, known, "practice_analyst", organization="main")).json()
    csv_text = (
        await get(client, known, "practice_analyst", organization="main", format="csv")
    ).text
    pdf = await get(client, known, "practice_analyst", organization="main", format="pdf")
    for text in (csv_text, pdf_text(pdf.content)):
        ours = text.split("Across the system")[0]
        assert "MRI lumbar spine" not in ours
        assert "changed the order set" not in ours

    assert theirs["totals"] == EMPTY
    assert theirs["examples"] == []
    assert theirs["median_hours_to_close"] == {"hours": None, "suppressed": False}
    assert theirs["across_the_system"]["flags"] == shown(38)


async def test_system_level_staff_see_every_organization_or_the_one_they_name(client, known):
    everyone = (await get(client, known, "system_analyst")).json()
    main = (await get(client, known, "system_analyst", organization="main")).json()

    assert everyone["organization"] is None
    assert everyone["totals"]["flags"] == shown(38)
    assert main["totals"]["flags"] == shown(29)


async def test_an_unknown_organization_code_is_422(client, known):
    response = await client.get(
        REPORT, params={**MARCH, "organization": "nowhere"}, headers=known.header("main_analyst")
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("unknown-organization")


async def test_the_organization_list_is_every_one_for_the_system_and_ones_own_otherwise(
    client, known
):
    def codes(response: Any) -> list[str]:
        assert response.status_code == 200
        return [item["code"] for item in response.json()["items"]]

    url = "/api/v1/organizations"
    system = await client.get(url, headers=known.header("system_analyst"))
    practice = await client.get(url, headers=known.header("practice_analyst"))

    assert codes(system) == ["main", "practice"]
    assert codes(practice) == ["practice"]


async def test_a_cell_of_10_is_suppressed_and_a_cell_of_11_is_shown(
    client, tokens, session_factory
):
    for number in range(11):
        await flag_in(session_factory, "72148", "not_indicated", number)
    for number in range(10):
        await flag_in(session_factory, "82306", "repeat_duplicate", 20 + number)
        await flag_in(session_factory, "84153", "low_benefit", 40 + number)

    response = await client.get(REPORT, params=MARCH, headers=tokens.header("analyst"))

    services = {row["label"]: row for row in response.json()["totals"]["by_service"]}
    assert services["MRI lumbar spine"]["flags"] == shown(11)
    assert services["MRI lumbar spine"]["estimated_cost"] == "2284.04"
    for small in ("Vitamin D", "PSA"):
        assert services[small]["flags"] == FEWER
        assert services[small]["estimated_cost"] is None
