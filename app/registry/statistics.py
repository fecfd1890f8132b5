"""Where low-value care concentrates: counts and estimated cost by service, reason, driver and
department, the weekly trend, and how well the loop closes.

About systems, never people: there is deliberately no breakdown by ordering clinician or
reporter.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.registry import repository
from app.registry.catalog import DRIVER_LABELS, REASON_LABELS, Driver, Reason
from app.registry.repository import Dimension, FlagFilters, GroupCount
from app.registry.schemas import Breakdown, BreakdownRow, LoopStats, WeeklyTrend, WeekRow
from app.registry.views import cents_to_amount


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


async def breakdown(
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


async def weekly(session: AsyncSession, filters: FlagFilters) -> WeeklyTrend:
    """Flags per ISO week; weeks without flags are shown as zero, not left out."""
    found = {
        week: (count, cost)
        for week, count, cost in await repository.counts_by_week(session, filters)
    }
    first = week_start_of(filters.created_from) or (min(found) if found else None)
    last = week_start_of(filters.created_to) or (max(found) if found else None)
    weeks: list[WeekRow] = []
    if first is not None and last is not None:
        week = first
        while week <= last:
            count, cost = found.get(week, (0, 0))
            weeks.append(
                WeekRow(week_start=week, count=count, estimated_cost=cents_to_amount(cost))
            )
            week += timedelta(days=7)
    return WeeklyTrend(date_from=filters.created_from, date_to=filters.created_to, weeks=weeks)


def week_start_of(day: date | None) -> date | None:
    return None if day is None else day - timedelta(days=day.weekday())


async def loop(session: AsyncSession, filters: FlagFilters) -> LoopStats:
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
