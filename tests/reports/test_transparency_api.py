"""The transparency report over HTTP on known data (tests/reports/conftest.py): the
hand-computed numbers, the same numbers as the statistics, the same numbers in JSON, CSV and
PDF, and the examples."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from pypdf import PdfReader

from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.reports import transparency
from app.reports.transparency import Period
from tests.factories import make_staff
from tests.reports.conftest import IN_MARCH, MARCH, Known, add_reply

MARCH_FIRST, MARCH_LAST = date(2026, 3, 1), date(2026, 3, 31)

REPORT = "/api/v1/reports/transparency"
FEWER = {"count": None, "suppressed": True, "suppression": "small_cell"}
HIDDEN = {"count": None, "suppressed": True, "suppression": "complementary"}


def shown(count: int) -> dict[str, Any]:
    return {"count": count, "suppressed": False, "suppression": None}


async def get(client: httpx.AsyncClient, known: Known, who: str, **params: str) -> httpx.Response:
    response = await client.get(REPORT, params={**MARCH, **params}, headers=known.header(who))
    assert response.status_code == 200, response.text
    return response


def rows(table: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        row["label"]: (
            row["flags"]["count"],
            row["estimated_cost"],
            row["caught_before"]["count"],
            row["caught_before_estimated_cost"],
        )
        for row in table
    }


async def test_report_shows_the_hand_computed_numbers_with_small_cells_suppressed(client, known):
    report = (await get(client, known, "main_analyst")).json()

    totals = report["totals"]
    assert report["organization"] == {"code": "main", "name": "Main organization"}
    assert (totals["flags"], totals["answered"], totals["caught_before"]) == (
        shown(29),
        shown(18),
        shown(12),
    )
    assert totals["answered_share"] == round(18 / 29, 4)
    assert (totals["estimated_cost"], totals["caught_before_estimated_cost"]) == (
        "3317.33",
        "2491.68",
    )
    assert report["median_hours_to_first_reply"] == {"hours": 9.5, "suppressed": False}
    assert report["median_hours_to_close"] == {"hours": 156.0, "suppressed": False}
    assert [(a["key"], a["flags"]) for a in totals["actions"]] == [
        ("closed_with_action", shown(12)),
        ("action_under_way", FEWER),
        ("not_low_value", FEWER),
        ("duplicate", FEWER),
        ("in_review", shown(17)),
    ]
    # PSA (3) is a small cell; vitamin D (12), the next smallest, goes with it.
    assert rows(totals["by_service"]) == {
        "MRI lumbar spine": (14, "2906.96", 12, "2491.68"),
        "PSA": (None, None, None, None),
        "Vitamin D": (None, None, None, None),
    }
    assert [row["flags"] for row in totals["by_service"]] == [shown(14), FEWER, HIDDEN]
    assert rows(totals["by_reason"]) == {
        "Not indicated": (15, "2936.56", 12, "2491.68"),
        "Low benefit for this patient": (None, None, None, None),
        "Repeat or duplicate": (None, None, None, None),
    }


async def test_report_agrees_with_the_statistics_on_the_same_data(client, known):
    report = (await get(client, known, "main_analyst")).json()
    headers = known.header("main_analyst")

    async def stat(path: str, **params: str) -> Any:
        response = await client.get(
            f"/api/v1/stats/{path}", params={**IN_MARCH, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    loop, outcomes = await stat("loop"), await stat("outcomes")
    close, cds = await stat("close-times"), await stat("cds")
    by_service, by_reason = (
        await stat("breakdown", by="service"),
        await stat("breakdown", by="reason"),
    )
    totals = report["totals"]
    assert totals["flags"]["count"] == loop["flags"] == by_service["total_count"]
    assert totals["answered"]["count"] == loop["replied"]
    assert report["median_hours_to_first_reply"]["hours"] == loop["median_hours_to_first_reply"]
    assert report["median_hours_to_close"]["hours"] == close["median_hours"]
    assert totals["actions"][0]["flags"]["count"] == outcomes["closed_with_action"]
    assert Decimal(totals["estimated_cost"]) == Decimal(by_service["total_estimated_cost"])
    assert totals["caught_before"]["count"] == sum(rule["catches"] for rule in cds["rules"])
    for ours, theirs in ((totals["by_service"], by_service), (totals["by_reason"], by_reason)):
        stats = {row["label"]: (row["count"], row["estimated_cost"]) for row in theirs["rows"]}
        for row in ours:
            if not row["flags"]["suppressed"]:
                assert (row["flags"]["count"], row["estimated_cost"]) == stats[row["label"]]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _money(value: str) -> str:
    return value if value == "suppressed" else f"${value}"


def expected_pdf_lines(lines: list[dict[str, str]]) -> list[str]:
    """The lines the PDF's tables show for the CSV's numbers (money with a dollar sign)."""
    expected: list[str] = []
    by_row: dict[tuple[str, str], dict[str, str]] = {}
    for line in lines:
        section, item, measure, value = (
            line["section"],
            line["item"],
            line["measure"],
            line["value"],
        )
        if section.endswith(("by service", "by reason")):
            by_row.setdefault((section, item), {})[measure] = value
        elif measure == "share":
            expected.append(f"Share answered {value}")
        elif measure == "usd":
            expected.append(f"{item} {_money(value)}")
        elif measure != "reply":
            expected.append(f"{item} {value}")
    for (_, item), cells in by_row.items():
        expected.append(
            f"{item} {cells['flags']} {_money(cells['estimated_cost'])} "
            f"{cells['caught_before']} {_money(cells['caught_before_estimated_cost'])}"
        )
    return expected


async def test_json_csv_and_pdf_show_the_same_numbers(client, known):
    report = (await get(client, known, "main_analyst")).json()
    csv_response = await get(client, known, "main_analyst", format="csv")
    pdf_response = await get(client, known, "main_analyst", format="pdf")

    lines = list(csv.DictReader(io.StringIO(csv_response.text)))
    value = {(row["section"], row["item"], row["measure"]): row["value"] for row in lines}
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert value[("This report", "Flags received", "flags")] == str(
        report["totals"]["flags"]["count"]
    )
    assert value[("This report", "Estimated cost of the flagged orders", "usd")] == "3317.33"
    assert value[("This report", "Answered (first reply)", "share")] == "62.1%"
    assert value[("This report", "Median hours to close", "hours")] == "156.00"
    assert value[("This report: by service", "PSA", "flags")] == "fewer than 11"
    assert value[("This report: by service", "Vitamin D", "flags")] == "suppressed"
    # main knows its own 3 PSA flags: the system's 12 would give away the practice's 9.
    assert value[("Across the system: by service", "PSA", "flags")] == "fewer than 11"
    for section, totals in (
        ("This report", report["totals"]),
        ("Across the system", report["across_the_system"]),
    ):
        for table in ("by service", "by reason"):
            for row in totals[table.replace(" ", "_")]:
                cell = value[(f"{section}: {table}", row["label"], "flags")]
                words = {"small_cell": "fewer than 11", "complementary": "suppressed"}
                assert cell == words.get(row["flags"]["suppression"], str(row["flags"]["count"]))
    assert pdf_response.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf_response.content)
    ours, across = text.split("\nAcross the system\n")
    for section_text, section in ((ours, "This report"), (across, "Across the system")):
        in_section = [line for line in lines if line["section"].startswith(section)]
        printed = section_text.splitlines()
        for expected in expected_pdf_lines(in_section):
            assert expected in printed, expected


async def test_examples_are_shareable_replies_on_closed_flags_checked_again(
    client, known, session_factory
):
    closed, still_open = known.closed, known.main[10]
    quoted = "We took the lumbar MRI out of the default back pain order set."
    await add_reply(session_factory, closed[0], quoted, shareable=True)
    await add_reply(session_factory, closed[1], "Thank you, we agree.", shareable=False)
    await add_reply(session_factory, still_open, "Under review with radiology.", shareable=True)
    await add_reply(session_factory, closed[2], "Ortega rewrote the order set.", shareable=True)
    await make_staff(session_factory, name="Dr. Q. Ortega")  # joined after the reply passed

    report = (await get(client, known, "main_analyst")).json()
    pdf = pdf_text((await get(client, known, "main_analyst", format="pdf")).content)

    assert report["examples"] == [
        {
            "service": "MRI lumbar spine",
            "reason": "Not indicated",
            "reply": quoted,
            "closed_on": "2026-03-03",
        }
    ]
    assert " ".join(pdf.split()).count(quoted) == 1


async def test_summary_for_the_clinician_view_has_counts_actions_and_examples_but_no_money(
    known, session_factory
):
    await add_reply(session_factory, known.closed[0], "We changed the order set.", shareable=True)
    async with session_factory() as session:
        found = await transparency.summary(
            session, Period(MARCH_FIRST, MARCH_LAST), DEFAULT_ORGANIZATION_ID
        )

    data = found.model_dump(mode="json")
    assert (data["flags"]["count"], data["answered"]["count"], data["caught_before"]["count"]) == (
        29,
        18,
        12,
    )
    assert [a["flags"]["count"] for a in data["actions"]] == [12, None, None, None, 17]
    assert [e["reply"] for e in data["examples"]] == ["We changed the order set."]
    assert "cost" not in str(data)


async def test_period_is_required_and_in_order(client, known):
    headers = known.header("main_analyst")
    swapped = await client.get(
        REPORT, params={"from": "2026-03-31", "to": "2026-03-01"}, headers=headers
    )
    missing = await client.get(REPORT, params={"from": "2026-03-01"}, headers=headers)

    assert swapped.status_code == 422
    assert missing.status_code == 422
