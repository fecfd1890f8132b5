"""The dashboard's statistics over HTTP: outcomes, reply times, and the CSV and SVG forms of
every statistic, checked against the JSON form of the same request.

Times are set in the database after the flags are made, so every band and median is known;
each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.flags import review
from app.flags.models import Flag
from app.flags.schemas import TransitionIn
from app.kit.time import week_start
from tests.conftest import Tokens
from tests.factories import make_flag, sid

PROBLEM_JSON = "application/problem+json"
SVG = "{http://www.w3.org/2000/svg}"
CPT = "http://www.ama-assn.org/go/cpt"
ANALYST = review.Actor(name="A. Rivera", role="analyst")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 2026-03-02 is a Monday
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.usefixtures("known_staff")


# --- helpers -----------------------------------------------------------------------------------


def order(code: str, display: str) -> dict[str, Any]:
    return {
        "resource_type": "ServiceRequest",
        "fhir_id": f"sr-{code}",
        "code": {"system": CPT, "code": code, "display": display},
        "status": "active",
    }


def encounter(department: str) -> dict[str, Any]:
    return {"fhir_id": "enc-1", "class_code": "AMB", "department": department}


def cost(amount: str) -> dict[str, Any]:
    return {"amount": amount, "source": "Medicare national reference price", "year": 2025}


# The moves that bring a new flag to each status (duplicate is done apart: it needs an original).
ROUTES: dict[str, list[dict[str, Any]]] = {
    "submitted": [],
    "triaged": [{"to": "triaged"}],
    "accepted": [{"to": "triaged"}, {"to": "accepted", "owner": {"lead": sid("Dr. E. Nwosu")}}],
    "needs_info": [{"to": "triaged"}, {"to": "needs_info", "reply": "Which guideline?"}],
    "not_low_value": [{"to": "triaged"}, {"to": "not_low_value", "reply": "Indicated here."}],
    "closed": [
        {"to": "triaged"},
        {"to": "accepted", "owner": {"lead": sid("Dr. E. Nwosu")}},
        {"to": "action_taken"},
        {"to": "closed", "reply": "Removed from the order set."},
    ],
}


async def move(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, **change: Any
) -> None:
    async with factory() as session:
        await review.transition(
            session, flag_id, TransitionIn.model_validate(change), actor=ANALYST, if_match=None
        )
        await session.commit()


async def flag_in(factory: async_sessionmaker[AsyncSession], status: str, **overrides: Any) -> Flag:
    flag = await make_flag(factory, **overrides)
    for change in ROUTES[status]:
        await move(factory, flag.id, **change)
    return flag


async def duplicate_of(
    factory: async_sessionmaker[AsyncSession], original: Flag, **overrides: Any
) -> Flag:
    flag = await flag_in(factory, "triaged", **overrides)
    await move(factory, flag.id, to="duplicate", reply="Seen.", duplicate_of=str(original.id))
    return flag


async def set_times(
    factory: async_sessionmaker[AsyncSession],
    flag_id: uuid.UUID,
    created_at: datetime,
    *,
    replied_after: timedelta | None = None,
) -> None:
    """Put the flag at ``created_at``, first answered after ``replied_after`` (or not at all)."""
    first_reply_at = None if replied_after is None else created_at + replied_after
    async with factory() as session:
        await session.execute(
            sa.update(Flag)
            .where(col(Flag.id) == flag_id)
            .values(
                created_at=created_at,
                created_week=week_start(created_at),
                updated_at=created_at,
                first_reply_at=first_reply_at,
                reply_wait_seconds=(
                    None if replied_after is None else replied_after.total_seconds()
                ),
            )
        )
        await session.commit()


async def stat(
    client: httpx.AsyncClient, tokens: Tokens, name: str, **params: Any
) -> httpx.Response:
    return await client.get(f"/api/v1/stats/{name}", params=params, headers=tokens.header("lead"))


async def stat_json(
    client: httpx.AsyncClient, tokens: Tokens, name: str, **params: Any
) -> dict[str, Any]:
    response = await stat(client, tokens, name, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def by_status(body: dict[str, Any]) -> dict[str, int]:
    return {row["status"]: row["count"] for row in body["by_status"]}


# --- outcomes ----------------------------------------------------------------------------------


async def test_outcomes_count_every_status_and_the_share_of_ended_reviews_closed_with_action(
    client, tokens, session_factory
):
    statuses = ["submitted", "submitted", "triaged", "needs_info", "closed", "closed"]
    flags = [await flag_in(session_factory, status) for status in statuses]
    await flag_in(session_factory, "not_low_value")
    await duplicate_of(session_factory, flags[0])

    body = await stat_json(client, tokens, "outcomes")

    assert [(row["status"], row["label"], row["count"]) for row in body["by_status"]] == [
        ("submitted", "New", 2),
        ("triaged", "Triaged", 1),
        ("accepted", "Accepted", 0),
        ("action_taken", "Action taken", 0),
        ("closed", "Closed", 2),
        ("needs_info", "Needs info", 1),
        ("not_low_value", "Not low-value", 1),
        ("duplicate", "Duplicate", 1),
    ]
    # Ended: 2 closed + 1 not low-value + 1 duplicate; closed with an action: the 2 closed.
    assert (body["ended"], body["closed_with_action"]) == (4, 2)
    assert body["closed_with_action_share"] == 0.5


async def test_outcomes_share_is_null_while_no_review_has_ended(client, tokens, session_factory):
    for status in ("submitted", "accepted", "needs_info"):
        await flag_in(session_factory, status)

    body = await stat_json(client, tokens, "outcomes")

    assert (body["ended"], body["closed_with_action"]) == (0, 0)
    assert body["closed_with_action_share"] is None
    assert sum(by_status(body).values()) == 3


async def test_outcomes_of_an_empty_registry_are_zero_with_a_null_share(client, tokens):
    body = await stat_json(client, tokens, "outcomes")

    assert set(by_status(body).values()) == {0}
    assert (body["ended"], body["closed_with_action"], body["closed_with_action_share"]) == (
        0,
        0,
        None,
    )


async def test_outcomes_follow_the_filters(client, tokens, session_factory):
    await flag_in(session_factory, "closed", reason="low_benefit")
    await flag_in(session_factory, "not_low_value", reason="low_benefit")
    await flag_in(session_factory, "submitted", reason="low_benefit")
    for status in ("closed", "closed", "not_low_value"):
        await flag_in(session_factory, status, reason="not_indicated")

    body = await stat_json(client, tokens, "outcomes", reason="low_benefit")

    counts = by_status(body)
    assert (counts["closed"], counts["not_low_value"], counts["submitted"]) == (1, 1, 1)
    assert sum(counts.values()) == 3
    assert (body["ended"], body["closed_with_action"]) == (2, 1)
    assert body["closed_with_action_share"] == 0.5


# --- reply times -------------------------------------------------------------------------------

# One flag per delay; the band each falls in (bands include their lower bound).
REPLY_DELAYS: list[tuple[timedelta | None, str]] = [
    (23 * HOUR + timedelta(minutes=59), "within_1d"),
    (1 * DAY, "1d_to_3d"),
    (50 * HOUR, "1d_to_3d"),
    (3 * DAY, "3d_to_7d"),
    (6 * DAY, "3d_to_7d"),
    (10 * DAY, "7d_to_14d"),
    (14 * DAY, "over_14d"),
    (30 * DAY, "over_14d"),
    (None, "unanswered"),
    (None, "unanswered"),
]


async def flags_with_reply_delays(factory: async_sessionmaker[AsyncSession]) -> list[Flag]:
    flags = []
    for delay, _band in REPLY_DELAYS:
        flag = await make_flag(factory)
        await set_times(factory, flag.id, MONDAY, replied_after=delay)
        flags.append(flag)
    return flags


async def test_reply_times_count_each_band_the_unanswered_and_the_median(
    client, tokens, session_factory
):
    await flags_with_reply_delays(session_factory)

    body = await stat_json(client, tokens, "reply-times")

    assert [(b["key"], b["label"], b["count"]) for b in body["buckets"]] == [
        ("within_1d", "Within a day", 1),
        ("1d_to_3d", "1 to 3 days", 2),
        ("3d_to_7d", "3 to 7 days", 2),
        ("7d_to_14d", "7 to 14 days", 1),
        ("over_14d", "Over 14 days", 2),
        ("unanswered", "Not answered yet", 2),
    ]
    # Eight replies: 23.98, 24, 50, 72, 144, 240, 336 and 720 hours; the middle two: 72 and 144.
    assert body["median_hours"] == 108.0


async def test_reply_times_follow_the_filters(client, tokens, session_factory):
    await flags_with_reply_delays(session_factory)
    nurse = await make_flag(session_factory, reporter={"fhir_user": "p/2", "role": "nurse"})
    await set_times(session_factory, nurse.id, MONDAY, replied_after=2 * HOUR)

    answered = await stat_json(client, tokens, "reply-times", answered="true")
    nurses = await stat_json(client, tokens, "reply-times", reporter_role="nurse")

    answered_counts = {b["key"]: b["count"] for b in answered["buckets"]}
    assert answered_counts["unanswered"] == 0
    assert sum(answered_counts.values()) == 9  # eight of the ten, and the nurse's
    assert {b["key"]: b["count"] for b in nurses["buckets"] if b["count"]} == {"within_1d": 1}
    assert nurses["median_hours"] == 2.0


async def test_reply_times_without_any_reply_have_no_median(client, tokens, session_factory):
    for _ in range(2):
        await make_flag(session_factory)

    body = await stat_json(client, tokens, "reply-times")

    assert {b["key"]: b["count"] for b in body["buckets"] if b["count"]} == {"unanswered": 2}
    assert body["median_hours"] is None


# --- CSV ---------------------------------------------------------------------------------------


async def varied_flags(factory: async_sessionmaker[AsyncSession]) -> None:
    """Three services, three departments, three weeks, some answered, some ended."""
    mri = order("72148", "MRI lumbar spine without contrast")
    ct = order("70450", "CT head without contrast")
    vitamin_d = order("82306", "Vitamin D, 25-hydroxy level")
    arranged: list[tuple[str, dict[str, Any], str, int, timedelta | None]] = [
        ("submitted", mri, "207.64", 0, 2 * HOUR),
        ("closed", mri, "207.64", 0, 30 * HOUR),
        ("submitted", mri, "207.64", 2, None),
        ("not_low_value", ct, "1000.00", 2, 5 * DAY),
        ("submitted", vitamin_d, "29.60", 2, None),
        ("triaged", vitamin_d, "29.60", 0, 20 * DAY),
    ]
    for i, (status, service_order, amount, weeks_later, delay) in enumerate(arranged):
        flag = await flag_in(
            factory,
            status,
            order=service_order,
            estimated_cost=cost(amount),
            encounter=encounter(["Emergency Department", "Neurology", "Radiology"][i % 3]),
        )
        await set_times(
            factory, flag.id, MONDAY + timedelta(weeks=weeks_later), replied_after=delay
        )


def parse_csv(response: httpx.Response, name: str) -> tuple[list[str], list[list[str]]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    day = r"\d{4}-\d\d-\d\d"
    assert re.fullmatch(
        rf'attachment; filename="valueloop-{name}-(start|{day})-to-{day}\.csv"', disposition
    )
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    return header, rows


def breakdown_json_rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["key"], r["label"], r["count"], r["share"], r["cumulative_share"], r["estimated_cost"])
        for r in body["rows"]
    ]


def breakdown_csv_rows(rows: list[list[str]]) -> list[tuple[Any, ...]]:
    return [
        (key or None, label, int(count), float(share), float(running), amount)
        for key, label, count, share, running, amount in rows
    ]


CSV_CASES = [
    pytest.param(
        "breakdown",
        {"by": "service", "sort": "cost"},
        "breakdown-by-service",
        ["key", "label", "flags", "share", "cumulative_share", "estimated_cost_usd"],
        breakdown_json_rows,
        breakdown_csv_rows,
        3,
        id="breakdown-by-service-cost",
    ),
    pytest.param(
        "breakdown",
        {"by": "department"},
        "breakdown-by-department",
        ["key", "label", "flags", "share", "cumulative_share", "estimated_cost_usd"],
        breakdown_json_rows,
        breakdown_csv_rows,
        3,
        id="breakdown-by-department",
    ),
    pytest.param(
        "weekly",
        {},
        "weekly",
        ["week_start", "flags", "estimated_cost_usd"],
        lambda body: [(w["week_start"], w["count"], w["estimated_cost"]) for w in body["weeks"]],
        lambda rows: [(week, int(count), amount) for week, count, amount in rows],
        3,
        id="weekly",
    ),
    pytest.param(
        "reply-times",
        {},
        "reply-times",
        ["key", "label", "flags"],
        lambda body: [(b["key"], b["label"], b["count"]) for b in body["buckets"]],
        lambda rows: [(key, label, int(count)) for key, label, count in rows],
        6,
        id="reply-times",
    ),
    pytest.param(
        "outcomes",
        {},
        "outcomes",
        ["status", "label", "flags"],
        lambda body: [(s["status"], s["label"], s["count"]) for s in body["by_status"]],
        lambda rows: [(status, label, int(count)) for status, label, count in rows],
        8,
        id="outcomes",
    ),
]


@pytest.mark.parametrize(
    ("name", "params", "filename", "header", "from_json", "from_csv", "row_count"), CSV_CASES
)
async def test_csv_is_an_attachment_with_a_header_and_the_json_numbers(
    client, tokens, session_factory, name, params, filename, header, from_json, from_csv, row_count
):
    await varied_flags(session_factory)

    body = await stat_json(client, tokens, name, **params)
    got_header, rows = parse_csv(await stat(client, tokens, name, format="csv", **params), filename)

    assert got_header == header
    expected = from_json(body)
    assert len(expected) == row_count
    assert from_csv(rows) == expected


async def test_csv_follows_the_filters_like_the_json(client, tokens, session_factory):
    await varied_flags(session_factory)
    params = {"by": "service", "created_from": "2026-03-16", "status": "submitted"}

    body = await stat_json(client, tokens, "breakdown", **params)
    _, rows = parse_csv(
        await stat(client, tokens, "breakdown", format="csv", **params), "breakdown-by-service"
    )

    assert body["total_count"] == 2
    assert breakdown_csv_rows(rows) == breakdown_json_rows(body)


HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,1)", "-2+3", "@SUM(A1:A9)"]


async def test_csv_neutralises_formulas_in_department_names(client, tokens, session_factory):
    for department in HOSTILE:
        await make_flag(session_factory, encounter=encounter(department))

    _, rows = parse_csv(
        await stat(client, tokens, "breakdown", by="department", format="csv"),
        "breakdown-by-department",
    )

    assert sorted((key, label) for key, label, *_ in rows) == sorted(
        ("'" + name, "'" + name) for name in HOSTILE
    )


async def test_csv_neutralises_formulas_in_order_names(client, tokens, session_factory):
    await make_flag(session_factory, order=order("72148", '=HYPERLINK("http://x.test")'))

    _, rows = parse_csv(
        await stat(client, tokens, "breakdown", by="service", format="csv"),
        "breakdown-by-service",
    )

    assert [row[1] for row in rows] == ['\'=HYPERLINK("http://x.test")']


# --- SVG ---------------------------------------------------------------------------------------


def parse_svg(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.text)  # noqa: S314 - our own API's output, in a test
    assert root.tag == f"{SVG}svg"
    # The page's Content-Security-Policy forbids inline styles and scripts.
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag not in {f"{SVG}style", f"{SVG}script"}
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]


def cumulative_points(root: ET.Element) -> list[float]:
    return [
        float(e.get("data-share", "nan"))
        for e in root.iter(f"{SVG}circle")
        if e.get("class") == "cumulative"
    ]


@pytest.mark.parametrize("sort", ["count", "cost"])
async def test_breakdown_svg_bars_carry_the_json_values(client, tokens, session_factory, sort):
    await varied_flags(session_factory)

    body = await stat_json(client, tokens, "breakdown", by="service", sort=sort)
    root = parse_svg(await stat(client, tokens, "breakdown", by="service", sort=sort, format="svg"))

    rows = body["rows"]
    assert len(rows) == 3
    shown = bars(root)
    assert [bar.get("data-key") for bar in shown] == [row["key"] for row in rows]
    assert [bar.get("data-label") for bar in shown] == [row["label"] for row in rows]
    if sort == "count":
        assert [bar.get("data-value") for bar in shown] == [str(row["count"]) for row in rows]
    else:
        assert [Decimal(bar.get("data-value", "")) for bar in shown] == [
            Decimal(row["estimated_cost"]) for row in rows
        ]
    assert cumulative_points(root) == [row["cumulative_share"] for row in rows]


async def test_breakdown_svg_folds_the_tail_beyond_fifteen_bars_into_other(
    client, tokens, session_factory
):
    # 17 departments: two with three flags, fifteen with one; the chart shows 14 and "Other".
    departments = [f"Dept {i:02d}" for i in range(17)]
    for i, department in enumerate(departments):
        for _ in range(3 if i < 2 else 1):
            await make_flag(session_factory, encounter=encounter(department))

    body = await stat_json(client, tokens, "breakdown", by="department")
    root = parse_svg(await stat(client, tokens, "breakdown", by="department", format="svg"))

    rows = body["rows"]
    assert len(rows) == 17
    shown = bars(root)
    assert len(shown) == 15
    assert [bar.get("data-value") for bar in shown[:14]] == [str(r["count"]) for r in rows[:14]]
    assert [bar.get("data-label") for bar in shown[:14]] == [r["label"] for r in rows[:14]]
    other = shown[14]
    assert other.get("data-label") == "Other (3 more)"
    assert other.get("data-value") == str(sum(r["count"] for r in rows[14:]))
    assert cumulative_points(root)[-1] == rows[-1]["cumulative_share"] == 1.0


async def test_weekly_svg_has_one_bar_per_week_with_its_count(client, tokens, session_factory):
    await varied_flags(session_factory)

    body = await stat_json(client, tokens, "weekly")
    root = parse_svg(await stat(client, tokens, "weekly", format="svg"))

    weeks = body["weeks"]
    assert [w["count"] for w in weeks] == [3, 0, 3]
    assert [(bar.get("data-key"), bar.get("data-value")) for bar in bars(root)] == [
        (w["week_start"], str(w["count"])) for w in weeks
    ]


async def test_reply_times_svg_has_one_bar_per_band_with_its_count(client, tokens, session_factory):
    await flags_with_reply_delays(session_factory)

    body = await stat_json(client, tokens, "reply-times")
    root = parse_svg(await stat(client, tokens, "reply-times", format="svg"))

    assert [(bar.get("data-key"), bar.get("data-value")) for bar in bars(root)] == [
        (b["key"], str(b["count"])) for b in body["buckets"]
    ]
    assert [bar.get("data-value") for bar in bars(root)] == ["1", "2", "2", "1", "2", "2"]


async def test_svg_escapes_a_department_name_that_looks_like_markup(
    client, tokens, session_factory
):
    name = '<script>alert("x")</script> & Co'
    await make_flag(session_factory, encounter=encounter(name))

    root = parse_svg(await stat(client, tokens, "breakdown", by="department", format="svg"))

    assert [bar.get("data-label") for bar in bars(root)] == [name]
    assert root.find(f".//{SVG}script") is None


async def test_outcomes_have_no_chart_so_svg_is_422(client, tokens):
    response = await stat(client, tokens, "outcomes", format="svg")

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "format=csv" in response.json()["detail"]


async def test_an_unknown_format_is_422_naming_it(client, tokens):
    response = await stat(client, tokens, "weekly", format="xlsx")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [error["field"] for error in response.json()["errors"]] == ["format"]


async def test_csv_file_name_carries_the_period(client, tokens, session_factory):
    await varied_flags(session_factory)

    ranged = await stat(
        client, tokens, "weekly", format="csv", created_from="2026-03-02", created_to="2026-03-29"
    )
    open_ended = await stat(client, tokens, "weekly", format="csv", created_to="2026-03-29")

    assert (
        'filename="valueloop-weekly-2026-03-02-to-2026-03-29.csv"'
        in (ranged.headers["content-disposition"])
    )
    assert (
        'filename="valueloop-weekly-start-to-2026-03-29.csv"'
        in (open_ended.headers["content-disposition"])
    )
