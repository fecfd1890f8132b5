"""Time to close and cycle time: written with the moves that cause them, read as medians."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.flags import review
from app.flags.filters import FlagFilters
from app.flags.models import Flag, FlagEvent
from app.flags.schemas import TransitionIn
from app.insights import statistics
from app.kit.time import utcnow, week_start
from tests.factories import make_flag

ANALYST = review.Actor(name="A. Rivera", role="analyst")
REPLY = "Thanks: we looked into it."


async def backdate(
    session_factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, created_at: datetime
) -> None:
    """The flag and its creation event as if made at ``created_at``."""
    async with session_factory() as session:
        await session.execute(
            sa.update(Flag)
            .where(col(Flag.id) == flag_id)
            .values(created_at=created_at, created_week=week_start(created_at))
        )
        await session.execute(
            sa.update(FlagEvent).where(col(FlagEvent.flag_id) == flag_id).values(at=created_at)
        )
        await session.commit()


async def move(
    session_factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, to: str, **extra: Any
) -> Flag:
    async with session_factory() as session:
        flag = await review.transition(
            session, flag_id, TransitionIn(to=to, **extra), actor=ANALYST, if_match=None
        )
        await session.commit()
        return flag


async def test_moves_store_the_stay_and_ending_a_review_stores_the_time_to_close(
    session_factory, session
):
    flag = await make_flag(session_factory)
    await backdate(session_factory, flag.id, utcnow() - timedelta(hours=5))

    await move(session_factory, flag.id, "triaged")
    ended = await move(session_factory, flag.id, "not_low_value", reply=REPLY)

    stays = (
        await session.execute(
            select(FlagEvent.from_status, FlagEvent.status_seconds)
            .where(FlagEvent.flag_id == flag.id, FlagEvent.kind == "status_change")
            .order_by(col(FlagEvent.id))
        )
    ).all()
    assert stays[0][0] == "submitted"
    assert stays[0][1] == pytest.approx(5 * 3600, abs=60)
    assert stays[1][0] == "triaged"
    assert stays[1][1] == pytest.approx(0, abs=60)
    assert ended.closed_at is not None
    assert ended.close_wait_seconds == pytest.approx(5 * 3600, abs=60)


async def test_reopening_clears_the_close_time_and_ending_again_sets_it_anew(session_factory):
    flag = await make_flag(session_factory)
    await move(session_factory, flag.id, "triaged")
    await move(session_factory, flag.id, "not_low_value", reply=REPLY)

    reopened = await move(session_factory, flag.id, "triaged")
    assert (reopened.closed_at, reopened.close_wait_seconds) == (None, None)

    again = await move(session_factory, flag.id, "not_low_value", reply=REPLY)
    assert again.closed_at is not None
    assert again.close_wait_seconds is not None


async def ended_flag(
    session_factory: async_sessionmaker[AsyncSession],
    reason: str,
    hours: float,
    created_at: datetime,
) -> Flag:
    flag = await make_flag(session_factory, reason=reason)
    async with session_factory() as session:
        stored = await session.get(Flag, flag.id)
        assert stored is not None
        stored.created_at = created_at
        stored.created_week = week_start(created_at)
        stored.status = "closed"
        stored.closed_at = created_at + timedelta(hours=hours)
        stored.close_wait_seconds = hours * 3600
        await session.commit()
    return flag


MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def test_median_time_to_close_overall_and_by_reason(session_factory, session):
    for hours in (2, 4, 30):
        await ended_flag(session_factory, "not_indicated", hours, MONDAY)
    for hours in (10, 20):
        await ended_flag(session_factory, "repeat_duplicate", hours, MONDAY)
    await make_flag(session_factory)  # still open: not in the medians

    result = await statistics.close_times(session, FlagFilters())

    assert (result.closed, result.median_hours) == (5, 10.0)
    by_reason = {row.reason: (row.closed, row.median_hours) for row in result.by_reason}
    assert by_reason == {"not_indicated": (3, 4.0), "repeat_duplicate": (2, 15.0)}


async def test_time_to_close_follows_the_filters(session_factory, session):
    await ended_flag(session_factory, "not_indicated", 2, MONDAY)
    await ended_flag(session_factory, "not_indicated", 8, MONDAY + timedelta(days=10))

    result = await statistics.close_times(
        session, FlagFilters(created_from=MONDAY.date(), created_to=MONDAY.date())
    )

    assert (result.closed, result.median_hours) == (1, 2.0)


async def test_cycle_time_is_the_median_stay_in_each_status(session_factory, session):
    for hours in (1, 3, 9):
        flag = await make_flag(session_factory)
        async with session_factory() as arrange:
            arrange.add(
                FlagEvent(
                    flag_id=flag.id,
                    at=utcnow(),
                    kind="status_change",
                    actor_name="A",
                    actor_role="analyst",
                    from_status="submitted",
                    to_status="triaged",
                    status_seconds=hours * 3600,
                )
            )
            await arrange.commit()

    result = await statistics.cycle_time(session, FlagFilters())

    rows = {row.status.value: (row.stays, row.median_hours) for row in result.statuses}
    assert rows["submitted"] == (3, 3.0)
    assert rows["triaged"] == (0, None)


async def test_close_and_cycle_endpoints_answer_json_csv_and_svg(client, tokens, session_factory):
    await ended_flag(session_factory, "not_indicated", 6, MONDAY)
    headers = tokens.header("lead")

    close = await client.get("/api/v1/stats/close-times", headers=headers)
    cycle = await client.get("/api/v1/stats/cycle-time?format=csv", headers=headers)
    chart = await client.get("/api/v1/stats/close-times?format=svg", headers=headers)

    assert close.json()["median_hours"] == 6.0
    assert close.json()["by_reason"][0]["label"]
    assert next(csv.reader(io.StringIO(cycle.text))) == ["status", "label", "stays", "median_hours"]
    assert chart.headers["content-type"].startswith("image/svg+xml")


async def test_the_export_carries_closed_time_and_hours_to_reply_and_to_close(
    client, tokens, session_factory
):
    await ended_flag(session_factory, "not_indicated", 6, MONDAY)
    async with session_factory() as session:
        await session.execute(
            sa.update(Flag).values(
                first_reply_at=MONDAY + timedelta(hours=3), reply_wait_seconds=3 * 3600
            )
        )
        await session.commit()

    response = await client.get(
        "/api/v1/exports/flags?format=ndjson", headers=tokens.header("analyst")
    )
    row = json.loads(response.text.splitlines()[0])
    table = list(
        csv.DictReader(
            io.StringIO(
                (await client.get("/api/v1/exports/flags", headers=tokens.header("analyst"))).text
            )
        )
    )

    assert row["closed_at"] == (MONDAY + timedelta(hours=6)).isoformat()
    assert (row["hours_to_first_reply"], row["hours_to_close"]) == (3.0, 6.0)
    assert (table[0]["hours_to_first_reply"], table[0]["hours_to_close"]) == ("3.0", "6.0")
