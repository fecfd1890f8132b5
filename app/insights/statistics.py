"""Where low-value care concentrates: counts and estimated cost by service, reason, driver and
department, the weekly trend, and how well the loop closes.

About systems, never people: there is deliberately no breakdown by ordering clinician or
reporter.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import UnprocessableContent
from app.flags.catalog import DRIVER_LABELS, REASON_LABELS, Driver, Reason
from app.flags.costs import cents_to_amount
from app.flags.filters import FlagFilters
from app.flags.workflow import END_STATES, STATUS_LABELS, Status
from app.insights import repository
from app.insights.repository import Dimension, GroupCount
from app.insights.schemas import (
    Breakdown,
    BreakdownRow,
    CloseTimes,
    CycleTime,
    LoopStats,
    Outcomes,
    ReasonCloseTime,
    ReplyTimeBucket,
    ReplyTimes,
    StatusCount,
    StatusStay,
    WeeklyTrend,
    WeekRow,
)
from app.kit.coalesce import Coalescer
from app.organizations.scope import scope_of

# Identical statistics requests running at the same time share one computation (the page asks
# for a statistic's JSON table and its SVG chart at once).
MAX_TREND_WEEKS = 1044  # 20 years of weekly rows
IN_FLIGHT = Coalescer()


def filters_key(session: AsyncSession, filters: FlagFilters) -> str:
    """The filters as a key for IN_FLIGHT: equal filters seen by the same organization scope,
    equal key. The scope is part of it: two organizations asking the same question at once
    must never share an answer."""
    scope = scope_of(session).organization_id
    return json.dumps({"scope": str(scope), **filters.describe()}, sort_keys=True)


class BreakdownSort(StrEnum):
    COUNT = "count"
    COST = "cost"


def _key_and_label(dimension: Dimension, group: GroupCount) -> tuple[str | None, str]:
    if dimension is Dimension.SERVICE:
        system, code = group.key
        key = f"{system}|{code}" if system else code
        return key, group.label or code or "Uncoded order"
    (value,) = group.key
    if dimension is Dimension.REASON:
        return value, REASON_LABELS[Reason(value)] if value else "Not stated"
    if dimension is Dimension.DRIVER:
        return value, DRIVER_LABELS[Driver(value)] if value else "Not stated"
    return value, value or "Department not recorded"


async def _breakdown(
    session: AsyncSession, dimension: Dimension, filters: FlagFilters, sort: BreakdownSort
) -> Breakdown:
    """A Pareto table: rows sorted by count or cost, each with its cumulative share."""
    groups = await repository.counts_by(session, dimension, filters)
    if sort is BreakdownSort.COST:
        groups.sort(key=lambda g: (-g.cost_cents, -g.count, str(g.key)))
    else:
        groups.sort(key=lambda g: (-g.count, -g.cost_cents, str(g.key)))
    total = sum(g.count for g in groups)
    total_cost = sum(g.cost_cents for g in groups)
    measure_total = total_cost if sort is BreakdownSort.COST else total
    rows: list[BreakdownRow] = []
    running = 0
    for group in groups:
        running += group.cost_cents if sort is BreakdownSort.COST else group.count
        key, label = _key_and_label(dimension, group)
        rows.append(
            BreakdownRow(
                key=key,
                label=label,
                count=group.count,
                estimated_cost=cents_to_amount(group.cost_cents),
                share=round(group.count / total, 4) if total else 0.0,
                cumulative_share=round(running / measure_total, 4) if measure_total else 0.0,
            )
        )
    return Breakdown(
        by=dimension.value,
        sort=sort.value,
        date_from=filters.created_from,
        date_to=filters.created_to,
        total_count=total,
        total_estimated_cost=cents_to_amount(total_cost),
        rows=rows,
    )


async def _weekly(session: AsyncSession, filters: FlagFilters) -> WeeklyTrend:
    """Flags per ISO week; weeks without flags are shown as zero, not left out."""
    found = {
        week: (count, cost)
        for week, count, cost in await repository.counts_by_week(session, filters)
    }
    first = week_start_of(filters.created_from) or (min(found) if found else None)
    last = week_start_of(filters.created_to) or (max(found) if found else None)
    weeks: list[WeekRow] = []
    if first is not None and last is not None:
        count_of_weeks = (last - first).days // 7 + 1
        if count_of_weeks > MAX_TREND_WEEKS:
            # Every empty week is a row: a range of centuries is megabytes of zeros.
            raise UnprocessableContent(
                f"The weekly trend covers at most {MAX_TREND_WEEKS} weeks (20 years); "
                f"{first} to {last} is {count_of_weeks}. Narrow created_from and created_to."
            )
        # Counted, not stepped past the end: the week after 9999-12-27 is no date.
        for number in range(count_of_weeks):
            week = first + timedelta(days=7 * number)
            count, cost = found.get(week, (0, 0))
            weeks.append(
                WeekRow(week_start=week, count=count, estimated_cost=cents_to_amount(cost))
            )
    return WeeklyTrend(date_from=filters.created_from, date_to=filters.created_to, weeks=weeks)


def week_start_of(day: date | None) -> date | None:
    return None if day is None else day - timedelta(days=day.weekday())


async def _loop(session: AsyncSession, filters: FlagFilters) -> LoopStats:
    counts = await repository.loop_counts(session, filters)
    median = counts.median_seconds_to_first_reply
    return LoopStats(
        date_from=filters.created_from,
        date_to=filters.created_to,
        flags=counts.flags,
        replied=counts.replied,
        identifiable_flags=counts.identifiable,
        identifiable_replied=counts.identifiable_replied,
        closed_loop_rate=(
            round(counts.identifiable_replied / counts.identifiable, 4)
            if counts.identifiable
            else None
        ),
        median_hours_to_first_reply=round(median / 3600, 2) if median is not None else None,
    )


async def _outcomes(session: AsyncSession, filters: FlagFilters) -> Outcomes:
    """Where flags stand, and how many ended reviews closed with an action taken.

    ``closed`` is reachable only through ``action_taken`` (see the workflow), so a closed flag
    is one where something was done about the low-value care.
    """
    counts = await repository.counts_by_status(session, filters)
    ended = sum(counts.get(status.value, 0) for status in END_STATES)
    closed = counts.get(Status.CLOSED.value, 0)
    return Outcomes(
        date_from=filters.created_from,
        date_to=filters.created_to,
        by_status=[
            StatusCount(status=status, label=label, count=counts.get(status.value, 0))
            for status, label in STATUS_LABELS.items()
        ],
        ended=ended,
        closed_with_action=closed,
        closed_with_action_share=round(closed / ended, 4) if ended else None,
    )


REPLY_TIME_LABELS: dict[str, str] = {
    "within_1d": "Within a day",
    "1d_to_3d": "1 to 3 days",
    "3d_to_7d": "3 to 7 days",
    "7d_to_14d": "7 to 14 days",
    repository.REPLY_TIME_OVER: "Over 14 days",
    repository.UNANSWERED: "Not answered yet",
}


async def _reply_times(session: AsyncSession, filters: FlagFilters) -> ReplyTimes:
    """Time from flag to first reply in bands (the last band: still waiting)."""
    counts = await repository.reply_time_buckets(session, filters)
    replied = sum(count for key, count in counts.items() if key != repository.UNANSWERED)
    median = await repository.median_seconds_given_replies(session, filters, replied_count=replied)
    return ReplyTimes(
        date_from=filters.created_from,
        date_to=filters.created_to,
        buckets=[
            ReplyTimeBucket(key=key, label=label, count=counts.get(key, 0))
            for key, label in REPLY_TIME_LABELS.items()
        ],
        median_hours=round(median / 3600, 2) if median is not None else None,
    )


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


async def _close_times(session: AsyncSession, filters: FlagFilters) -> CloseTimes:
    """Median time from flag to the end of its review, overall and by reason."""
    closed, median, by_reason = await repository.close_waits(session, filters)
    return CloseTimes(
        date_from=filters.created_from,
        date_to=filters.created_to,
        closed=closed,
        median_hours=_hours(median),
        by_reason=[
            ReasonCloseTime(
                reason=reason,
                label=REASON_LABELS[Reason(reason)],
                closed=count,
                median_hours=_hours(seconds),
            )
            for reason, count, seconds in by_reason
        ],
    )


async def _cycle_time(session: AsyncSession, filters: FlagFilters) -> CycleTime:
    """Median stay in each status, in workflow order; statuses never left show no stays."""
    stays = {
        status: (count, seconds)
        for status, count, seconds in await repository.status_stays(session, filters)
    }
    return CycleTime(
        date_from=filters.created_from,
        date_to=filters.created_to,
        statuses=[
            StatusStay(
                status=status,
                label=label,
                stays=stays.get(status.value, (0, None))[0],
                median_hours=_hours(stays.get(status.value, (0, None))[1]),
            )
            for status, label in STATUS_LABELS.items()
        ],
    )


async def close_times(session: AsyncSession, filters: FlagFilters) -> CloseTimes:
    return await IN_FLIGHT.run(
        ("close_times", filters_key(session, filters)), lambda: _close_times(session, filters)
    )


async def cycle_time(session: AsyncSession, filters: FlagFilters) -> CycleTime:
    return await IN_FLIGHT.run(
        ("cycle_time", filters_key(session, filters)), lambda: _cycle_time(session, filters)
    )


async def breakdown(
    session: AsyncSession, dimension: Dimension, filters: FlagFilters, sort: BreakdownSort
) -> Breakdown:
    return await IN_FLIGHT.run(
        ("breakdown", dimension.value, sort.value, filters_key(session, filters)),
        lambda: _breakdown(session, dimension, filters, sort),
    )


async def weekly(session: AsyncSession, filters: FlagFilters) -> WeeklyTrend:
    return await IN_FLIGHT.run(
        ("weekly", filters_key(session, filters)), lambda: _weekly(session, filters)
    )


async def loop(session: AsyncSession, filters: FlagFilters) -> LoopStats:
    return await IN_FLIGHT.run(
        ("loop", filters_key(session, filters)), lambda: _loop(session, filters)
    )


async def outcomes(session: AsyncSession, filters: FlagFilters) -> Outcomes:
    return await IN_FLIGHT.run(
        ("outcomes", filters_key(session, filters)), lambda: _outcomes(session, filters)
    )


async def reply_times(session: AsyncSession, filters: FlagFilters) -> ReplyTimes:
    return await IN_FLIGHT.run(
        ("reply_times", filters_key(session, filters)), lambda: _reply_times(session, filters)
    )
