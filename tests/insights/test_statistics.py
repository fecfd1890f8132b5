"""Statistics on known data: exact counts, costs, Pareto shares, weeks and loop metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags.filters import FlagFilters
from app.flags.models import Flag
from app.insights import statistics
from app.insights.repository import Dimension
from app.insights.statistics import BreakdownSort
from app.kit.time import week_start
from tests.factories import make_flag

CPT = "http://www.ama-assn.org/go/cpt"
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 2026-03-02 is a Monday


def order(code: str, display: str) -> dict[str, Any]:
    return {
        "resource_type": "ServiceRequest",
        "fhir_id": f"sr-{code}",
        "code": {"system": CPT, "code": code, "display": display},
        "status": "active",
    }


def cost(amount: str | None) -> dict[str, Any] | None:
    if amount is None:
        return None
    return {"amount": amount, "source": "Medicare national reference price", "year": 2025}


async def flag_at(
    factory: async_sessionmaker[AsyncSession],
    created_at: datetime,
    *,
    replied_after: timedelta | None = None,
    **overrides: Any,
) -> Flag:
    """A flag as if it had been created at ``created_at`` (and first answered after a delay)."""
    flag = await make_flag(factory, **overrides)
    async with factory() as session:
        stored = await session.get(Flag, flag.id)
        assert stored is not None
        stored.created_at = created_at
        stored.created_week = week_start(created_at)
        stored.updated_at = created_at
        if replied_after is not None:
            stored.first_reply_at = created_at + replied_after
            stored.reply_wait_seconds = replied_after.total_seconds()
        await session.commit()
        return stored


MRI = order("72148", "MRI lumbar spine without contrast")
CT_HEAD = order("70450", "CT head without contrast")
VITAMIN_D = order("82306", "Vitamin D, 25-hydroxy level")


async def three_services(factory: async_sessionmaker[AsyncSession]) -> None:
    """MRI x3 at 207.64 (622.92), CT head x1 at 1000.00, vitamin D x2 at 29.60 (59.20)."""
    for _ in range(3):
        await flag_at(factory, MONDAY, order=MRI, estimated_cost=cost("207.64"))
    await flag_at(factory, MONDAY, order=CT_HEAD, estimated_cost=cost("1000.00"))
    for _ in range(2):
        await flag_at(factory, MONDAY, order=VITAMIN_D, estimated_cost=cost("29.60"))


def table(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (row.key, row.label, row.count, row.estimated_cost, row.share, row.cumulative_share)
        for row in rows
    ]


# --- breakdowns ---------------------------------------------------------------------------------


async def test_service_breakdown_sorted_by_count_gives_counts_costs_and_pareto_shares(
    session_factory, session
):
    await three_services(session_factory)

    result = await statistics.breakdown(
        session, Dimension.SERVICE, FlagFilters(), BreakdownSort.COUNT
    )

    assert result.total_count == 6
    assert result.total_estimated_cost == Decimal("1682.12")
    assert table(result.rows) == [
        (f"{CPT}|72148", "MRI lumbar spine without contrast", 3, Decimal("622.92"), 0.5, 0.5),
        (f"{CPT}|82306", "Vitamin D, 25-hydroxy level", 2, Decimal("59.20"), 0.3333, 0.8333),
        (f"{CPT}|70450", "CT head without contrast", 1, Decimal("1000.00"), 0.1667, 1.0),
    ]


async def test_service_breakdown_sorted_by_cost_accumulates_the_cost_share(
    session_factory, session
):
    await three_services(session_factory)

    result = await statistics.breakdown(
        session, Dimension.SERVICE, FlagFilters(), BreakdownSort.COST
    )

    # share stays each row's share of flags; cumulative_share runs over the sorted measure (cost):
    # 1000.00 / 1682.12 = 0.5945, (1000.00 + 622.92) / 1682.12 = 0.9648.
    assert table(result.rows) == [
        (f"{CPT}|70450", "CT head without contrast", 1, Decimal("1000.00"), 0.1667, 0.5945),
        (f"{CPT}|72148", "MRI lumbar spine without contrast", 3, Decimal("622.92"), 0.5, 0.9648),
        (f"{CPT}|82306", "Vitamin D, 25-hydroxy level", 2, Decimal("59.20"), 0.3333, 1.0),
    ]
    assert (result.by, result.sort) == ("service", "cost")


async def test_flags_without_a_cost_count_but_add_nothing_to_the_cost(session_factory, session):
    await flag_at(session_factory, MONDAY, order=MRI, estimated_cost=cost("207.64"))
    await flag_at(session_factory, MONDAY, order=MRI, estimated_cost=None)

    result = await statistics.breakdown(
        session, Dimension.SERVICE, FlagFilters(), BreakdownSort.COUNT
    )

    assert [(row.count, row.estimated_cost) for row in result.rows] == [(2, Decimal("207.64"))]
    assert result.total_estimated_cost == Decimal("207.64")


async def test_reason_breakdown_counts_each_reason_under_its_label(session_factory, session):
    for reason in ("not_indicated", "not_indicated", "low_benefit", "repeat_duplicate"):
        await flag_at(session_factory, MONDAY, reason=reason, estimated_cost=cost("10.00"))

    result = await statistics.breakdown(
        session, Dimension.REASON, FlagFilters(), BreakdownSort.COUNT
    )

    assert [(row.key, row.label, row.count, row.estimated_cost) for row in result.rows] == [
        ("not_indicated", "Not indicated", 2, Decimal("20.00")),
        # Equal counts and costs: ordered by key, so the table is stable between requests.
        ("low_benefit", "Low benefit for this patient", 1, Decimal("10.00")),
        ("repeat_duplicate", "Repeat or duplicate", 1, Decimal("10.00")),
    ]
    assert [row.cumulative_share for row in result.rows] == [0.5, 0.75, 1.0]


async def test_driver_breakdown_shows_a_missing_driver_as_not_stated(session_factory, session):
    for driver in ("patient_request", None, None, "order_set_default", "patient_request", None):
        await flag_at(session_factory, MONDAY, driver=driver)

    result = await statistics.breakdown(
        session, Dimension.DRIVER, FlagFilters(), BreakdownSort.COUNT
    )

    assert [(row.key, row.label, row.count) for row in result.rows] == [
        (None, "Not stated", 3),
        ("patient_request", "Patient request", 2),
        ("order_set_default", "Order-set default", 1),
    ]


async def test_department_breakdown_counts_by_encounter_department(session_factory, session):
    def encounter(department: str) -> dict[str, Any]:
        return {"fhir_id": "enc-1", "class_code": "AMB", "department": department}

    for department in ("Emergency Department",) * 3 + ("Neurology",) * 2:
        await flag_at(session_factory, MONDAY, encounter=encounter(department))
    await flag_at(session_factory, MONDAY, encounter=None)

    result = await statistics.breakdown(
        session, Dimension.DEPARTMENT, FlagFilters(), BreakdownSort.COUNT
    )

    assert [(row.key, row.label, row.count) for row in result.rows] == [
        ("Emergency Department", "Emergency Department", 3),
        ("Neurology", "Neurology", 2),
        (None, "Department not recorded", 1),
    ]


async def test_breakdown_of_an_empty_range_has_no_rows_and_zero_totals(session):
    result = await statistics.breakdown(
        session, Dimension.REASON, FlagFilters(), BreakdownSort.COST
    )

    assert (result.total_count, result.total_estimated_cost, result.rows) == (
        0,
        Decimal("0.00"),
        [],
    )


async def test_date_range_includes_whole_first_and_last_days_in_utc(session_factory, session):
    await flag_at(session_factory, datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    await flag_at(session_factory, datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    await flag_at(session_factory, datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC))
    await flag_at(session_factory, datetime(2026, 3, 9, 0, 0, tzinfo=UTC))
    one_week = FlagFilters(created_from=date(2026, 3, 2), created_to=date(2026, 3, 8))

    result = await statistics.breakdown(session, Dimension.REASON, one_week, BreakdownSort.COUNT)
    loop = await statistics.loop(session, one_week)

    assert result.total_count == 2
    assert loop.flags == 2
    assert (result.date_from, result.date_to) == (date(2026, 3, 2), date(2026, 3, 8))
    single_day = await statistics.breakdown(
        session,
        Dimension.REASON,
        FlagFilters(created_from=date(2026, 3, 9), created_to=date(2026, 3, 9)),
        BreakdownSort.COUNT,
    )
    assert single_day.total_count == 1


# --- weekly trend -------------------------------------------------------------------------------


async def test_weekly_trend_groups_by_iso_week_monday_and_zero_fills_gaps(session_factory, session):
    await flag_at(session_factory, MONDAY, estimated_cost=cost("100.00"))
    # Sunday 23:30 UTC is still the week that started on Monday 2 March.
    await flag_at(
        session_factory,
        datetime(2026, 3, 8, 23, 30, tzinfo=UTC),
        estimated_cost=cost("50.25"),
    )
    # Sunday evening in New York is already Monday 16 March in UTC.
    new_york = timezone(timedelta(hours=-5))
    await flag_at(
        session_factory, datetime(2026, 3, 15, 22, 0, tzinfo=new_york), estimated_cost=None
    )

    trend = await statistics.weekly(session, FlagFilters())

    assert [(week.week_start, week.count, week.estimated_cost) for week in trend.weeks] == [
        (date(2026, 3, 2), 2, Decimal("150.25")),
        (date(2026, 3, 9), 0, Decimal("0.00")),
        (date(2026, 3, 16), 1, Decimal("0.00")),
    ]


async def test_weekly_trend_spans_the_whole_requested_range_even_without_flags_at_its_ends(
    session_factory, session
):
    await flag_at(session_factory, datetime(2026, 3, 11, 12, 0, tzinfo=UTC))

    trend = await statistics.weekly(
        session, FlagFilters(created_from=date(2026, 2, 25), created_to=date(2026, 3, 20))
    )

    assert [(week.week_start, week.count) for week in trend.weeks] == [
        (date(2026, 2, 23), 0),
        (date(2026, 3, 2), 0),
        (date(2026, 3, 9), 1),
        (date(2026, 3, 16), 0),
    ]


async def test_weekly_trend_without_flags_or_range_is_empty(session):
    trend = await statistics.weekly(session, FlagFilters())

    assert trend.weeks == []


async def test_a_new_flag_is_filed_under_the_monday_of_its_creation_week(session_factory):
    flag = await make_flag(session_factory)

    assert flag.created_week == week_start(flag.created_at)
    assert flag.created_week.weekday() == 0


# --- closing the loop ---------------------------------------------------------------------------


async def five_flags_three_replied(factory: async_sessionmaker[AsyncSession]) -> None:
    await flag_at(factory, MONDAY, anonymity="identified", replied_after=timedelta(hours=1.5))
    await flag_at(factory, MONDAY, anonymity="confidential", replied_after=timedelta(hours=4))
    await flag_at(factory, MONDAY, anonymity="anonymous", replied_after=timedelta(hours=10))
    await flag_at(factory, MONDAY, anonymity="identified")
    await flag_at(factory, MONDAY, anonymity="anonymous")


async def test_loop_stats_count_replies_and_identifiable_reporters(session_factory, session):
    await five_flags_three_replied(session_factory)

    loop = await statistics.loop(session, FlagFilters())

    assert (loop.flags, loop.replied) == (5, 3)
    # Identified and confidential reporters can be answered; anonymous ones cannot.
    assert (loop.identifiable_flags, loop.identifiable_replied) == (3, 2)
    assert loop.closed_loop_rate == 0.6667


async def test_median_hours_to_first_reply_with_an_odd_number_of_replies(session_factory, session):
    await five_flags_three_replied(session_factory)  # replies after 1.5, 4 and 10 hours

    loop = await statistics.loop(session, FlagFilters())

    assert loop.median_hours_to_first_reply == 4.0


async def test_median_hours_to_first_reply_with_an_even_number_of_replies(session_factory, session):
    await five_flags_three_replied(session_factory)
    await flag_at(session_factory, MONDAY, replied_after=timedelta(hours=7))  # 1.5, 4, 7, 10

    loop = await statistics.loop(session, FlagFilters())

    assert loop.median_hours_to_first_reply == 5.5
    assert (loop.replied, loop.identifiable_flags, loop.identifiable_replied) == (4, 4, 3)
    assert loop.closed_loop_rate == 0.75


async def test_median_with_minutes_is_rounded_to_hundredths_of_an_hour(session_factory, session):
    await flag_at(session_factory, MONDAY, replied_after=timedelta(minutes=20))
    await flag_at(session_factory, MONDAY, replied_after=timedelta(minutes=45))

    loop = await statistics.loop(session, FlagFilters())

    assert loop.median_hours_to_first_reply == 0.54  # 32.5 minutes


async def test_loop_stats_without_replies_or_identifiable_reporters_have_no_rate(
    session_factory, session
):
    await flag_at(session_factory, MONDAY, anonymity="anonymous")

    loop = await statistics.loop(session, FlagFilters())

    assert (loop.flags, loop.replied, loop.identifiable_flags) == (1, 0, 0)
    assert loop.closed_loop_rate is None
    assert loop.median_hours_to_first_reply is None


async def test_loop_stats_follow_the_date_range(session_factory, session):
    await flag_at(session_factory, MONDAY, replied_after=timedelta(hours=2))
    await flag_at(session_factory, MONDAY + timedelta(days=14), replied_after=timedelta(hours=30))

    loop = await statistics.loop(
        session, FlagFilters(created_from=date(2026, 3, 16), created_to=date(2026, 3, 16))
    )

    assert (loop.flags, loop.replied, loop.median_hours_to_first_reply) == (1, 1, 30.0)


# --- over HTTP ----------------------------------------------------------------------------------


async def test_breakdown_endpoint_returns_the_pareto_table(client, tokens, session_factory):
    await three_services(session_factory)

    response = await client.get(
        "/api/v1/stats/breakdown",
        params={"by": "service", "sort": "cost", "created_from": "2026-03-02"},
        headers=tokens.header("lead"),
    )

    assert response.status_code == 200
    body = response.json()
    assert body["by"] == "service"
    assert body["sort"] == "cost"
    assert body["date_from"] == "2026-03-02"
    assert body["date_to"] is None
    assert body["total_count"] == 6
    assert body["total_estimated_cost"] == "1682.12"
    assert body["rows"][0] == {
        "key": f"{CPT}|70450",
        "label": "CT head without contrast",
        "count": 1,
        "estimated_cost": "1000.00",
        "share": 0.1667,
        "cumulative_share": 0.5945,
    }


async def test_breakdown_endpoint_refuses_an_unknown_dimension(client, tokens):
    response = await client.get(
        "/api/v1/stats/breakdown", params={"by": "reporter"}, headers=tokens.header("analyst")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "by"


@pytest.mark.parametrize(
    ("path", "first", "last", "said"),
    [
        ("/api/v1/stats/loop", "2026-03-09", "2026-03-02", "swap them"),
        # A row per week, empty ones too: centuries of them would be megabytes of zeros.
        ("/api/v1/stats/weekly", "0001-01-01", "9999-12-31", "at most 1044 weeks"),
    ],
)
async def test_stats_endpoints_refuse_a_range_they_cannot_answer(
    client, tokens, path, first, last, said
):
    response = await client.get(
        path,
        params={"created_from": first, "created_to": last},
        headers=tokens.header("analyst"),
    )

    assert response.status_code == 422
    assert said in response.json()["detail"]


async def test_weekly_endpoint_returns_zero_filled_weeks(client, tokens, session_factory):
    await flag_at(session_factory, MONDAY, estimated_cost=cost("12.50"))

    response = await client.get(
        "/api/v1/stats/weekly",
        params={"created_from": "2026-03-02", "created_to": "2026-03-15"},
        headers=tokens.header("analyst"),
    )

    assert response.status_code == 200
    assert response.json() == {
        "date_from": "2026-03-02",
        "date_to": "2026-03-15",
        "weeks": [
            {"week_start": "2026-03-02", "count": 1, "estimated_cost": "12.50"},
            {"week_start": "2026-03-09", "count": 0, "estimated_cost": "0.00"},
        ],
    }


async def test_loop_endpoint_returns_the_loop_metrics(client, tokens, session_factory):
    await five_flags_three_replied(session_factory)

    response = await client.get("/api/v1/stats/loop", headers=tokens.header("analyst"))

    assert response.status_code == 200
    assert response.json() == {
        "date_from": None,
        "date_to": None,
        "flags": 5,
        "replied": 3,
        "identifiable_flags": 3,
        "identifiable_replied": 2,
        "closed_loop_rate": 0.6667,
        "median_hours_to_first_reply": 4.0,
    }


async def test_stats_need_an_api_token(client):
    response = await client.get("/api/v1/stats/loop")

    assert response.status_code == 401
