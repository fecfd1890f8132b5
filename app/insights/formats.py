"""The statistics as CSV tables and server-drawn SVG charts, besides JSON.

Every chart on the Insights page is one of these representations of the same API response,
so a chart, its table and its CSV can never disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.insights.export import neutralise_formula
from app.insights.schemas import (
    Breakdown,
    CdsDaily,
    CdsRules,
    CloseTimes,
    CycleTime,
    ImprovementsLive,
    Outcomes,
    ReplyTimes,
    WeeklyTrend,
)
from app.kit.charts import Bar, bar_chart, pareto_chart


class StatsFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    SVG = "svg"


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SVG_MEDIA_TYPE = "image/svg+xml"
NO_FLAGS = "No flags in this range"

_DIMENSION_NAMES = {
    "service": "service (order)",
    "reason": "reason",
    "driver": "suspected driver",
    "department": "department",
}


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # Labels are user data (department names, order displays): no formulas in a spreadsheet.
        writer.writerow([neutralise_formula(value) for value in row])
    return buffer.getvalue()


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _dollars(value: float | Decimal) -> str:
    return f"${value:,.2f}"


def _dollars_short(value: float) -> str:
    return f"${value:,.0f}"


def breakdown_csv(breakdown: Breakdown) -> str:
    return _csv(
        ["key", "label", "flags", "share", "cumulative_share", "estimated_cost_usd"],
        (
            [row.key, row.label, row.count, row.share, row.cumulative_share, row.estimated_cost]
            for row in breakdown.rows
        ),
    )


def breakdown_svg(breakdown: Breakdown) -> str:
    by_cost = breakdown.sort == "cost"
    bars = [
        Bar(
            label=row.label,
            value=float(row.estimated_cost) if by_cost else row.count,
            value_text=_dollars(row.estimated_cost) if by_cost else _count(row.count),
            key=row.key,
        )
        for row in breakdown.rows
    ]
    measure = "estimated cost" if by_cost else "flags"
    return pareto_chart(
        bars,
        [row.cumulative_share for row in breakdown.rows],
        title=f"Pareto of {measure} by {_DIMENSION_NAMES.get(breakdown.by, breakdown.by)}",
        value_axis="Estimated cost (USD)" if by_cost else "Flags",
        format_value=_dollars_short if by_cost else _count,
        empty_text=NO_FLAGS,
    )


def weekly_csv(trend: WeeklyTrend) -> str:
    return _csv(
        ["week_start", "flags", "estimated_cost_usd"],
        ([week.week_start.isoformat(), week.count, week.estimated_cost] for week in trend.weeks),
    )


def weekly_svg(trend: WeeklyTrend) -> str:
    bars = [
        Bar(
            label=week.week_start.isoformat(),
            value=week.count,
            value_text=_count(week.count),
            key=week.week_start.isoformat(),
        )
        for week in trend.weeks
    ]
    return bar_chart(
        bars, title="Flags per week", value_axis="Flags", format_value=_count, empty_text=NO_FLAGS
    )


def reply_times_csv(times: ReplyTimes) -> str:
    return _csv(
        ["key", "label", "flags"],
        ([bucket.key, bucket.label, bucket.count] for bucket in times.buckets),
    )


def reply_times_svg(times: ReplyTimes) -> str:
    bars = [
        Bar(label=bucket.label, value=bucket.count, value_text=_count(bucket.count), key=bucket.key)
        for bucket in times.buckets
    ]
    return bar_chart(
        bars,
        title="Time to first reply",
        value_axis="Flags",
        format_value=_count,
        empty_text=NO_FLAGS,
    )


def outcomes_csv(outcomes: Outcomes) -> str:
    return _csv(
        ["status", "label", "flags"],
        ([row.status.value, row.label, row.count] for row in outcomes.by_status),
    )


def _hours_text(value: float) -> str:
    return f"{value:,.1f} h"


def close_times_csv(times: CloseTimes) -> str:
    rows: list[list[Any]] = [["", "All reasons", times.closed, times.median_hours]]
    rows += [[row.reason, row.label, row.closed, row.median_hours] for row in times.by_reason]
    return _csv(["reason", "label", "closed", "median_hours_to_close"], rows)


def close_times_svg(times: CloseTimes) -> str:
    bars = [
        Bar(
            label=row.label,
            value=row.median_hours or 0.0,
            value_text=_hours_text(row.median_hours or 0.0),
            key=row.reason,
        )
        for row in times.by_reason
    ]
    return bar_chart(
        bars,
        title="Median time to close by reason",
        value_axis="Hours",
        format_value=_hours_text,
        empty_text="No review ended in this range",
    )


def cycle_time_csv(cycle: CycleTime) -> str:
    return _csv(
        ["status", "label", "stays", "median_hours"],
        ([row.status.value, row.label, row.stays, row.median_hours] for row in cycle.statuses),
    )


def cycle_time_svg(cycle: CycleTime) -> str:
    bars = [
        Bar(
            label=row.label,
            value=row.median_hours or 0.0,
            value_text=_hours_text(row.median_hours or 0.0),
            key=row.status.value,
        )
        for row in cycle.statuses
        if row.stays
    ]
    return bar_chart(
        bars,
        title="Median time in each status",
        value_axis="Hours",
        format_value=_hours_text,
        empty_text="No status changes in this range",
    )


def cds_rules_csv(cds: CdsRules) -> str:
    """One row per rule; the override reasons in one cell as ``code=count`` pairs."""
    return _csv(
        [
            "rule_id",
            "title",
            "orders_evaluated",
            "cards_shown",
            "accepted",
            "overridden",
            "acceptance_rate",
            "override_reasons",
            "clinician_flags",
            "catches",
        ],
        (
            [
                row.rule_id,
                row.title,
                row.evaluated,
                row.shown,
                row.accepted,
                row.overridden,
                row.acceptance_rate,
                "; ".join(f"{r.code or 'none'}={r.count}" for r in row.override_reasons),
                row.clinician_flags,
                row.catches,
            ]
            for row in cds.rules
        ),
    )


def cds_daily_csv(daily: CdsDaily) -> str:
    return _csv(
        ["day", "orders_evaluated", "cards_shown", "accepted", "overridden"],
        (
            [day.day.isoformat(), day.evaluated, day.shown, day.accepted, day.overridden]
            for day in daily.days
        ),
    )


def improvements_csv(found: ImprovementsLive) -> str:
    """One row per improvement that went live in the period."""
    return _csv(
        [
            "improvement_id",
            "title",
            "kind",
            "go_live",
            "flags_resolved",
            "annual_cost_at_stake_usd",
            "flags_before",
            "flags_after",
            "rate_ratio",
            "ci95_low",
            "ci95_high",
            "enough_data",
        ],
        (
            [
                row.id,
                row.title,
                row.kind,
                row.go_live,
                row.flags_resolved,
                row.annual_cost_at_stake,
                row.before_flags,
                row.after_flags,
                row.rate_ratio,
                row.ci95[0] if row.ci95 else None,
                row.ci95[1] if row.ci95 else None,
                row.enough_data,
            ]
            for row in found.improvements
        ),
    )
